//! Receipt codes at rest: Argon2id under the deployment's receipt salt. The hash is
//! deterministic so a typed code can be looked up, and costly enough (a few milliseconds, well
//! under 25 ms) that a stolen database cannot be searched for codes cheaply; the online guessing
//! rate is held down by the rate limits.

use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Clone)]
pub struct ReceiptHasher {
    salt: [u8; 32],
}

impl ReceiptHasher {
    pub fn new(salt: [u8; 32]) -> ReceiptHasher {
        ReceiptHasher { salt }
    }

    /// The stored form of a normalised 16-digit code. CPU-bound: call on a blocking thread.
    pub fn hash(&self, code: &str) -> String {
        let params = Params::new(8 * 1024, 2, 1, Some(32)).expect("valid Argon2 parameters");
        let mut out = [0u8; 32];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(code.as_bytes(), &self.salt, &mut out)
            .expect("Argon2 with a 32-byte salt and output cannot fail");
        hex::encode(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_code_same_hash_other_salt_other_hash() {
        let a = ReceiptHasher::new([1; 32]);
        let b = ReceiptHasher::new([2; 32]);
        assert_eq!(a.hash("1234567890123456"), a.hash("1234567890123456"));
        assert_ne!(a.hash("1234567890123456"), a.hash("1234567890123457"));
        assert_ne!(a.hash("1234567890123456"), b.hash("1234567890123456"));
        assert!(!a.hash("1234567890123456").contains("1234567890123456"));
    }
}
