//! The password policy's basic rules. Hashing (Argon2id with the argon2 crate's defaults,
//! OWASP's recommendation: 19 MiB, t=2, p=1, PHC strings) runs on the bounded Argon2 pool in
//! [`crate::hashing`].

pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} visible characters")]
    TooShort,
    #[error("the password must not be the username")]
    SameAsUsername,
}

/// Checks a new password against the policy: at least [`MIN_PASSWORD_CHARS`] *visible*
/// characters (`domain::text::visible_len`: zero-width spaces, Hangul fillers, the blank Braille
/// cell and soft hyphens do not count, rule 3 of `domain::text`), and not the username.
///
/// Errors: [`PasswordPolicyError::TooShort`], [`PasswordPolicyError::SameAsUsername`].
pub fn check_policy(username: &str, password: &str) -> Result<(), PasswordPolicyError> {
    if crate::domain::text::visible_len(password) < MIN_PASSWORD_CHARS {
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
}
