//! Evidence files at rest: streamed straight into XChaCha20-Poly1305 STREAM encryption (64 KiB
//! chunks, the attachment id as associated data), written under `<data>/attachments/` with a
//! random name, never the client's. The type is detected from the content, not the name, and
//! identifying metadata is removed before encryption (`crate::evidence`).
//!
//! File layout: 19-byte stream nonce ‖ encrypted chunks (each 64 KiB + 16-byte tag; the last
//! one shorter, possibly just a tag).

use std::path::{Path, PathBuf};

use actix_web::web::Bytes;
use chacha20poly1305::aead::stream::{DecryptorBE32, EncryptorBE32};
use chacha20poly1305::aead::{KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;
use futures_util::{Stream, StreamExt};
use rand::RngCore;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::evidence::{self, EvidenceError};

pub const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const NONCE: usize = 19;

#[derive(Clone)]
pub struct AttachmentStore {
    dir: PathBuf,
    key: [u8; 32],
}

#[derive(Debug, Clone)]
pub struct StoredFile {
    pub storage_name: String,
    pub content_type: String,
    pub size: u64,
    /// SHA-256 of the stored (cleaned) content.
    pub sha256: String,
    /// The kinds of metadata removed on intake (`exif.gps`, `office.author` …), never values.
    pub removed: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("this kind of file is not accepted ({detected})")]
    UnsupportedType { detected: String },
    #[error("the file is empty")]
    Empty,
    #[error("the upload was interrupted: {0}")]
    Upload(String),
    /// A cleanable kind that could not be cleaned, or an archive with programs inside.
    #[error(transparent)]
    Refused(EvidenceError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

impl AttachmentStore {
    pub fn new(data_dir: &Path, key: [u8; 32]) -> AttachmentStore {
        AttachmentStore {
            dir: data_dir.join("attachments"),
            key,
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.key.into())
    }

    /// The folder the encrypted files live in (`<data>/attachments`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path_of(&self, storage_name: &str) -> PathBuf {
        self.dir.join(storage_name)
    }

    /// Reads `body` (at most `max_bytes`), types it and removes its metadata
    /// ([`evidence::clean`]), then encrypts it to disk. Nothing is left on disk if it fails.
    ///
    /// Errors: `TooLarge`, `Empty`, `UnsupportedType`, `Refused` (could not be cleaned, or
    /// holds programs), `Upload` (the client stream failed), `Io`.
    pub async fn store<S, E>(
        &self,
        attachment_id: &str,
        mut body: S,
        max_bytes: u64,
    ) -> Result<StoredFile, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        tokio::fs::create_dir_all(&self.dir).await?;
        let temp = self
            .dir
            .join(format!(".upload-{}", uuid::Uuid::new_v4().simple()));
        let result = self
            .write_encrypted(attachment_id, &mut body, max_bytes, &temp)
            .await;
        match result {
            Ok(mut stored) => {
                let mut name = [0u8; 16];
                rand::rngs::OsRng.fill_bytes(&mut name);
                stored.storage_name = hex::encode(name);
                tokio::fs::rename(&temp, self.path_of(&stored.storage_name)).await?;
                Ok(stored)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&temp).await;
                // Drain nothing further: the caller answers with the error.
                Err(e)
            }
        }
    }

    async fn write_encrypted<S, E>(
        &self,
        attachment_id: &str,
        body: &mut S,
        max_bytes: u64,
        temp: &Path,
    ) -> Result<StoredFile, StoreError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        // The whole file is needed to find and remove its metadata (an archive's directory is
        // at its end; a PDF's cross-reference table too), so it is read into memory first,
        // never more than `max_bytes`, and cleaned before a byte of it reaches the disk.
        let mut upload: Vec<u8> = Vec::new();
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| StoreError::Upload(e.to_string()))?;
            if upload.len() as u64 + piece.len() as u64 > max_bytes {
                return Err(StoreError::TooLarge { limit: max_bytes });
            }
            upload.extend_from_slice(&piece);
        }
        if upload.is_empty() {
            return Err(StoreError::Empty);
        }
        let cleaned = tokio::task::spawn_blocking(move || evidence::clean(upload))
            .await
            .map_err(|e| StoreError::Upload(format!("cleaning stopped: {e}")))?
            .map_err(|e| match e {
                EvidenceError::Unsupported { detected } => StoreError::UnsupportedType { detected },
                other => StoreError::Refused(other),
            })?;

        let mut file = tokio::fs::File::create(temp).await?;
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        file.write_all(&nonce).await?;
        let mut encryptor = EncryptorBE32::from_aead(self.cipher(), nonce.as_slice().into());
        let aad = attachment_id.as_bytes();
        let data = &cleaned.bytes;
        // Full chunks are sealed one by one; the last chunk — shorter than a full one,
        // possibly empty — is sealed as last, so a reader knows it by its size.
        let full_chunks = data.len() / CHUNK;
        for chunk in data.chunks_exact(CHUNK).take(full_chunks) {
            let sealed = encryptor
                .encrypt_next(Payload { msg: chunk, aad })
                .map_err(|_| StoreError::Upload("encryption failed".into()))?;
            file.write_all(&sealed).await?;
        }
        let sealed = encryptor
            .encrypt_last(Payload {
                msg: &data[full_chunks * CHUNK..],
                aad,
            })
            .map_err(|_| StoreError::Upload("encryption failed".into()))?;
        file.write_all(&sealed).await?;
        file.sync_all().await?;
        Ok(StoredFile {
            storage_name: String::new(),
            content_type: cleaned.content_type,
            size: data.len() as u64,
            sha256: hex::encode(Sha256::digest(data)),
            removed: cleaned.removed,
        })
    }

    /// The decrypted file as a stream of chunks. A tampered or misplaced file ends the stream
    /// with an error instead of yielding unauthenticated data.
    pub async fn open(
        &self,
        storage_name: &str,
        attachment_id: &str,
    ) -> std::io::Result<impl Stream<Item = std::io::Result<Bytes>>> {
        let mut file = tokio::fs::File::open(self.path_of(storage_name)).await?;
        let mut nonce = [0u8; NONCE];
        file.read_exact(&mut nonce).await?;
        let decryptor = DecryptorBE32::from_aead(self.cipher(), nonce.as_slice().into());
        let aad = attachment_id.as_bytes().to_vec();
        Ok(futures_util::stream::try_unfold(
            (file, Some(decryptor), aad),
            |(mut file, decryptor, aad)| async move {
                let Some(mut decryptor) = decryptor else {
                    return Ok(None);
                };
                let mut sealed = vec![0u8; CHUNK + TAG];
                let mut filled = 0;
                while filled < sealed.len() {
                    let n = file.read(&mut sealed[filled..]).await?;
                    if n == 0 {
                        break;
                    }
                    filled += n;
                }
                sealed.truncate(filled);
                let bad = || {
                    std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "attachment failed authentication",
                    )
                };
                if filled == CHUNK + TAG {
                    let plain = decryptor
                        .decrypt_next(Payload {
                            msg: &sealed,
                            aad: &aad,
                        })
                        .map_err(|_| bad())?;
                    Ok(Some((Bytes::from(plain), (file, Some(decryptor), aad))))
                } else {
                    let plain = decryptor
                        .decrypt_last(Payload {
                            msg: &sealed,
                            aad: &aad,
                        })
                        .map_err(|_| bad())?;
                    Ok(Some((Bytes::from(plain), (file, None, aad))))
                }
            },
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An MP3 (audio is stored as sent, so it must come back byte for byte).
    fn mp3(len: usize) -> Vec<u8> {
        let mut data = b"ID3\x03\x00\x00\x00\x00\x00\x00\xFF\xFB\x90\x00".to_vec();
        let mut i = 0u32;
        while data.len() < len {
            data.extend_from_slice(&i.to_le_bytes());
            i += 1;
        }
        data.truncate(len);
        data
    }

    async fn round_trip(len: usize) {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path(), [9; 32]);
        let data = mp3(len);
        let pieces: Vec<Result<Bytes, std::io::Error>> = data
            .chunks(10_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let stored = store
            .store("att-1", futures_util::stream::iter(pieces), 10 << 20)
            .await
            .unwrap();
        assert_eq!(stored.content_type, "audio/mpeg");
        assert_eq!(stored.size, len as u64);
        let on_disk = std::fs::read(store.path_of(&stored.storage_name)).unwrap();
        assert!(
            !on_disk.windows(4).any(|w| w == b"ID3\x03"),
            "ciphertext on disk"
        );
        let back: Vec<u8> = store
            .open(&stored.storage_name, "att-1")
            .await
            .unwrap()
            .map(|c| c.unwrap().to_vec())
            .concat()
            .await;
        assert_eq!(back, data);
        // Bound to its row: another id cannot read it.
        let other: Vec<std::io::Result<Bytes>> = store
            .open(&stored.storage_name, "att-2")
            .await
            .unwrap()
            .collect()
            .await;
        assert!(other.iter().any(|c| c.is_err()));
    }

    #[tokio::test]
    async fn files_round_trip_at_chunk_boundaries() {
        for len in [20, 8 * 1024 + 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7] {
            round_trip(len).await;
        }
    }

    #[tokio::test]
    async fn oversize_and_unknown_types_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path(), [9; 32]);
        let big = vec![Ok::<_, std::io::Error>(Bytes::from(mp3(5000)))];
        assert!(matches!(
            store
                .store("a", futures_util::stream::iter(big), 1000)
                .await,
            Err(StoreError::TooLarge { .. })
        ));
        let text = vec![Ok::<_, std::io::Error>(Bytes::from_static(
            b"just some plain text, not evidence",
        ))];
        assert!(matches!(
            store
                .store("b", futures_util::stream::iter(text), 1000)
                .await,
            Err(StoreError::UnsupportedType { .. })
        ));
        let left: Vec<_> = std::fs::read_dir(dir.path().join("attachments"))
            .unwrap()
            .collect();
        assert!(left.is_empty(), "no partial files remain");
    }
}
