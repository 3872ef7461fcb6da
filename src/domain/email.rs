//! Email addresses that staff accounts, reporters and the CLI may give: one rule, used by the
//! API (`POST /api/v1/users`, report submissions) and the command line (`user create --email`,
//! `mail test --to`) alike, so that neither accepts what the other refuses (issue 7).

/// Why an address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    /// Line breaks, tabs, NUL and other control characters: they could inject mail headers.
    #[error("not a valid email address: it contains a line break or another control character")]
    ControlCharacter,
    /// Spaces, zero-width and other format characters (U+200B, U+FEFF, bidi controls …), Hangul
    /// fillers and the blank Braille cell: they cannot be seen, so an address holding one is not
    /// the address the person reads back (rule 3 of `domain::text`).
    #[error("not a valid email address: it contains a space or an invisible character")]
    InvisibleCharacter,
    /// Not `local@domain` as RFC 5321/5322 allow (checked by lettre's `Address` parser, which
    /// the mailer itself uses).
    #[error("not a valid email address, e.g. name@example.com")]
    Malformed,
}

/// Checks one address as typed; no trimming is done here.
///
/// Returns `Ok(())` for an address the mailer can send to, or the reason it cannot.
pub fn check(address: &str) -> Result<(), EmailError> {
    if address.chars().any(char::is_control) {
        return Err(EmailError::ControlCharacter);
    }
    if address.chars().any(is_invisible_in_address) {
        return Err(EmailError::InvisibleCharacter);
    }
    address
        .parse::<lettre::Address>()
        .map(|_| ())
        .map_err(|_| EmailError::Malformed)
}

/// Whether `c` renders as nothing or blank space (`text::is_invisible`). Combining marks are
/// the exception: they belong to the letter before them, as in internationalised addresses.
fn is_invisible_in_address(c: char) -> bool {
    use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
    super::text::is_invisible(c)
        && !matches!(
            c.general_category(),
            GeneralCategory::NonspacingMark
                | GeneralCategory::EnclosingMark
                | GeneralCategory::SpacingMark
        )
}

/// Whether [`check`] accepts `address`.
pub fn is_valid(address: &str) -> bool {
    check(address).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_addresses_pass() {
        assert_eq!(check("admin@probity.test"), Ok(()));
        assert_eq!(check("li.ming+jw@example.org"), Ok(()));
    }

    #[test]
    fn line_breaks_and_controls_are_refused() {
        for bad in [
            "a@example.org\n",
            "a@example.org\r\nBcc: everyone@example.org",
            "a@exa\nmple.org",
            "a\t@example.org",
            "a@example.org\u{0}",
        ] {
            assert_eq!(check(bad), Err(EmailError::ControlCharacter), "{bad:?}");
        }
    }

    #[test]
    fn invisible_characters_are_refused() {
        for bad in [
            "a@b.cn\u{200b}",
            "\u{200b}a@b.cn",
            "a\u{feff}@b.cn",
            "a@b\u{2060}.cn",
            "a@b.cn\u{202e}",
            "\u{3164}a@b.cn",
            "a@b.cn\u{2800}",
            "a@b.cn\u{3000}",
            "a@b.cn\u{ad}",
            "a@b.cn ",
        ] {
            assert_eq!(check(bad), Err(EmailError::InvisibleCharacter), "{bad:?}");
        }
        // A combining mark belongs to its letter.
        assert_eq!(check("jose\u{301}@example.org"), Ok(()));
    }

    #[test]
    fn malformed_addresses_are_refused() {
        for bad in [
            "",
            "no-at-sign",
            "a@",
            "@example.org",
            "a@b@example.org",
            "a@@b",
        ] {
            assert_eq!(check(bad), Err(EmailError::Malformed), "{bad:?}");
        }
        assert!(!is_valid("two@at@example.org"));
    }
}
