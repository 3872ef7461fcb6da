//! Money in integer fen (分, 1/100 yuan): never floating point (SPEC.md → "The API": "Money is
//! integer fen in fields ending `_fen`"; issue 11, item 1).
//!
//! - [`Fen`] is never negative. Arithmetic is checked: a sum past `i64::MAX` or a difference below
//!   zero is a [`MoneyError`], never a wrap.
//! - An amount read from a request is a JSON **integer** from 0 to [`MAX_INPUT_FEN`] (10^13 fen,
//!   ¥100 billion): a float (even `1.0`), a string, a negative number or a larger number is
//!   refused. Where an amount is required to be paid or owed, zero is refused too
//!   ([`Fen::from_json`] with [`Amount::Positive`]).
//! - It displays as `¥1,234.56`.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::error_code::ErrorCode;
use super::violation::FieldViolation;

/// The largest amount a request may state: 10^13 fen (¥100,000,000,000.00).
pub const MAX_INPUT_FEN: i64 = 10_000_000_000_000;

/// An amount of money in fen, never negative.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(i64);

/// Why an amount could not be made or computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Below zero: a difference that would be negative, or a negative stored value.
    #[error("an amount of money cannot be negative")]
    Negative,
    /// Past `i64::MAX` fen.
    #[error("the amount is too large to compute")]
    Overflow,
}

/// Whether zero is an acceptable amount where a request states one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    /// 1 fen or more (an amount owed or paid).
    Positive,
    /// 0 fen or more.
    ZeroOrMore,
}

impl Fen {
    pub const ZERO: Fen = Fen(0);

    /// `fen` as an amount. Errors: [`MoneyError::Negative`] below zero.
    pub const fn new(fen: i64) -> Result<Fen, MoneyError> {
        if fen < 0 {
            Err(MoneyError::Negative)
        } else {
            Ok(Fen(fen))
        }
    }

    /// The number of fen.
    pub const fn get(self) -> i64 {
        self.0
    }

    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// `self + other`. Errors: [`MoneyError::Overflow`] past `i64::MAX` fen.
    pub fn checked_add(self, other: Fen) -> Result<Fen, MoneyError> {
        self.0
            .checked_add(other.0)
            .map(Fen)
            .ok_or(MoneyError::Overflow)
    }

    /// `self − other`. Errors: [`MoneyError::Negative`] when `other` is larger.
    pub fn checked_sub(self, other: Fen) -> Result<Fen, MoneyError> {
        if other.0 > self.0 {
            Err(MoneyError::Negative)
        } else {
            Ok(Fen(self.0 - other.0))
        }
    }

    /// The sum of `amounts`. Errors: [`MoneyError::Overflow`].
    pub fn sum<I: IntoIterator<Item = Fen>>(amounts: I) -> Result<Fen, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Fen::ZERO, |total, a| total.checked_add(a))
    }

    /// The amount in the JSON value `value` of the request field `field`: an integer from 0 (or
    /// 1, for [`Amount::Positive`]) to [`MAX_INPUT_FEN`].
    ///
    /// Errors: a violation naming `field`: `invalid` for anything but an integer (a float such
    /// as `1.0`, a string, null), `out_of_range` for a negative number, zero where
    /// [`Amount::Positive`] is asked, or more than 10^13.
    pub fn from_json(
        field: &str,
        value: &serde_json::Value,
        amount: Amount,
    ) -> Result<Fen, FieldViolation> {
        let min = match amount {
            Amount::Positive => 1,
            Amount::ZeroOrMore => 0,
        };
        let range = || {
            FieldViolation::new(
                field,
                ErrorCode::OutOfRange,
                format!("{field} is a whole number of fen from {min} to {MAX_INPUT_FEN}"),
            )
            .zh(format!(
                "金额以分为单位，应为 {min} 到 {MAX_INPUT_FEN} 之间的整数。"
            ))
        };
        let fen = match value {
            serde_json::Value::Number(n) if n.is_i64() || n.is_u64() => match n.as_i64() {
                Some(v) if (0..=MAX_INPUT_FEN).contains(&v) => Fen(v),
                _ => return Err(range()),
            },
            _ => {
                return Err(FieldViolation::new(
                    field,
                    ErrorCode::Invalid,
                    format!(
                        "{field} is a JSON integer of fen (1 yuan = 100 fen), never a decimal \
                         number or a string"
                    ),
                )
                .zh("金额以分为单位，应为整数，不能带小数点，也不能写成文字。"))
            }
        };
        if fen.0 < min {
            return Err(range());
        }
        Ok(fen)
    }
}

impl fmt::Display for Fen {
    /// `¥1,234.56`: yuan with thousands separated by commas, and two decimals of fen.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yuan = (self.0 / 100).to_string();
        let mut grouped = String::with_capacity(yuan.len() + yuan.len() / 3);
        for (i, c) in yuan.chars().enumerate() {
            if i > 0 && (yuan.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        write!(f, "¥{grouped}.{:02}", self.0 % 100)
    }
}

impl Serialize for Fen {
    /// A JSON integer of fen.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Fen {
    /// A JSON integer from 0 to [`MAX_INPUT_FEN`]; floats (`1.0` too), strings and everything
    /// else are refused.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Fen, D::Error> {
        struct FenVisitor;

        impl Visitor<'_> for FenVisitor {
            type Value = Fen;

            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "an integer number of fen from 0 to {MAX_INPUT_FEN}")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Fen, E> {
                if (0..=MAX_INPUT_FEN).contains(&v) {
                    Ok(Fen(v))
                } else {
                    Err(E::custom(format!(
                        "{v} is outside 0 to {MAX_INPUT_FEN} fen"
                    )))
                }
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Fen, E> {
                match i64::try_from(v) {
                    Ok(v) => self.visit_i64(v),
                    Err(_) => Err(E::custom(format!(
                        "{v} is outside 0 to {MAX_INPUT_FEN} fen"
                    ))),
                }
            }

            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Fen, E> {
                match i64::try_from(v) {
                    Ok(v) => self.visit_i64(v),
                    Err(_) => Err(E::custom(format!(
                        "{v} is outside 0 to {MAX_INPUT_FEN} fen"
                    ))),
                }
            }

            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Fen, E> {
                match i64::try_from(v) {
                    Ok(v) => self.visit_i64(v),
                    Err(_) => Err(E::custom(format!(
                        "{v} is outside 0 to {MAX_INPUT_FEN} fen"
                    ))),
                }
            }
        }

        d.deserialize_i64(FenVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn fen(v: i64) -> Fen {
        Fen::new(v).unwrap()
    }

    #[test]
    fn displays_as_yuan_with_separators() {
        assert_eq!(fen(0).to_string(), "¥0.00");
        assert_eq!(fen(5).to_string(), "¥0.05");
        assert_eq!(fen(100).to_string(), "¥1.00");
        assert_eq!(fen(123_456).to_string(), "¥1,234.56");
        assert_eq!(fen(360_000).to_string(), "¥3,600.00");
        assert_eq!(fen(100_000_000).to_string(), "¥1,000,000.00");
        assert_eq!(fen(MAX_INPUT_FEN).to_string(), "¥100,000,000,000.00");
        assert_eq!(fen(i64::MAX).to_string(), "¥92,233,720,368,547,758.07");
    }

    #[test]
    fn only_json_integers_in_range_are_amounts() {
        let parse = |v: serde_json::Value| Fen::from_json("amount_fen", &v, Amount::Positive);
        assert_eq!(parse(json!(1)), Ok(fen(1)));
        assert_eq!(parse(json!(MAX_INPUT_FEN)), Ok(fen(MAX_INPUT_FEN)));
        for (bad, code) in [
            (json!(1.0), ErrorCode::Invalid),
            (json!(1.5), ErrorCode::Invalid),
            (json!("100"), ErrorCode::Invalid),
            (json!(null), ErrorCode::Invalid),
            (json!(true), ErrorCode::Invalid),
            (json!([1]), ErrorCode::Invalid),
            (json!(-1), ErrorCode::OutOfRange),
            (json!(0), ErrorCode::OutOfRange),
            (json!(MAX_INPUT_FEN + 1), ErrorCode::OutOfRange),
            (json!(u64::MAX), ErrorCode::OutOfRange),
            (json!(i64::MIN), ErrorCode::OutOfRange),
        ] {
            let v = parse(bad.clone()).unwrap_err();
            assert_eq!((v.field.as_str(), v.code), ("amount_fen", code), "{bad}");
        }
        assert_eq!(
            Fen::from_json("x", &json!(0), Amount::ZeroOrMore),
            Ok(Fen::ZERO)
        );
        // serde_json reads 1e3 as a float: refused like 1.0.
        let v: serde_json::Value = serde_json::from_str("1e3").unwrap();
        assert!(Fen::from_json("x", &v, Amount::Positive).is_err());
        // The derive path refuses the same.
        assert!(serde_json::from_str::<Fen>("12.0").is_err());
        assert!(serde_json::from_str::<Fen>("\"12\"").is_err());
        assert_eq!(serde_json::from_str::<Fen>("12").unwrap(), fen(12));
        assert_eq!(serde_json::to_string(&fen(12)).unwrap(), "12");
    }

    #[test]
    fn arithmetic_never_wraps_or_goes_negative() {
        assert_eq!(fen(i64::MAX).checked_add(fen(1)), Err(MoneyError::Overflow));
        assert_eq!(fen(1).checked_sub(fen(2)), Err(MoneyError::Negative));
        assert_eq!(Fen::new(-1), Err(MoneyError::Negative));
        assert_eq!(
            Fen::sum([fen(i64::MAX - 1), fen(1), fen(1)]),
            Err(MoneyError::Overflow)
        );
        assert_eq!(Fen::sum([fen(1), fen(2), fen(3)]), Ok(fen(6)));
    }

    /// `¥1,234.56` back to fen, independently of `Display`.
    fn parse_display(s: &str) -> Option<i64> {
        let rest = s.strip_prefix('¥')?;
        let (yuan, cents) = rest.split_once('.')?;
        if cents.len() != 2 {
            return None;
        }
        let groups: Vec<&str> = yuan.split(',').collect();
        let first_ok = !groups[0].is_empty() && groups[0].len() <= 3;
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        if !first_ok || !rest_ok {
            return None;
        }
        let digits: String = groups.concat();
        let yuan: i64 = digits.parse().ok()?;
        yuan.checked_mul(100)?.checked_add(cents.parse().ok()?)
    }

    proptest! {
        #[test]
        fn display_round_trips(v in 0i64..=i64::MAX) {
            prop_assert_eq!(parse_display(&fen(v).to_string()), Some(v));
        }

        #[test]
        fn addition_agrees_with_wide_arithmetic(a in 0i64..=i64::MAX, b in 0i64..=i64::MAX) {
            let wide = i128::from(a) + i128::from(b);
            match fen(a).checked_add(fen(b)) {
                Ok(sum) => prop_assert_eq!(i128::from(sum.get()), wide),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(wide > i128::from(i64::MAX));
                }
            }
        }

        #[test]
        fn subtraction_is_exact_or_refused(a in 0i64..=i64::MAX, b in 0i64..=i64::MAX) {
            match fen(a).checked_sub(fen(b)) {
                Ok(d) => {
                    prop_assert!(b <= a);
                    prop_assert_eq!(d.checked_add(fen(b)), Ok(fen(a)));
                }
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Negative);
                    prop_assert!(b > a);
                }
            }
        }

        #[test]
        fn sums_of_many_amounts_are_exact(amounts in proptest::collection::vec(0i64..=MAX_INPUT_FEN, 0..200)) {
            let wide: i128 = amounts.iter().map(|a| i128::from(*a)).sum();
            let total = Fen::sum(amounts.iter().map(|a| fen(*a))).unwrap();
            prop_assert_eq!(i128::from(total.get()), wide);
        }

        #[test]
        fn json_integers_parse_exactly_in_range(v in proptest::num::i64::ANY) {
            let parsed = Fen::from_json("f", &json!(v), Amount::ZeroOrMore);
            if (0..=MAX_INPUT_FEN).contains(&v) {
                prop_assert_eq!(parsed, Ok(fen(v)));
            } else {
                prop_assert_eq!(parsed.unwrap_err().code, ErrorCode::OutOfRange);
            }
        }

        #[test]
        fn the_field_parser_and_deserialize_agree(v in proptest::num::i64::ANY) {
            let value = json!(v);
            prop_assert_eq!(
                Fen::from_json("f", &value, Amount::ZeroOrMore).ok(),
                Fen::deserialize(&value).ok()
            );
        }

        #[test]
        fn json_floats_are_never_amounts(v in proptest::num::f64::NORMAL | proptest::num::f64::ZERO) {
            let value = serde_json::Value::from(v);
            prop_assert!(Fen::from_json("f", &value, Amount::ZeroOrMore).is_err());
        }

        #[test]
        fn strings_are_never_amounts(s in "\\PC*") {
            prop_assert_eq!(
                Fen::from_json("f", &json!(s), Amount::ZeroOrMore).unwrap_err().code,
                ErrorCode::Invalid
            );
        }
    }
}
