//! Receipt codes: 16 random digits from the OS CSPRNG, shown once as four groups of four.
//! Spaces (and hyphens) are ignored on input.

use rand::Rng;

pub const DIGITS: usize = 16;

pub fn generate() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..DIGITS)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

/// `1234567890123456` → `1234 5678 9012 3456`.
pub fn grouped(code: &str) -> String {
    code.as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The 16 digits of a typed code, or `None` if it is not one.
pub fn normalise(input: &str) -> Option<String> {
    // Full-width digits, spaces and hyphens from Chinese input methods fold (domain::text).
    let digits = super::text::compact_code(input);
    (digits.len() == DIGITS && digits.chars().all(|c| c.is_ascii_digit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_sixteen_digits_grouped_and_read_back() {
        let code = generate();
        assert_eq!(code.len(), 16);
        assert!(code.chars().all(|c| c.is_ascii_digit()));
        assert_ne!(generate(), code);
        let shown = grouped(&code);
        assert_eq!(shown.len(), 19);
        assert_eq!(normalise(&shown), Some(code.clone()));
        assert_eq!(
            normalise("1234-5678 9012\t3456"),
            Some("1234567890123456".into())
        );
        assert_eq!(
            normalise("１２３４５６７８９０１２３４５６"),
            Some("1234567890123456".into())
        );
        assert_eq!(normalise("1234 5678"), None);
        assert_eq!(normalise("1234 5678 9012 345a"), None);
    }
}
