//! `SubjectLevel`: the level of the most senior person a report names (SPEC.md → "Triage").
//! Stored as text through `db::text`; served and read as its snake_case name.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The level of the most senior person reported: `village | township | county | above_county |
/// commission_head`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    diesel::AsExpression,
    diesel::FromSqlRow,
)]
#[serde(rename_all = "snake_case")]
#[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
pub enum SubjectLevel {
    /// A village official (村干部).
    Village,
    /// A township official (乡镇干部).
    Township,
    /// A county official (县管干部).
    County,
    /// An official managed above the county (市管及以上干部).
    AboveCounty,
    /// The head of the county commission itself (本级纪委主要负责人).
    CommissionHead,
}

impl SubjectLevel {
    pub const ALL: [SubjectLevel; 5] = [
        SubjectLevel::Village,
        SubjectLevel::Township,
        SubjectLevel::County,
        SubjectLevel::AboveCounty,
        SubjectLevel::CommissionHead,
    ];

    /// The text served and stored, e.g. `above_county`.
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectLevel::Village => "village",
            SubjectLevel::Township => "township",
            SubjectLevel::County => "county",
            SubjectLevel::AboveCounty => "above_county",
            SubjectLevel::CommissionHead => "commission_head",
        }
    }

    /// The level named by `text` (exactly as served); `None` for any other text.
    pub fn parse(text: &str) -> Option<SubjectLevel> {
        SubjectLevel::ALL.into_iter().find(|l| l.as_str() == text)
    }

    /// Every name, comma-separated, for error messages.
    pub fn names() -> String {
        SubjectLevel::ALL.map(SubjectLevel::as_str).join(", ")
    }

    /// True when the county commission may not handle the matter itself and must escalate it
    /// to the commission above: officials managed above the county, and the commission's own
    /// head (Art 15 of the rules; SPEC.md → "Triage": `accept` is refused with `must_escalate`).
    pub fn must_escalate(self) -> bool {
        matches!(
            self,
            SubjectLevel::AboveCounty | SubjectLevel::CommissionHead
        )
    }
}

impl std::fmt::Display for SubjectLevel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_serde_agrees() {
        for level in SubjectLevel::ALL {
            assert_eq!(SubjectLevel::parse(level.as_str()), Some(level));
            assert_eq!(serde_json::to_value(level).unwrap(), level.as_str());
        }
        assert_eq!(SubjectLevel::parse("Village"), None);
        assert_eq!(SubjectLevel::parse("province"), None);
    }

    #[test]
    fn only_levels_above_the_county_and_the_commission_head_must_escalate() {
        let escalate: Vec<_> = SubjectLevel::ALL
            .into_iter()
            .filter(|l| l.must_escalate())
            .collect();
        assert_eq!(
            escalate,
            [SubjectLevel::AboveCounty, SubjectLevel::CommissionHead]
        );
    }
}
