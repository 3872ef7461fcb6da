//! Evidence files at rest: streamed straight into XChaCha20-Poly1305 STREAM encryption (64 KiB
//! chunks, the attachment id as associated data), written under `<data>/attachments/` with a
//! random name, never the client's. The type is detected from the content, not the name.
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

pub const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;
const NONCE: usize = 19;
const SNIFF: usize = 8 * 1024;

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
    pub sha256: String,
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
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Images, PDF, office documents, audio and video; nothing else.
pub fn accepted_type(head: &[u8]) -> Result<String, String> {
    match infer::get(head) {
        Some(t) => {
            let ok = matches!(
                t.matcher_type(),
                infer::MatcherType::Image
                    | infer::MatcherType::Audio
                    | infer::MatcherType::Video
                    | infer::MatcherType::Doc
            ) || t.mime_type() == "application/pdf";
            if ok {
                Ok(t.mime_type().to_string())
            } else {
                Err(t.mime_type().to_string())
            }
        }
        None => Err("unrecognised content".into()),
    }
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

    pub fn path_of(&self, storage_name: &str) -> PathBuf {
        self.dir.join(storage_name)
    }

    /// Encrypts `body` to disk as it arrives. Nothing is left on disk if it fails.
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
        let mut file = tokio::fs::File::create(temp).await?;
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        file.write_all(&nonce).await?;
        let mut encryptor = EncryptorBE32::from_aead(self.cipher(), nonce.as_slice().into());
        let aad = attachment_id.as_bytes();
        let mut hasher = Sha256::new();
        let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK * 2);
        let mut size: u64 = 0;
        let mut content_type: Option<String> = None;

        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|e| StoreError::Upload(e.to_string()))?;
            size += piece.len() as u64;
            if size > max_bytes {
                return Err(StoreError::TooLarge { limit: max_bytes });
            }
            hasher.update(&piece);
            buffer.extend_from_slice(&piece);
            if content_type.is_none() && buffer.len() >= SNIFF {
                content_type = Some(
                    accepted_type(&buffer)
                        .map_err(|detected| StoreError::UnsupportedType { detected })?,
                );
            }
            // Full chunks are sealed as they fill. The last chunk — shorter than a full one,
            // possibly empty — is sealed as last at the end, so a reader knows it by its size.
            while content_type.is_some() && buffer.len() >= CHUNK {
                let rest = buffer.split_off(CHUNK);
                let sealed = encryptor
                    .encrypt_next(Payload { msg: &buffer, aad })
                    .map_err(|_| StoreError::Upload("encryption failed".into()))?;
                file.write_all(&sealed).await?;
                buffer = rest;
            }
        }
        if size == 0 {
            return Err(StoreError::Empty);
        }
        let content_type = match content_type {
            Some(t) => t,
            None => accepted_type(&buffer)
                .map_err(|detected| StoreError::UnsupportedType { detected })?,
        };
        let sealed = encryptor
            .encrypt_last(Payload { msg: &buffer, aad })
            .map_err(|_| StoreError::Upload("encryption failed".into()))?;
        file.write_all(&sealed).await?;
        file.sync_all().await?;
        Ok(StoredFile {
            storage_name: String::new(),
            content_type,
            size,
            sha256: hex::encode(hasher.finalize()),
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

    fn pdf(len: usize) -> Vec<u8> {
        let mut data = b"%PDF-1.7\n".to_vec();
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
        let data = pdf(len);
        let pieces: Vec<Result<Bytes, std::io::Error>> = data
            .chunks(10_000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let stored = store
            .store("att-1", futures_util::stream::iter(pieces), 10 << 20)
            .await
            .unwrap();
        assert_eq!(stored.content_type, "application/pdf");
        assert_eq!(stored.size, len as u64);
        let on_disk = std::fs::read(store.path_of(&stored.storage_name)).unwrap();
        assert!(
            !on_disk.windows(8).any(|w| w == b"%PDF-1.7"),
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
        for len in [20, SNIFF + 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7] {
            round_trip(len).await;
        }
    }

    #[tokio::test]
    async fn oversize_and_unknown_types_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = AttachmentStore::new(dir.path(), [9; 32]);
        let big = vec![Ok::<_, std::io::Error>(Bytes::from(pdf(5000)))];
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
