//! The password policy's basic rules. Hashing (Argon2id with the argon2 crate's defaults,
//! OWASP's recommendation: 19 MiB, t=2, p=1, PHC strings) runs on the bounded Argon2 pool in
//! [`crate::hashing`].

pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordPolicyError {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must not be the username")]
    SameAsUsername,
}

pub fn check_policy(username: &str, password: &str) -> Result<(), PasswordPolicyError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
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
    }
}
