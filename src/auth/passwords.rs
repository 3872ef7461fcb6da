//! The password policy: at least 12 visible characters (`domain::text::visible_len`), not the username, not a common password.
//! The list of common passwords ships with the project (`config/common-passwords.txt`).

use std::collections::HashSet;
use std::sync::OnceLock;

pub use crate::users::password::{PasswordPolicyError, MIN_PASSWORD_CHARS};

const COMMON: &str = include_str!("../../config/common-passwords.txt");

fn common() -> &'static HashSet<String> {
    static SET: OnceLock<HashSet<String>> = OnceLock::new();
    SET.get_or_init(|| {
        COMMON
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_lowercase)
            .collect()
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyViolation {
    #[error(transparent)]
    Basic(#[from] PasswordPolicyError),
    #[error("this password is on the list of commonly used passwords; choose another")]
    Common,
}

impl PolicyViolation {
    pub fn code(&self) -> &'static str {
        match self {
            PolicyViolation::Basic(PasswordPolicyError::TooShort) => "too_short",
            PolicyViolation::Basic(PasswordPolicyError::SameAsUsername) => "same_as_username",
            PolicyViolation::Common => "common_password",
        }
    }
}

pub fn check(username: &str, password: &str) -> Result<(), PolicyViolation> {
    crate::users::password::check_policy(username, password)?;
    if common().contains(&password.trim().to_lowercase()) {
        return Err(PolicyViolation::Common);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert!(common().len() >= 100);
        assert_eq!(check("alice", "Password1234"), Err(PolicyViolation::Common));
        assert_eq!(
            check("alice", "QWERTYUIOPASDF"),
            Err(PolicyViolation::Common)
        );
        assert_eq!(
            check("alice", "short"),
            Err(PolicyViolation::Basic(PasswordPolicyError::TooShort))
        );
        assert_eq!(check("alice", "梅花香自苦寒来 2026 春"), Ok(()));
    }
}
