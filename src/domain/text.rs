//! The rules every piece of typed text meets, wherever it comes from (JSON, forms, multipart
//! fields, query strings, path segments). Pure; see docs/reporting.md → "Text rules".
//!
//! 1. **Controls are refused.** C0 controls other than TAB, LF and CR (NUL among them: PostgreSQL
//!    cannot store it in `text`), DEL (U+007F) and the C1 controls (U+0080–U+009F) have no place
//!    in anything a person types; a field holding one is refused (`control_character`), never
//!    cleaned silently, so what is stored is what was sent. So are the bidirectional embedding,
//!    override and isolate controls (U+202A–U+202E, U+2066–U+2069): they reorder how the text
//!    around them is displayed (a message or a name could show staff or a reporter something
//!    other than what is stored), and no Chinese or English text needs them.
//! 2. **Line breaks are LF.** CRLF and lone CR (browsers send textarea line breaks as CRLF) become
//!    LF before anything is counted or stored.
//! 3. **Only visible characters count** towards "required" and minimum lengths: whitespace of
//!    every kind, format (Cf) and other default-ignorable code points, variation selectors, Hangul
//!    fillers, the blank Braille pattern and combining marks (which belong to the character before
//!    them) do not. Maximum lengths count every character of the normalised text.
//! 4. **Codes are folded.** A code-like field (ID number, phone, division code, receipt code, TOTP
//!    code, report number, typed date, email address) is NFKC-normalised, so the full-width forms a
//!    Chinese input method types (`１２３`, `Ｘ`, `＠`, `－`) read as their ASCII forms, and dash
//!    look-alikes become `-`. Free text (descriptions, names, messages) is never NFKC-folded.

use std::borrow::Cow;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use super::violation::FieldViolation as FieldError;
use crate::domain::error_code::ErrorCode;

/// The stable `code` of a field refused for holding a control character.
pub const CONTROL_CODE: ErrorCode = ErrorCode::ControlCharacter;

/// Whether `c` is a control character that no text input accepts: C0 other than TAB, LF and CR,
/// DEL, C1, and the bidirectional embedding, override and isolate controls (rule 1 of the module
/// doc).
pub fn is_forbidden(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{8}'
            | '\u{b}'
            | '\u{c}'
            | '\u{e}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
    )
}

/// The first forbidden control character in `s`, if any.
pub fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|c| is_forbidden(*c))
}

/// The field error for a control character `c` found in `field`: 422 `control_character`.
pub fn control_error(field: &str, c: char) -> FieldError {
    FieldError::new(
        field,
        CONTROL_CODE,
        format!(
            "contains the control character U+{:04X}; remove it (only tab and line breaks are accepted)",
            c as u32
        ),
    )
}

/// `Err` naming `field` when `s` holds a forbidden control character.
pub fn check_controls(field: &str, s: &str) -> Result<(), FieldError> {
    match forbidden_char(s) {
        Some(c) => Err(control_error(field, c)),
        None => Ok(()),
    }
}

/// CRLF and lone CR become LF (rule 2). Borrows when there is no CR.
pub fn normalise_newlines(s: &str) -> Cow<'_, str> {
    if !s.contains('\r') {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.replace("\r\n", "\n").replace('\r', "\n"))
}

/// Whether `c` renders as nothing or as blank space (rule 3).
pub fn is_invisible(c: char) -> bool {
    if c.is_whitespace() {
        return true;
    }
    match c {
        // Default-ignorable code points that are not Cf: combining grapheme joiner, Hangul
        // fillers, Khmer inherent vowels, Mongolian variation selectors, variation selectors.
        '\u{034F}'
        | '\u{115F}'
        | '\u{1160}'
        | '\u{17B4}'
        | '\u{17B5}'
        | '\u{180B}'..='\u{180F}'
        | '\u{3164}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{FFA0}'
        | '\u{E0100}'..='\u{E01EF}' => return true,
        // Braille pattern blank: renders as an empty cell.
        '\u{2800}' => return true,
        _ => {}
    }
    matches!(
        c.general_category(),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::SpaceSeparator
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::NonspacingMark
            | GeneralCategory::EnclosingMark
            | GeneralCategory::SpacingMark
            | GeneralCategory::Surrogate
            | GeneralCategory::Unassigned
    )
}

/// How many visible characters `s` has (rule 3). Combining marks never count on their own: with
/// a base they are part of it, without one they render as nothing.
pub fn visible_len(s: &str) -> usize {
    s.chars().filter(|c| !is_invisible(*c)).count()
}

/// Whether `s` has no visible character.
pub fn is_blank(s: &str) -> bool {
    visible_len(s) == 0
}

/// Free text as it is stored: line breaks normalised, whitespace and invisible characters
/// trimmed from both ends; inside, ordinary whitespace is kept.
pub fn clean(s: &str) -> String {
    normalise_newlines(s)
        .trim_matches(|c: char| c.is_whitespace() || is_invisible_format(c))
        .to_string()
}

/// `clean` for an optional field: `None` when nothing visible is left.
pub fn clean_opt(s: Option<&str>) -> Option<String> {
    s.map(clean).filter(|v| !is_blank(v))
}

fn is_invisible_format(c: char) -> bool {
    is_invisible(c)
        && !matches!(
            c.general_category(),
            GeneralCategory::NonspacingMark
                | GeneralCategory::EnclosingMark
                | GeneralCategory::SpacingMark
        )
}

/// What is wrong with the length of a cleaned text, if anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthProblem {
    /// No visible character.
    Required,
    /// Fewer than the minimum of visible characters.
    TooShort,
    /// More than the maximum of characters (all of them, after newline normalisation).
    TooLong,
}

impl LengthProblem {
    /// The stable field-error code.
    pub fn code(self) -> ErrorCode {
        match self {
            LengthProblem::Required => ErrorCode::Required,
            LengthProblem::TooShort => ErrorCode::TooShort,
            LengthProblem::TooLong => ErrorCode::TooLong,
        }
    }
}

/// Checks `s` (already `clean`ed) against `min` visible and `max` total characters.
pub fn check_length(s: &str, min: usize, max: usize) -> Option<LengthProblem> {
    let visible = visible_len(s);
    if visible == 0 {
        Some(LengthProblem::Required)
    } else if visible < min {
        Some(LengthProblem::TooShort)
    } else if s.chars().count() > max {
        Some(LengthProblem::TooLong)
    } else {
        None
    }
}

fn fold_dash(c: char) -> char {
    match c {
        // Hyphens and dashes a person may type between groups of a code, including what Chinese
        // input methods give for the minus key.
        '\u{2010}'..='\u{2015}'
        | '\u{2212}'
        | '\u{FE58}'
        | '\u{FE63}'
        | '\u{FF0D}'
        | '\u{30FC}' => '-',
        other => other,
    }
}

/// A code-like field folded (rule 4): NFKC (full-width digits, letters, `＠`, `．`, `－` and the
/// ideographic space become ASCII), dash look-alikes become `-`, then trimmed.
pub fn fold_code(s: &str) -> String {
    s.nfkc()
        .map(fold_dash)
        .collect::<String>()
        .trim()
        .to_string()
}

/// A date as a person types it, `YYYY-MM-DD`: folded first with [`fold_code`], so full-width
/// digits and dashes from a phone keyboard in Chinese mode parse too (issue 7, fault 9).
/// `None` when it is empty or not a valid date.
pub fn parse_date(s: &str) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::parse_from_str(&fold_code(s), "%Y-%m-%d").ok()
}

/// A code whose separators do not matter: `fold_code`, then every space and `-` removed.
/// `１３８ ００１３－８０００` → `13800138000`.
pub fn compact_code(s: &str) -> String {
    fold_code(s)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-' && !is_invisible(*c))
        .collect()
}

/// An email address as typed on a phone: `fold_code`, and the ideographic full stop `。` (which
/// a Chinese input method gives for `.`) read as `.`, as IDNA does.
pub fn fold_email(s: &str) -> String {
    fold_code(s)
        .chars()
        .map(|c| if c == '\u{3002}' { '.' } else { c })
        .collect()
}

/// Walks a JSON document: refuses every string (or object key) holding a forbidden control,
/// naming each by path (`reporter.name`, `accused[0].name`), and normalises line breaks in every
/// string. Returns whether anything was changed, or the field errors.
pub fn check_json(value: &mut serde_json::Value) -> Result<bool, Vec<FieldError>> {
    fn walk(
        value: &mut serde_json::Value,
        path: &mut String,
        errors: &mut Vec<FieldError>,
    ) -> bool {
        use serde_json::Value;
        match value {
            Value::String(s) => {
                errors.extend(check_controls(field_name(path), s).err());
                if let Cow::Owned(n) = normalise_newlines(s) {
                    *s = n;
                    return true;
                }
                false
            }
            Value::Array(items) => {
                let mut changed = false;
                for (i, item) in items.iter_mut().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    changed |= walk(item, path, errors);
                    path.truncate(len);
                }
                changed
            }
            Value::Object(map) => {
                let mut changed = false;
                for (key, item) in map.iter_mut() {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key);
                    errors.extend(check_controls(field_name(path), key).err());
                    changed |= walk(item, path, errors);
                    path.truncate(len);
                }
                changed
            }
            _ => false,
        }
    }
    fn field_name(path: &str) -> &str {
        if path.is_empty() {
            "body"
        } else {
            path
        }
    }
    let mut errors = Vec::new();
    let changed = walk(value, &mut String::new(), &mut errors);
    if errors.is_empty() {
        Ok(changed)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidirectional_overrides_are_refused_like_controls() {
        for c in ['\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}'] {
            assert!(is_forbidden(c), "{c:?}");
            assert_eq!(forbidden_char(&format!("付款{c}人")), Some(c));
        }
        // Marks that only hint direction, and ordinary Chinese text, stay allowed.
        assert!(!is_forbidden('\u{200e}'));
        assert_eq!(forbidden_char("村支书把低保名额给了亲戚"), None);
    }

    #[test]
    fn controls_other_than_tab_and_line_breaks_are_refused() {
        for c in [
            '\0', '\u{1}', '\u{8}', '\u{b}', '\u{c}', '\u{1b}', '\u{7f}', '\u{85}', '\u{9f}',
        ] {
            assert!(is_forbidden(c), "U+{:04X}", c as u32);
        }
        for c in ['\t', '\n', '\r', ' ', 'a', '举', '\u{a0}', '\u{200b}'] {
            assert!(!is_forbidden(c), "U+{:04X}", c as u32);
        }
        let e = check_controls("description", "村支书\0把低保").unwrap_err();
        assert_eq!((e.field.as_str(), e.code), ("description", CONTROL_CODE));
        assert!(e.message.contains("U+0000"));
        assert!(check_controls("x", "a\tb\r\nc").is_ok());
    }

    #[test]
    fn typed_dates_fold_full_width_digits_and_dashes() {
        let d = chrono::NaiveDate::from_ymd_opt(2027, 1, 4);
        assert_eq!(parse_date("2027-01-04"), d);
        assert_eq!(parse_date("２０２７－０１－０４"), d);
        assert_eq!(parse_date(" 2027—01—04 "), d);
        assert_eq!(parse_date("2027-02-30"), None);
        assert_eq!(parse_date(""), None);
    }

    #[test]
    fn line_breaks_become_lf() {
        assert_eq!(normalise_newlines("a\r\nb\rc\nd"), "a\nb\nc\nd");
        assert!(matches!(normalise_newlines("a\nb"), Cow::Borrowed(_)));
        assert_eq!(normalise_newlines("\r\r\n"), "\n\n");
        assert_eq!(clean("  第一行\r\n第二行\r\n "), "第一行\n第二行");
    }

    #[test]
    fn invisible_text_does_not_count() {
        assert_eq!(visible_len(&"\u{200b}".repeat(20)), 0);
        assert_eq!(
            visible_len("\u{3000}\u{feff}\u{a0}\u{2060}\u{200c}\u{200d}"),
            0
        );
        assert_eq!(visible_len("\u{115f}\u{1160}\u{3164}\u{ffa0}\u{2800}"), 0);
        assert_eq!(
            visible_len("\u{fe0f}\u{e0100}\u{34f}\u{180e}\u{2028}\u{2029}"),
            0
        );
        // Combining marks with nothing to combine onto.
        assert_eq!(visible_len("\u{301}\u{301}\u{20dd}"), 0);
        // Bidi and tag characters.
        assert_eq!(visible_len("\u{202e}\u{2066}\u{e0041}\u{ad}"), 0);
        assert_eq!(visible_len("张 三"), 2);
        assert_eq!(visible_len("e\u{301}"), 1);
        assert_eq!(visible_len("a\u{200b}b"), 2);
        assert!(is_blank("\u{3000}\u{feff}"));
        assert!(!is_blank("某"));
    }

    #[test]
    fn cleaning_trims_invisible_ends_and_keeps_inner_spaces() {
        assert_eq!(clean("\u{feff}\u{200b} 张 三\u{3000}"), "张 三");
        assert_eq!(clean_opt(Some("\u{200d}\u{200d}")), None);
        assert_eq!(clean_opt(Some(" 李某 ")), Some("李某".into()));
        // A mark stays with its base.
        assert_eq!(clean("e\u{301}"), "e\u{301}");
    }

    #[test]
    fn lengths_count_visible_for_minimum_and_everything_for_maximum() {
        assert_eq!(
            check_length(&"\u{200b}".repeat(20), 20, 100),
            Some(LengthProblem::Required)
        );
        let padded = format!("{}{}", "很".repeat(5), "\u{3000}".repeat(30));
        assert_eq!(
            check_length(&padded, 20, 100),
            Some(LengthProblem::TooShort)
        );
        assert_eq!(check_length(&"很".repeat(20), 20, 100), None);
        assert_eq!(
            check_length(&"很".repeat(101), 20, 100),
            Some(LengthProblem::TooLong)
        );
        let crlf = "很很很很\r\n".repeat(2000);
        let stored = clean(&crlf);
        assert_eq!(stored.chars().count(), 9_999);
        assert_eq!(check_length(&stored, 20, 10_000), None);
        assert_eq!(LengthProblem::TooShort.code(), ErrorCode::TooShort);
    }

    #[test]
    fn codes_fold_full_width_forms_and_separators() {
        assert_eq!(
            compact_code("１１０１０５１９４９１２３１００２Ｘ"),
            "11010519491231002X"
        );
        assert_eq!(compact_code("１３８　００１３－８０００"), "13800138000");
        assert_eq!(compact_code("138‐0013—8000"), "13800138000");
        assert_eq!(compact_code("３６０７３４１００"), "360734100");
        assert_eq!(fold_code("２０２６－０３－０１"), "2026-03-01");
        assert_eq!(fold_email("ｌｉ＠ｅｘａｍｐｌｅ．ｃｏｍ"), "li@example.com");
        assert_eq!(fold_email("li@example。com"), "li@example.com");
        assert_eq!(fold_code(" ｘ "), "x");
    }

    #[test]
    fn json_controls_are_named_by_path_and_line_breaks_normalised() {
        let mut v = serde_json::json!({"accused": [{"name": "张\u{1}"}]});
        let e = check_json(&mut v).unwrap_err();
        assert_eq!(e[0].field, "accused[0].name");
        let mut v = serde_json::json!({"a": "\u{0}", "b": ["\u{1}"]});
        let fields: Vec<String> = check_json(&mut v)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["a", "b[0]"]);
        let mut v = serde_json::json!({"reporter": {"name": "李\0"}});
        assert_eq!(check_json(&mut v).unwrap_err()[0].field, "reporter.name");
        let mut v = serde_json::json!({"a\u{7f}": 1});
        assert_eq!(check_json(&mut v).unwrap_err()[0].field, "a\u{7f}");
        let mut v = serde_json::json!("\0");
        assert_eq!(check_json(&mut v).unwrap_err()[0].field, "body");
        let mut v = serde_json::json!({"d": "a\r\nb", "n": [1, true, null]});
        assert!(check_json(&mut v).unwrap());
        assert_eq!(v["d"], "a\nb");
        let mut v = serde_json::json!({"d": "a\nb"});
        assert!(!check_json(&mut v).unwrap());
    }
}
