//! Resident ID numbers (GB 11643-1999): 17 digits and a check character. The check character is
//! Σ(digitᵢ·weightᵢ) mod 11 mapped through "10X98765432"; digits 7–14 are the birth date.

use chrono::NaiveDate;

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: &[u8; 11] = b"10X98765432";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdNumberError {
    /// Not 18 characters of 17 digits and a digit or X.
    Format,
    /// The birth date in it is not a real date.
    BirthDate,
    /// The check character does not match.
    CheckDigit,
}

/// Checks an ID number; a lower-case x is accepted and normalised to X.
pub fn check(id: &str) -> Result<String, IdNumberError> {
    let id = id.trim().to_ascii_uppercase();
    let bytes = id.as_bytes();
    if bytes.len() != 18
        || !bytes[..17].iter().all(u8::is_ascii_digit)
        || !(bytes[17].is_ascii_digit() || bytes[17] == b'X')
    {
        return Err(IdNumberError::Format);
    }
    if NaiveDate::parse_from_str(&id[6..14], "%Y%m%d").is_err() {
        return Err(IdNumberError::BirthDate);
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    if CHECK[(sum % 11) as usize] != bytes[17] {
        return Err(IdNumberError::CheckDigit);
    }
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_example_passes_and_a_changed_digit_fails() {
        assert_eq!(check("11010519491231002X"), Ok("11010519491231002X".into()));
        assert_eq!(check("11010519491231002x"), Ok("11010519491231002X".into()));
        assert_eq!(check("110105194912310021"), Err(IdNumberError::CheckDigit));
        assert_eq!(check("11010519491331002X"), Err(IdNumberError::BirthDate));
        assert_eq!(check("1101051949123100"), Err(IdNumberError::Format));
        assert_eq!(check("11010519491231002Y"), Err(IdNumberError::Format));
    }
}
