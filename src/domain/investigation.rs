//! Investigations of a filed case, as pure rules (SPEC.md rule 2 "一案双查", the domain model's
//! "Investigation", "Outcomes", and "Case handling: request and response shapes"):
//!
//! - a case has a *primary* investigation (the conduct) and, where the escalation map names a
//!   level above the case's subject, an *accountability* investigation into the leadership of
//!   that level (did it fulfil its supervisory duty?);
//! - the outcomes each kind may conclude with, and which of them admit sanctions;
//! - the sanction categories and types (organisational, party, government handling);
//! - the escalation map (`accountability.escalation`: village → township, township → county by
//!   default);
//! - the deadlines an investigation and the feedback to a real-name reporter run to.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::divisions::Level;
use super::subject_level::SubjectLevel;

named_enum!(
    /// What an investigation looks into.
    InvestigationKind {
        /// The conduct reported.
        Primary = "primary",
        /// The supervisory duty of the leadership one level up (一案双查).
        Accountability = "accountability",
    }
);

named_enum!(
    /// Whether an investigation is still being worked.
    InvestigationStatus {
        Open = "open",
        Concluded = "concluded",
    }
);

named_enum!(
    /// How an investigation concludes (SPEC.md → "Outcomes"). A primary investigation is
    /// substantiated (属实), partly substantiated (部分属实) or unsubstantiated (不属实); an
    /// accountability investigation finds the duty fulfilled or not.
    Outcome {
        Substantiated = "substantiated",
        PartlySubstantiated = "partly_substantiated",
        Unsubstantiated = "unsubstantiated",
        DutyFulfilled = "duty_fulfilled",
        DutyNotFulfilled = "duty_not_fulfilled",
    }
);

named_enum!(
    /// The category of a sanction (SPEC.md → "Outcomes").
    SanctionCategory {
        /// 组织处理.
        Organisational = "organisational",
        /// 党纪处分.
        Party = "party",
        /// 政务处分.
        Government = "government",
    }
);

/// Every sanction type: (category, type as served, Chinese name). A type is valid only in its
/// category (`warning` exists in both party and government discipline).
pub const SANCTION_TYPES: [(SanctionCategory, &str, &str); 13] = [
    (
        SanctionCategory::Organisational,
        "criticism_education",
        "批评教育",
    ),
    (
        SanctionCategory::Organisational,
        "admonishment_talk",
        "诫勉谈话",
    ),
    (SanctionCategory::Party, "warning", "警告"),
    (SanctionCategory::Party, "serious_warning", "严重警告"),
    (
        SanctionCategory::Party,
        "removal_from_party_post",
        "撤销党内职务",
    ),
    (SanctionCategory::Party, "probation", "留党察看"),
    (SanctionCategory::Party, "expulsion", "开除党籍"),
    (SanctionCategory::Government, "warning", "警告"),
    (SanctionCategory::Government, "demerit", "记过"),
    (SanctionCategory::Government, "major_demerit", "记大过"),
    (SanctionCategory::Government, "demotion", "降级"),
    (SanctionCategory::Government, "dismissal_from_post", "撤职"),
    (SanctionCategory::Government, "dismissal", "开除"),
];

impl SanctionCategory {
    /// The types of this category, as served.
    pub fn types(self) -> Vec<&'static str> {
        SANCTION_TYPES
            .iter()
            .filter(|(c, _, _)| *c == self)
            .map(|(_, t, _)| *t)
            .collect()
    }

    /// Whether `sanction_type` is a type of this category.
    pub fn has_type(self, sanction_type: &str) -> bool {
        SANCTION_TYPES
            .iter()
            .any(|(c, t, _)| *c == self && *t == sanction_type)
    }
}

impl Outcome {
    /// The outcomes an investigation of `kind` may conclude with.
    pub fn for_kind(kind: InvestigationKind) -> &'static [Outcome] {
        match kind {
            InvestigationKind::Primary => &[
                Outcome::Substantiated,
                Outcome::PartlySubstantiated,
                Outcome::Unsubstantiated,
            ],
            InvestigationKind::Accountability => {
                &[Outcome::DutyFulfilled, Outcome::DutyNotFulfilled]
            }
        }
    }

    /// Whether sanctions may be recorded with this outcome: wrongdoing found (substantiated,
    /// partly substantiated) or duty not fulfilled. Nobody is sanctioned for a report found
    /// untrue or a duty fulfilled.
    pub fn admits_sanctions(self) -> bool {
        matches!(
            self,
            Outcome::Substantiated | Outcome::PartlySubstantiated | Outcome::DutyNotFulfilled
        )
    }

    /// Whether a primary outcome found wrongdoing, so the case must answer the clawback question
    /// and have a remediation plan before it closes (SPEC.md → "Case handling", close).
    pub fn requires_remedy(self) -> bool {
        matches!(self, Outcome::Substantiated | Outcome::PartlySubstantiated)
    }

    /// What the reporter reads about a primary outcome, in plain Chinese: whether what they
    /// reported was true, and that it was handled. Never sanctions, document numbers, findings
    /// or names; a false-accusation finding reads as 不属实 like any untrue report, so it never
    /// flags the reporter. `None` for accountability outcomes (reporters are not told those).
    pub fn reporter_zh(self) -> Option<&'static str> {
        match self {
            Outcome::Substantiated => Some("经核查，您反映的问题属实，已依规依纪依法处理。"),
            Outcome::PartlySubstantiated => {
                Some("经核查，您反映的问题部分属实，已依规依纪依法处理。")
            }
            Outcome::Unsubstantiated => Some("经核查，您反映的问题不属实。"),
            Outcome::DutyFulfilled | Outcome::DutyNotFulfilled => None,
        }
    }
}

/// Working days within which a real-name reporter hears the result once the primary
/// investigation concludes (SPEC.md → "Real-name reporters": 15 working days).
pub const FEEDBACK_WORKING_DAYS: u32 = 15;

/// The due date of an investigation opened on `today` (county date) that may take `days`
/// calendar days (`deadlines.investigation_days` for the primary, 90 by default after the
/// 90-day limit on 审查调查 in the commission's supervision rules;
/// `deadlines.accountability_days` for the accountability investigation, 90 by default,
/// SPEC.md → "Deadlines that no rule fixes").
pub fn due_after(today: NaiveDate, days: u32) -> NaiveDate {
    today + chrono::Days::new(u64::from(days))
}

/// The division level of a subject level: `None` for the levels that are never handled here
/// (above the county, the commission's head).
pub fn division_level(subject: SubjectLevel) -> Option<Level> {
    match subject {
        SubjectLevel::Village => Some(Level::Village),
        SubjectLevel::Township => Some(Level::Township),
        SubjectLevel::County => Some(Level::County),
        SubjectLevel::AboveCounty | SubjectLevel::CommissionHead => None,
    }
}

/// How high a level is: county 0, township 1, village 2.
fn depth(level: Level) -> u8 {
    match level {
        Level::County => 0,
        Level::Township => 1,
        Level::Village => 2,
    }
}

/// The escalation map (`accountability.escalation`): for a case whose subject is at a level,
/// the level whose leadership an accountability investigation looks into. Only village,
/// township and county subjects may be keys, and each target lies above its key. A level not
/// in the map gets no accountability investigation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    try_from = "BTreeMap<String, String>",
    into = "BTreeMap<String, String>"
)]
pub struct EscalationMap(BTreeMap<SubjectLevel, Level>);

impl Default for EscalationMap {
    /// village → township, township → county (SPEC.md → "Investigation").
    fn default() -> EscalationMap {
        EscalationMap(BTreeMap::from([
            (SubjectLevel::Village, Level::Township),
            (SubjectLevel::Township, Level::County),
        ]))
    }
}

impl TryFrom<BTreeMap<String, String>> for EscalationMap {
    type Error = String;

    /// Errors: a key that is not `village`, `township` or `county`; a target that is not a
    /// division level; a target not above its key.
    fn try_from(raw: BTreeMap<String, String>) -> Result<EscalationMap, String> {
        let mut map = BTreeMap::new();
        for (from, to) in raw {
            let subject = SubjectLevel::parse(&from)
                .filter(|s| division_level(*s).is_some())
                .ok_or_else(|| {
                    format!(
                        "accountability.escalation: {from:?} is not a subject level handled \
                         here (village, township, county)"
                    )
                })?;
            let target = Level::parse(&to).ok_or_else(|| {
                format!(
                    "accountability.escalation.{from}: {to:?} is not a level (township, county)"
                )
            })?;
            let own = division_level(subject).unwrap_or(Level::County);
            if depth(target) >= depth(own) {
                return Err(format!(
                    "accountability.escalation.{from}: the target level must be above {from}, \
                     not {to}"
                ));
            }
            map.insert(subject, target);
        }
        Ok(EscalationMap(map))
    }
}

impl From<EscalationMap> for BTreeMap<String, String> {
    fn from(map: EscalationMap) -> BTreeMap<String, String> {
        map.0
            .into_iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_str().to_string()))
            .collect()
    }
}

impl EscalationMap {
    /// The level whose leadership answers for a case about a `subject`-level person, or `None`
    /// when the map names none.
    pub fn target(&self, subject: SubjectLevel) -> Option<Level> {
        self.0.get(&subject).copied()
    }
}

/// Why no accountability investigation was opened for a `subject`-level case (served as
/// `accountability.reason` in the filing answer).
pub fn no_accountability_reason(subject: SubjectLevel) -> String {
    format!(
        "The escalation map (accountability.escalation) names no level above a {}-level \
         subject, so no accountability investigation was opened.",
        subject.as_str()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_fit_their_kind_and_only_wrongdoing_admits_sanctions() {
        use Outcome as O;
        assert_eq!(
            Outcome::for_kind(InvestigationKind::Primary),
            [O::Substantiated, O::PartlySubstantiated, O::Unsubstantiated]
        );
        assert_eq!(
            Outcome::for_kind(InvestigationKind::Accountability),
            [O::DutyFulfilled, O::DutyNotFulfilled]
        );
        for &o in Outcome::ALL {
            assert_eq!(
                o.admits_sanctions(),
                matches!(
                    o,
                    O::Substantiated | O::PartlySubstantiated | O::DutyNotFulfilled
                ),
                "{}",
                o.as_str()
            );
            assert_eq!(
                o.requires_remedy(),
                matches!(o, O::Substantiated | O::PartlySubstantiated)
            );
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
    }

    #[test]
    fn sanction_types_belong_to_their_category() {
        use SanctionCategory as C;
        assert_eq!(
            C::Organisational.types(),
            ["criticism_education", "admonishment_talk"]
        );
        assert_eq!(
            C::Party.types(),
            [
                "warning",
                "serious_warning",
                "removal_from_party_post",
                "probation",
                "expulsion"
            ]
        );
        assert_eq!(
            C::Government.types(),
            [
                "warning",
                "demerit",
                "major_demerit",
                "demotion",
                "dismissal_from_post",
                "dismissal"
            ]
        );
        assert!(C::Party.has_type("warning") && C::Government.has_type("warning"));
        assert!(!C::Organisational.has_type("warning"));
        assert!(!C::Party.has_type("demerit"));
        assert!(!C::Government.has_type("expulsion"));
    }

    #[test]
    fn the_reporter_reads_the_outcome_and_nothing_else() {
        assert_eq!(
            Outcome::Substantiated.reporter_zh(),
            Some("经核查，您反映的问题属实，已依规依纪依法处理。")
        );
        assert!(Outcome::PartlySubstantiated
            .reporter_zh()
            .unwrap()
            .contains("部分属实"));
        assert_eq!(
            Outcome::Unsubstantiated.reporter_zh(),
            Some("经核查，您反映的问题不属实。")
        );
        assert_eq!(Outcome::DutyNotFulfilled.reporter_zh(), None);
    }

    fn map(pairs: &[(&str, &str)]) -> Result<EscalationMap, String> {
        EscalationMap::try_from(
            pairs
                .iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<BTreeMap<_, _>>(),
        )
    }

    #[test]
    fn the_escalation_map_goes_up_and_defaults_to_village_township_county() {
        let default = EscalationMap::default();
        assert_eq!(default.target(SubjectLevel::Village), Some(Level::Township));
        assert_eq!(default.target(SubjectLevel::Township), Some(Level::County));
        assert_eq!(default.target(SubjectLevel::County), None);
        assert_eq!(
            map(&[("village", "township"), ("township", "county")]).unwrap(),
            default
        );
        let straight_to_county = map(&[("village", "county")]).unwrap();
        assert_eq!(
            straight_to_county.target(SubjectLevel::Village),
            Some(Level::County)
        );
        assert_eq!(straight_to_county.target(SubjectLevel::Township), None);
        for bad in [
            &[("village", "village")][..],
            &[("township", "village")],
            &[("county", "county")],
            &[("above_county", "county")],
            &[("hamlet", "township")],
            &[("village", "province")],
        ] {
            assert!(map(bad).is_err(), "{bad:?}");
        }
        let text = toml::to_string(&default).unwrap();
        assert_eq!(toml::from_str::<EscalationMap>(&text).unwrap(), default);
    }

    #[test]
    fn due_dates_count_calendar_days() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(due_after(d(2026, 11, 30), 90), d(2027, 2, 28));
        assert_eq!(FEEDBACK_WORKING_DAYS, 15);
        assert!(no_accountability_reason(SubjectLevel::County).contains("county-level"));
    }
}
