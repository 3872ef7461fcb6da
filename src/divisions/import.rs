//! Parsing and checking a divisions CSV file, without I/O.
//!
//! The file is UTF-8 with the header `code,name,level,parent_code` (any column order). A row
//! may name as its parent a division earlier in the file or one already in the database. A
//! code already in the database keeps its level and parent: an import can only rename it.
//! [`plan`] either accepts every row or returns one [`FieldViolation`] per bad row (its field names the line), so an import is
//! all or nothing.

use std::collections::HashMap;

use super::Division;
use crate::domain::divisions::{self as rules, Level};
use crate::domain::violation::general_zh;
use crate::error::{ErrorCode, FieldViolation};

pub const HEADER: [&str; 4] = ["code", "name", "level", "parent_code"];

/// What is wrong with one line of the file (1-based; the header is line 1): a violation whose
/// field names the line (`line 7`, as the API shows it in `errors[].field`), with the code of
/// the line's first problem and every problem in words.
fn line_violation(line: u64, code: ErrorCode, message: impl Into<String>) -> FieldViolation {
    FieldViolation::new(format!("line {line}"), code, message)
        .zh(format!("第{line}行有误：{}", general_zh(code)))
}

/// One accepted row of the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub line: u64,
    pub code: String,
    /// Trimmed.
    pub name: String,
    pub level: Level,
    pub parent_code: Option<String>,
}

/// What applying a row will do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A new division.
    Insert,
    /// The code is already in the database, with this name and demo flag.
    Existing { name: String, demo: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRow {
    pub row: Row,
    pub action: Action,
}

/// The line a record starts on. The csv reader skips blank lines but reports the position
/// where it started looking, so count the line breaks it skipped.
fn start_line(text: &str, position: &csv::Position) -> u64 {
    let skipped = text
        .as_bytes()
        .get(position.byte() as usize..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    position.line() + skipped as u64
}

/// Parses and checks the whole file against the divisions already in the database (by code).
/// Rows come back in file order, so every parent comes before its children.
pub fn plan(
    text: &str,
    existing: &HashMap<String, Division>,
) -> Result<Vec<PlannedRow>, Vec<FieldViolation>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.to_ascii_lowercase()).collect(),
        Err(e) => {
            return Err(vec![line_violation(
                1,
                ErrorCode::Unreadable,
                e.to_string(),
            )])
        }
    };
    if header.iter().all(String::is_empty) {
        return Err(vec![line_violation(
            1,
            ErrorCode::MissingHeader,
            "the file is empty; its first line must be the header code,name,level,parent_code",
        )]);
    }
    let mut sorted = header.clone();
    sorted.sort();
    let mut wanted = HEADER.map(str::to_string).to_vec();
    wanted.sort();
    if sorted != wanted {
        return Err(vec![line_violation(
            1,
            ErrorCode::BadHeader,
            format!(
                "the header must name the columns code,name,level,parent_code; it is {}",
                header.join(",")
            ),
        )]);
    }
    let column = |name: &str| header.iter().position(|h| h == name).expect("checked");
    let (c_code, c_name, c_level, c_parent) = (
        column("code"),
        column("name"),
        column("level"),
        column("parent_code"),
    );

    let mut records = Vec::new();
    let mut errors = Vec::new();
    for result in reader.records() {
        match result {
            Ok(record) => {
                let line = record.position().map_or(0, |p| start_line(text, p));
                if record.iter().all(str::is_empty) {
                    // A line of only spaces or commas, as spreadsheets leave at the end.
                    continue;
                }
                if record.len() != HEADER.len() {
                    errors.push((
                        line,
                        line_violation(
                            line,
                            ErrorCode::WrongFieldCount,
                            format!(
                                "expected 4 fields (code,name,level,parent_code), found {}",
                                record.len()
                            ),
                        ),
                    ));
                    continue;
                }
                let parent = record[c_parent].to_string();
                records.push((
                    line,
                    record[c_code].to_string(),
                    record[c_name].to_string(),
                    record[c_level].to_string(),
                    Some(parent).filter(|p| !p.is_empty()),
                ));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| start_line(text, p));
                errors.push((
                    line,
                    line_violation(line, ErrorCode::Unreadable, e.to_string()),
                ));
            }
        }
    }
    if records.is_empty() && errors.is_empty() {
        return Err(vec![line_violation(
            1,
            ErrorCode::NoRows,
            "the file has a header but no rows",
        )]);
    }

    // Where each code first appears, to explain a parent listed after its children.
    let mut first_line: HashMap<&str, u64> = HashMap::new();
    for (line, code, ..) in &records {
        first_line.entry(code.as_str()).or_insert(*line);
    }
    // Codes seen so far in the file, with their level when it was valid.
    let mut seen: HashMap<&str, (u64, Option<Level>)> = HashMap::new();
    let mut planned = Vec::new();
    for (line, code, name, level, parent) in &records {
        let (level, mut found) = rules::check_division(code, name, level, parent.as_deref());
        if let Some((first, _)) = seen.get(code.as_str()) {
            found.push(FieldViolation::new(
                "code",
                ErrorCode::DuplicateCode,
                format!("code {code} is already on line {first}"),
            ));
        }
        let parent_shape_ok = !found.iter().any(|v| v.field == "parent_code");
        if let (Some(l), Some(p), true) = (level, parent, parent_shape_ok) {
            match seen.get(p.as_str()) {
                // The parent's own row is bad: that row reports it.
                Some((_, None)) => {}
                Some((_, Some(pl))) => found.extend(rules::check_parent(l, p, Some(*pl))),
                None => match existing.get(p) {
                    Some(d) => found.extend(rules::check_parent(l, p, Level::parse(&d.level))),
                    None => match first_line.get(p.as_str()) {
                        Some(later) => found.push(FieldViolation::new(
                            "parent_code",
                            ErrorCode::ParentLaterInFile,
                            format!(
                                "the parent {p} comes later in the file (line {later}); list \
                                 each parent before its children"
                            ),
                        )),
                        None => found.push(FieldViolation::new(
                            "parent_code",
                            ErrorCode::UnknownParent,
                            format!(
                                "the parent {p} is neither earlier in the file nor in the database"
                            ),
                        )),
                    },
                },
            }
        }
        let action = match existing.get(code) {
            None => Action::Insert,
            Some(d) => {
                if let Some(l) = level {
                    if d.level != l.as_str() || d.parent_code.as_ref() != parent.as_ref() {
                        found.push(FieldViolation::new(
                            "code",
                            ErrorCode::ConflictsExisting,
                            format!(
                                "{code} already exists as a {} under {}; an import can change \
                                 only its name",
                                d.level,
                                d.parent_code.as_deref().unwrap_or("no parent")
                            ),
                        ));
                    }
                }
                Action::Existing {
                    name: d.name.clone(),
                    demo: d.demo,
                }
            }
        };
        seen.entry(code.as_str()).or_insert((*line, level));
        match (level, found.is_empty()) {
            (Some(level), true) => planned.push(PlannedRow {
                row: Row {
                    line: *line,
                    code: code.clone(),
                    name: name.trim().to_string(),
                    level,
                    parent_code: parent.clone(),
                },
                action,
            }),
            _ => errors.push((
                *line,
                line_violation(
                    *line,
                    found[0].code,
                    found
                        .iter()
                        .map(|v| v.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(planned)
    } else {
        errors.sort_by_key(|(line, _)| *line);
        Err(errors.into_iter().map(|(_, e)| e).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line_of(e: &FieldViolation) -> u64 {
        e.field.strip_prefix("line ").unwrap().parse().unwrap()
    }

    const GOOD: &str = "code,name,level,parent_code
360734,寻乌县,county,
360734100,长宁镇,township,360734
360734101,晨光镇,township,360734
360734100201,城北村,village,360734100
";

    fn none() -> HashMap<String, Division> {
        HashMap::new()
    }

    fn db(rows: &[(&str, &str, &str, Option<&str>)]) -> HashMap<String, Division> {
        rows.iter()
            .map(|(code, name, level, parent)| {
                (
                    code.to_string(),
                    Division {
                        code: code.to_string(),
                        name: name.to_string(),
                        level: level.to_string(),
                        parent_code: parent.map(str::to_string),
                        demo: false,
                    },
                )
            })
            .collect()
    }

    fn bad(text: &str, existing: &HashMap<String, Division>) -> Vec<FieldViolation> {
        plan(text, existing).expect_err("the file should be refused")
    }

    #[test]
    fn a_good_file_is_planned_in_order() {
        let rows = plan(GOOD, &none()).unwrap();
        let codes: Vec<&str> = rows.iter().map(|r| r.row.code.as_str()).collect();
        assert_eq!(codes, ["360734", "360734100", "360734101", "360734100201"]);
        assert!(rows.iter().all(|r| r.action == Action::Insert));
        assert_eq!(rows[0].row.line, 2);
        assert_eq!(rows[0].row.parent_code, None);
        assert_eq!(rows[3].row.level, Level::Village);
        assert_eq!(rows[3].row.parent_code.as_deref(), Some("360734100"));
    }

    #[test]
    fn line_numbers_count_blank_lines() {
        let text = "code,name,level,parent_code\r\n\r\n360734,寻乌县,county,\r\n\r\n\r\n\
                    360734100,长宁镇,township,360734\r\n  \r\n3607341,x,township,360734\r\n";
        let rows = plan(&text.replace("3607341,x,township,360734\r\n", ""), &none()).unwrap();
        assert_eq!(rows.iter().map(|r| r.row.line).collect::<Vec<_>>(), [3, 6]);
        assert_eq!(line_of(&bad(text, &none())[0]), 8);
    }

    #[test]
    fn bom_spaces_column_order_and_quotes_are_accepted() {
        let text = "\u{feff}Name , code,parent_code,level\r\n\"寻乌县\", 360734 ,,county\r\n";
        let rows = plan(text, &none()).unwrap();
        assert_eq!(rows[0].row.code, "360734");
        assert_eq!(rows[0].row.name, "寻乌县");
    }

    #[test]
    fn parents_may_already_be_in_the_database() {
        let existing = db(&[
            ("360734", "寻乌县", "county", None),
            ("360734100", "长宁镇", "township", Some("360734")),
        ]);
        let text = "code,name,level,parent_code\n360734100,长宁镇(新),township,360734\n\
                    360734100201,城北村,village,360734100\n";
        let rows = plan(text, &existing).unwrap();
        assert_eq!(
            rows[0].action,
            Action::Existing {
                name: "长宁镇".into(),
                demo: false
            }
        );
        assert_eq!(rows[1].action, Action::Insert);
    }

    #[test]
    fn wrong_code_length_names_the_line() {
        let text = format!("{GOOD}36073410,南桥镇,township,360734\n");
        let errors = bad(&text, &none());
        assert_eq!(errors.len(), 1);
        assert_eq!(line_of(&errors[0]), 6);
        assert_eq!(errors[0].field, "line 6");
        assert_eq!(errors[0].code, ErrorCode::WrongLength);
        assert!(errors[0].message.contains("9 digits"), "{:?}", errors[0]);
    }

    #[test]
    fn child_code_must_start_with_the_parents() {
        let text = format!("{GOOD}360734101201,沙坝村,village,360734100\n");
        let errors = bad(&text, &none());
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (6, ErrorCode::NotUnderParent)
        );
        assert!(errors[0].message.contains("360734100"), "{:?}", errors[0]);
    }

    #[test]
    fn unknown_level_is_refused() {
        let text = format!("{GOOD}360734102,留车镇,town,360734\n");
        let errors = bad(&text, &none());
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (6, ErrorCode::UnknownLevel)
        );
    }

    #[test]
    fn missing_parent_is_refused() {
        let text = format!("{GOOD}360734105201,大坝村,village,360734105\n");
        let errors = bad(&text, &none());
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (6, ErrorCode::UnknownParent)
        );
        // …and a parent listed after its child is explained as such.
        let text = "code,name,level,parent_code\n360734100,长宁镇,township,360734\n\
                    360734,寻乌县,county,\n";
        let errors = bad(text, &none());
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (2, ErrorCode::ParentLaterInFile)
        );
        assert!(errors[0].message.contains("line 3"), "{:?}", errors[0]);
    }

    #[test]
    fn duplicate_codes_in_the_file_are_refused() {
        let text = format!("{GOOD}360734100,长宁镇,township,360734\n");
        let errors = bad(&text, &none());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (6, ErrorCode::DuplicateCode)
        );
        assert!(errors[0].message.contains("line 3"), "{:?}", errors[0]);
    }

    #[test]
    fn one_error_per_bad_row_and_none_for_good_rows() {
        let text = "code,name,level,parent_code
360734,寻乌县,county,
36073410X,,township,360734
360734100,长宁镇,township,360734

360734100201,城北村,village,360734
360734100202,城南村,village
,,,
";
        let errors = bad(text, &none());
        let lines: Vec<u64> = errors.iter().map(line_of).collect();
        assert_eq!(lines, [3, 6, 7]);
        // Several problems on one line are all told, in one message.
        assert!(errors[0].message.contains("digits only"), "{:?}", errors[0]);
        assert!(errors[0].message.contains("name"), "{:?}", errors[0]);
        assert_eq!(errors[1].code, ErrorCode::WrongParentLevel);
        assert_eq!(errors[2].code, ErrorCode::WrongFieldCount);
    }

    #[test]
    fn existing_codes_keep_their_level_and_parent() {
        // Only a database written by other means could disagree with a valid row this way.
        let existing = db(&[
            ("360734", "寻乌县", "county", None),
            ("360734100", "长宁镇", "village", Some("360734")),
        ]);
        let text = "code,name,level,parent_code\n360734100,长宁镇,township,360734\n";
        let errors = bad(text, &existing);
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (2, ErrorCode::ConflictsExisting)
        );
        assert!(
            errors[0].message.contains("only its name"),
            "{:?}",
            errors[0]
        );
    }

    #[test]
    fn header_must_be_right() {
        let errors = bad("", &none());
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (1, ErrorCode::MissingHeader)
        );
        let errors = bad("code,name,level\n360734,寻乌县,county\n", &none());
        assert_eq!(
            (line_of(&errors[0]), errors[0].code),
            (1, ErrorCode::BadHeader)
        );
        let errors = bad("code,name,level,parent_code\n", &none());
        assert_eq!(errors[0].code, ErrorCode::NoRows);
    }
}
