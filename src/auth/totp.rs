//! TOTP (RFC 6238): SHA-1, 6 digits, 30-second steps, one step of clock skew either way.
//! A code is accepted once: the accepted step is remembered and older steps are refused.

use rand::RngCore;
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, Secret, TOTP};

const STEP: u64 = 30;

pub fn new_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    secret
}

fn totp(secret: &[u8], account: &str) -> anyhow::Result<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP,
        secret.to_vec(),
        Some("Probity".to_string()),
        account.to_string(),
    )
    .map_err(|e| anyhow::anyhow!("TOTP setup failed: {e}"))
}

/// The base32 secret and the `otpauth://` URI an authenticator app scans.
pub fn enrolment(secret: &[u8], account: &str) -> anyhow::Result<(String, String)> {
    let t = totp(secret, account)?;
    Ok((
        Secret::Raw(secret.to_vec()).to_encoded().to_string(),
        t.get_url(),
    ))
}

/// The time step a code matches (now, one before or one after), if it is newer than
/// `last_step`.
pub fn verify(
    secret: &[u8],
    account: &str,
    code: &str,
    now_unix: u64,
    last_step: Option<i64>,
) -> Option<i64> {
    let t = totp(secret, account).ok()?;
    // Full-width digits and spaces from a phone keyboard fold (domain::text).
    let code = crate::domain::text::compact_code(code);
    let current = (now_unix / STEP) as i64;
    for step in [current - 1, current, current + 1] {
        if last_step.is_some_and(|last| step <= last) || step < 0 {
            continue;
        }
        let expected = t.generate(step as u64 * STEP);
        if expected.as_bytes().ct_eq(code.as_bytes()).into() {
            return Some(step);
        }
    }
    None
}

/// The current code, for tests and tools.
pub fn current_code(secret: &[u8], account: &str, now_unix: u64) -> String {
    totp(secret, account)
        .map(|t| t.generate(now_unix))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_verify_once_within_skew() {
        let secret = new_secret();
        let now = 1_800_000_000;
        let code = current_code(&secret, "alice", now);
        let step = verify(&secret, "alice", &code, now, None).expect("current code verifies");
        assert_eq!(step, (now / 30) as i64);
        assert_eq!(
            verify(&secret, "alice", &code, now, Some(step)),
            None,
            "no replay"
        );
        assert!(
            verify(&secret, "alice", &code, now + 30, None).is_some(),
            "one step of skew"
        );
        assert!(verify(&secret, "alice", &code, now + 95, None).is_none());
        assert!(verify(&secret, "alice", "000000x", now, None).is_none());
        let (base32, uri) = enrolment(&secret, "alice").unwrap();
        assert_eq!(base32.len(), 32);
        assert!(uri.starts_with("otpauth://totp/Probity:alice?"), "{uri}");
    }
}
