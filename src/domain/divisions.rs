//! The rules for divisions and officials, without I/O: code formats, levels, names, and how a
//! division relates to its parent. The API, the CSV import and the demo loader all use these.

use std::fmt;

use super::violation::FieldViolation;
use crate::domain::error_code::ErrorCode;

/// County (县), township (乡镇) or village (村).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
pub enum Level {
    County,
    Township,
    Village,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::County, Level::Township, Level::Village];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::County => "county",
            Level::Township => "township",
            Level::Village => "village",
        }
    }

    pub fn parse(text: &str) -> Option<Level> {
        Level::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// Digits in a code of this level: 6 for a county, 9 for a township, 12 for a village.
    pub fn code_len(self) -> usize {
        match self {
            Level::County => 6,
            Level::Township => 9,
            Level::Village => 12,
        }
    }

    /// The level a division of this level hangs under; `None` for a county.
    pub fn parent(self) -> Option<Level> {
        match self {
            Level::County => None,
            Level::Township => Some(Level::County),
            Level::Village => Some(Level::Township),
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The longest name of a division, an official or a post, in characters.
pub const NAME_MAX: usize = 50;

fn all_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// A name of 1–50 characters (after trimming; at least one visible, see `domain::text`) without
/// control characters.
pub fn check_name(field: &'static str, name: &str) -> Option<FieldViolation> {
    let name = super::text::clean(name);
    let len = name.chars().count();
    if super::text::check_length(&name, 1, NAME_MAX).is_some() {
        return Some(
            FieldViolation::new(
                field,
                ErrorCode::InvalidLength,
                format!("{field} must have 1–{NAME_MAX} characters; it has {len}"),
            )
            .limit(NAME_MAX)
            .zh(format!("长度须为1–{NAME_MAX}个字，现在是{len}个字。")),
        );
    }
    if name.chars().any(char::is_control) {
        return Some(FieldViolation::new(
            field,
            ErrorCode::InvalidCharacters,
            format!("{field} must not contain line breaks or other control characters"),
        ));
    }
    None
}

/// `village`, `township` or `county`.
pub fn check_level(level: &str) -> Result<Level, FieldViolation> {
    Level::parse(level).ok_or_else(|| {
        FieldViolation::new(
            "level",
            ErrorCode::UnknownLevel,
            format!("level {level:?} is not one of county, township, village"),
        )
    })
}

/// Checks one division on its own: the level, the code's digits and length, the name, and that
/// the parent code is of the level above and a prefix of the code. Whether the parent exists is
/// [`check_parent`]'s job. Returns the level when it is valid, so callers can go on checking.
pub fn check_division(
    code: &str,
    name: &str,
    level: &str,
    parent_code: Option<&str>,
) -> (Option<Level>, Vec<FieldViolation>) {
    let mut found = Vec::new();
    let level = match check_level(level) {
        Ok(l) => Some(l),
        Err(v) => {
            found.push(v);
            None
        }
    };
    let mut code_ok = false;
    if !all_digits(code) {
        found.push(FieldViolation::new(
            "code",
            ErrorCode::NotDigits,
            format!("code {code:?} must be digits only"),
        ));
    } else {
        match level {
            Some(l) if code.len() != l.code_len() => found.push(FieldViolation::new(
                "code",
                ErrorCode::WrongLength,
                format!(
                    "a {l} code has {} digits; {code} has {}",
                    l.code_len(),
                    code.len()
                ),
            )),
            Some(l) if l != Level::County && code.ends_with("000") => {
                found.push(FieldViolation::new(
                    "code",
                    ErrorCode::ReservedCode,
                    format!(
                    "{code} ends in 000, which stands for its parent itself; a {l} code cannot \
                     end in 000"
                ),
                ))
            }
            Some(_) => code_ok = true,
            None if ![6, 9, 12].contains(&code.len()) => found.push(FieldViolation::new(
                "code",
                ErrorCode::WrongLength,
                format!(
                    "a code has 6 (county), 9 (township) or 12 (village) digits; {code} has {}",
                    code.len()
                ),
            )),
            None => {}
        }
    }
    if let Some(v) = check_name("name", name) {
        found.push(v);
    }
    match (level, parent_code) {
        (Some(Level::County), Some(p)) => found.push(FieldViolation::new(
            "parent_code",
            ErrorCode::NotAllowed,
            format!("a county has no parent; leave parent_code empty (got {p})"),
        )),
        (Some(l), None) if l != Level::County => {
            let pl = l.parent().expect("below county");
            found.push(FieldViolation::new(
                "parent_code",
                ErrorCode::Required,
                format!("a {l} needs parent_code: the code of its {pl}"),
            ));
        }
        (Some(l), Some(p)) => {
            let pl = l.parent().expect("below county");
            if !all_digits(p) || p.len() != pl.code_len() {
                found.push(FieldViolation::new(
                    "parent_code",
                    ErrorCode::WrongParentLevel,
                    format!(
                        "the parent of a {l} is a {pl}, whose code has {} digits; got {p:?}",
                        pl.code_len()
                    ),
                ));
            } else if code_ok && !code.starts_with(p) {
                found.push(FieldViolation::new(
                    "code",
                    ErrorCode::NotUnderParent,
                    format!(
                        "a {l}'s code starts with its {pl}'s code: {code} does not start with {p}"
                    ),
                ));
            }
        }
        _ => {}
    }
    (level, found)
}

/// Checks the parent that was found (`None`: no division has that code).
pub fn check_parent(
    level: Level,
    parent_code: &str,
    found: Option<Level>,
) -> Option<FieldViolation> {
    let wanted = level.parent()?;
    match found {
        None => Some(FieldViolation::new(
            "parent_code",
            ErrorCode::UnknownParent,
            format!("no division has code {parent_code}; the parent must exist first"),
        )),
        Some(f) if f != wanted => Some(FieldViolation::new(
            "parent_code",
            ErrorCode::WrongParentLevel,
            format!("{parent_code} is a {f}; the parent of a {level} must be a {wanted}"),
        )),
        Some(_) => None,
    }
}

/// Checks an official's name, post and level on their own.
pub fn check_official(name: &str, post: &str, level: &str) -> (Option<Level>, Vec<FieldViolation>) {
    let mut found = Vec::new();
    found.extend(check_name("name", name));
    found.extend(check_name("post", post));
    let level = match check_level(level) {
        Ok(l) => Some(l),
        Err(v) => {
            found.push(v);
            None
        }
    };
    (level, found)
}

/// An official serves in a division of their own level. `division` is the division's level, or
/// `None` when no division has that code. `field` names what to blame for a mismatch.
pub fn check_official_division(
    level: Level,
    division_code: &str,
    division: Option<Level>,
    field: &'static str,
) -> Option<FieldViolation> {
    match division {
        None => Some(FieldViolation::new(
            "division_code",
            ErrorCode::UnknownDivision,
            format!("no division has code {division_code}"),
        )),
        Some(d) if d != level => Some(FieldViolation::new(
            field,
            ErrorCode::LevelMismatch,
            format!("{division_code} is a {d}; a {level} official must serve in a {level}"),
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(found: &[FieldViolation]) -> Vec<ErrorCode> {
        found.iter().map(|v| v.code).collect()
    }

    #[test]
    fn valid_divisions_pass() {
        for (code, level, parent) in [
            ("360734", "county", None),
            ("360734100", "township", Some("360734")),
            ("360734100201", "village", Some("360734100")),
        ] {
            let (l, found) = check_division(code, "长宁镇", level, parent);
            assert_eq!(l.map(Level::as_str), Some(level));
            assert!(found.is_empty(), "{code}: {found:?}");
        }
    }

    #[test]
    fn code_rules() {
        let (_, f) = check_division("36073A", "x", "county", None);
        assert_eq!(codes(&f), [ErrorCode::NotDigits]);
        let (_, f) = check_division("36073410", "x", "township", Some("360734"));
        assert_eq!(codes(&f), [ErrorCode::WrongLength]);
        assert!(f[0].message.contains("9 digits"), "{}", f[0].message);
        let (_, f) = check_division("360735100", "x", "township", Some("360734"));
        assert_eq!(codes(&f), [ErrorCode::NotUnderParent]);
        assert_eq!(f[0].field, "code");
        let (_, f) = check_division("360734000", "x", "township", Some("360734"));
        assert_eq!(codes(&f), [ErrorCode::ReservedCode]);
        let (_, f) = check_division("3607341", "x", "hamlet", None);
        assert_eq!(codes(&f), [ErrorCode::UnknownLevel, ErrorCode::WrongLength]);
    }

    #[test]
    fn parent_rules() {
        let (_, f) = check_division("360734", "寻乌县", "county", Some("360700"));
        assert_eq!(codes(&f), [ErrorCode::NotAllowed]);
        let (_, f) = check_division("360734100", "长宁镇", "township", None);
        assert_eq!(codes(&f), [ErrorCode::Required]);
        let (_, f) = check_division("360734100201", "x", "village", Some("360734"));
        assert_eq!(codes(&f), [ErrorCode::WrongParentLevel]);
        assert_eq!(
            check_parent(Level::Township, "360734", None).unwrap().code,
            ErrorCode::UnknownParent
        );
        assert_eq!(
            check_parent(Level::Village, "360734", Some(Level::County))
                .unwrap()
                .code,
            ErrorCode::WrongParentLevel
        );
        assert!(check_parent(Level::Village, "360734100", Some(Level::Township)).is_none());
    }

    #[test]
    fn name_rules() {
        assert!(check_name("name", "寻乌县").is_none());
        assert!(check_name("name", &"村".repeat(50)).is_none());
        assert_eq!(
            check_name("name", &"村".repeat(51)).unwrap().code,
            ErrorCode::InvalidLength
        );
        assert_eq!(
            check_name("name", "  ").unwrap().code,
            ErrorCode::InvalidLength
        );
        assert_eq!(
            check_name("name", "上坪\n村").unwrap().code,
            ErrorCode::InvalidCharacters
        );
    }

    #[test]
    fn official_rules() {
        let (l, f) = check_official("张某某", "村支书", "village");
        assert_eq!((l, f.len()), (Some(Level::Village), 0));
        let (l, f) = check_official("", "", "mayor");
        assert_eq!(l, None);
        assert_eq!(
            codes(&f),
            [
                ErrorCode::InvalidLength,
                ErrorCode::InvalidLength,
                ErrorCode::UnknownLevel
            ]
        );
        let v =
            check_official_division(Level::Village, "360734100", Some(Level::Township), "level")
                .unwrap();
        assert_eq!(
            (v.field.as_str(), v.code),
            ("level", ErrorCode::LevelMismatch)
        );
        assert_eq!(
            check_official_division(Level::Village, "1", None, "level")
                .unwrap()
                .code,
            ErrorCode::UnknownDivision
        );
    }
}
