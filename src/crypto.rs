//! Encryption at rest: XChaCha20-Poly1305 under the deployment's data key, a random 24-byte
//! nonce per value, and the owning row's id as associated data, so a ciphertext copied onto
//! another row does not decrypt. Stored form: nonce ‖ ciphertext+tag.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;

const NONCE_LEN: usize = 24;

#[derive(Clone)]
pub struct DataKey(XChaCha20Poly1305);

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey([redacted])")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the value could not be decrypted: wrong key, wrong row, or tampered data")]
pub struct DecryptError;

impl DataKey {
    pub fn new(key: [u8; 32]) -> DataKey {
        DataKey(XChaCha20Poly1305::new(&key.into()))
    }

    pub fn encrypt(&self, plaintext: &[u8], associated: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .0
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: associated.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encryption does not fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    pub fn decrypt(&self, stored: &[u8], associated: &str) -> Result<Vec<u8>, DecryptError> {
        if stored.len() < NONCE_LEN {
            return Err(DecryptError);
        }
        let (nonce, sealed) = stored.split_at(NONCE_LEN);
        self.0
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: associated.as_bytes(),
                },
            )
            .map_err(|_| DecryptError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_binds_to_the_row() {
        let key = DataKey::new([7u8; 32]);
        let sealed = key.encrypt("李某 11010519491231002X".as_bytes(), "report-1");
        assert!(!sealed.windows(6).any(|w| w == "李某".as_bytes()));
        assert_eq!(
            key.decrypt(&sealed, "report-1").unwrap(),
            "李某 11010519491231002X".as_bytes()
        );
        assert_eq!(key.decrypt(&sealed, "report-2"), Err(DecryptError));
        assert_eq!(
            DataKey::new([8u8; 32]).decrypt(&sealed, "report-1"),
            Err(DecryptError)
        );
        let mut tampered = sealed.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(key.decrypt(&tampered, "report-1"), Err(DecryptError));
        // Two encryptions of one value differ (random nonces).
        assert_ne!(
            sealed,
            key.encrypt("李某 11010519491231002X".as_bytes(), "report-1")
        );
    }
}
