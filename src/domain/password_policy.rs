//! The password policy, in one place: at least 12 visible characters, not the username, not a common
//! password (security.md, "Passwords"). The list of common passwords ships with the project
//! (`config/common-passwords.txt`, compiled in). [`check`] is the whole policy (API sign-up,
//! password changes); [`check_policy`] its basic rules (the CLI's first administrator).
//! Hashing (Argon2id, OWASP's parameters) runs on the bounded pool in [`crate::hashing`].

use std::collections::HashSet;
use std::sync::OnceLock;

use super::error_code::ErrorCode;

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
    pub fn code(&self) -> ErrorCode {
        match self {
            PolicyViolation::Basic(PasswordPolicyError::TooShort) => ErrorCode::TooShort,
            PolicyViolation::Basic(PasswordPolicyError::SameAsUsername) => {
                ErrorCode::SameAsUsername
            }
            PolicyViolation::Common => ErrorCode::CommonPassword,
        }
    }
}

/// The whole policy for `password` of the account `username`: the basic rules of
/// [`check_policy`], then not on the common-password list (case-insensitive, trimmed).
/// Errors: the first rule broken; [`PolicyViolation::code`] is the API's field code.
pub fn check(username: &str, password: &str) -> Result<(), PolicyViolation> {
    check_policy(username, password)?;
    if common().contains(&password.trim().to_lowercase()) {
        return Err(PolicyViolation::Common);
    }
    Ok(())
}

pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} visible characters")]
    TooShort,
    #[error("the password must not be the username")]
    SameAsUsername,
}

/// The basic rules: at least [`MIN_PASSWORD_CHARS`] visible characters, not the username (ignoring
/// case and surrounding spaces). Errors: the rule broken.
pub fn check_policy(username: &str, password: &str) -> Result<(), PasswordPolicyError> {
    // Visible characters only (`domain::text::visible_len`): zero-width spaces, Hangul fillers,
    // the blank Braille cell, soft hyphens and spaces do not count.
    if super::text::visible_len(password) < MIN_PASSWORD_CHARS {
        return Err(PasswordPolicyError::TooShort);
    }
    if password.trim().eq_ignore_ascii_case(username.trim()) {
        return Err(PasswordPolicyError::SameAsUsername);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_rejects_short_passwords_and_the_username() {
        assert_eq!(
            check_policy("admin", "short"),
            Err(PasswordPolicyError::TooShort)
        );
        assert_eq!(
            check_policy("administrator1", "Administrator1"),
            Err(PasswordPolicyError::SameAsUsername)
        );
        assert_eq!(check_policy("admin", "a long enough passphrase"), Ok(()));
        // Twenty characters, none of them visible.
        let invisible = "\u{200b}\u{3164}\u{2800}\u{ad}".repeat(5);
        assert_eq!(
            check_policy("admin", &invisible),
            Err(PasswordPolicyError::TooShort)
        );
        let padded = format!("short{}", "\u{200b}".repeat(20));
        assert_eq!(
            check_policy("admin", &padded),
            Err(PasswordPolicyError::TooShort)
        );
    }

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
