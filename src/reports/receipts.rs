//! Receipt codes at rest: Argon2id under the deployment's receipt salt. The hash is
//! deterministic so a typed code can be looked up, and costly enough (a few milliseconds, well
//! under 25 ms) that a stolen database cannot be searched for codes cheaply; the online guessing
//! rate is held down by the rate limits. Every hash runs on the process's bounded Argon2 pool
//! ([`crate::hashing`]).

use std::sync::Arc;

use crate::hashing::{self, Busy, HashPool};

#[derive(Clone)]
pub struct ReceiptHasher {
    salt: [u8; 32],
    pool: Arc<HashPool>,
}

impl ReceiptHasher {
    /// A hasher for the deployment's 32-byte receipt salt, hashing on `pool`.
    pub fn new(salt: [u8; 32], pool: Arc<HashPool>) -> ReceiptHasher {
        ReceiptHasher { salt, pool }
    }

    /// The stored form (64 hex digits) of a normalised 16-digit code.
    ///
    /// Errors with [`Busy`] when the Argon2 pool's queue is full (the caller answers 503).
    pub async fn hash(&self, code: String) -> Result<String, Busy> {
        let salt = self.salt;
        self.pool
            .run(move |memory| hashing::receipt_hash(memory, &salt, &code))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_same_hash_other_salt_other_hash() {
        let pool = Arc::new(HashPool::new(1, 4));
        let a = ReceiptHasher::new([1; 32], pool.clone());
        let b = ReceiptHasher::new([2; 32], pool);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let h = |r: &ReceiptHasher, c: &str| {
                let (r, c) = (r.clone(), c.to_string());
                async move { r.hash(c).await.unwrap() }
            };
            assert_eq!(
                h(&a, "1234567890123456").await,
                h(&a, "1234567890123456").await
            );
            assert_ne!(
                h(&a, "1234567890123456").await,
                h(&a, "1234567890123457").await
            );
            assert_ne!(
                h(&a, "1234567890123456").await,
                h(&b, "1234567890123456").await
            );
            assert!(!h(&a, "1234567890123456").await.contains("1234567890123456"));
        });
    }
}
