//! Which routing rule sends a new case to a team (SPEC.md → "Teams, routing, conflicts"). Pure:
//! the caller reads the active rules and passes them in.
//!
//! A rule has three conditions — programme, township, subject level — each either a value or
//! "any" (`None`). A rule matches a case when each of its set conditions equals the case's
//! value. Among matching rules the most specific (most conditions set) wins; ties are broken by
//! the precedence programme > township > subject level (a rule naming the programme beats one
//! naming only the township), then by the oldest rule, then by id, so the choice never depends
//! on the order the rules were read in. A rule with no condition set is the default: it matches
//! every case, and triage cannot route anything before one exists.

use chrono::NaiveDateTime;

use super::report::Programme;
pub use super::subject_level::SubjectLevel;

/// The three conditions of a rule; `None` means "any".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conditions<'a> {
    pub programme: Option<Programme>,
    pub township_code: Option<&'a str>,
    pub subject_level: Option<SubjectLevel>,
}

impl Conditions<'_> {
    /// True for the default rule: no condition set.
    pub fn is_default(&self) -> bool {
        self.specificity() == 0
    }

    /// How many conditions are set, 0–3.
    pub fn specificity(&self) -> u8 {
        u8::from(self.programme.is_some())
            + u8::from(self.township_code.is_some())
            + u8::from(self.subject_level.is_some())
    }

    /// True when every set condition equals the case's value.
    pub fn matches(&self, case: &Case<'_>) -> bool {
        self.programme.is_none_or(|p| p == case.programme)
            && self.township_code.is_none_or(|t| t == case.township_code)
            && self.subject_level.is_none_or(|l| l == case.subject_level)
    }
}

/// What routing knows of a case: its programme, township code and subject level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Case<'a> {
    pub programme: Programme,
    pub township_code: &'a str,
    pub subject_level: SubjectLevel,
}

/// One active rule as the choice sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule<'a> {
    pub id: &'a str,
    pub conditions: Conditions<'a>,
    /// When the rule was created (UTC); the older wins a tie.
    pub created_at: NaiveDateTime,
}

/// The index in `rules` of the rule that routes `case`, by the order in the module docs;
/// `None` when no rule matches (then there is no default rule either). `rules` should hold
/// active rules only.
pub fn choose(rules: &[Rule<'_>], case: &Case<'_>) -> Option<usize> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.conditions.matches(case))
        .min_by(|(_, a), (_, b)| {
            let rank = |r: &Rule<'_>| {
                let c = r.conditions;
                (
                    std::cmp::Reverse(c.specificity()),
                    std::cmp::Reverse(c.programme.is_some()),
                    std::cmp::Reverse(c.township_code.is_some()),
                    std::cmp::Reverse(c.subject_level.is_some()),
                    r.created_at,
                )
            };
            rank(a).cmp(&rank(b)).then_with(|| a.id.cmp(b.id))
        })
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(minute: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 29)
            .unwrap()
            .and_hms_opt(9, minute, 0)
            .unwrap()
    }

    fn rule<'a>(
        id: &'a str,
        programme: Option<Programme>,
        township_code: Option<&'a str>,
        subject_level: Option<SubjectLevel>,
        minute: u32,
    ) -> Rule<'a> {
        Rule {
            id,
            conditions: Conditions {
                programme,
                township_code,
                subject_level,
            },
            created_at: at(minute),
        }
    }

    const CASE: Case<'static> = Case {
        programme: Programme::Dibao,
        township_code: "360734100",
        subject_level: SubjectLevel::Village,
    };

    fn chosen<'a>(rules: &[Rule<'a>]) -> Option<&'a str> {
        choose(rules, &CASE).map(|i| rules[i].id)
    }

    #[test]
    fn no_rules_or_no_match_routes_nowhere() {
        assert_eq!(chosen(&[]), None);
        let other = [rule("a", Some(Programme::Other), None, None, 0)];
        assert_eq!(chosen(&other), None);
    }

    #[test]
    fn the_default_rule_matches_everything() {
        let rules = [rule("default", None, None, None, 0)];
        assert!(rules[0].conditions.is_default());
        assert_eq!(chosen(&rules), Some("default"));
    }

    #[test]
    fn a_specific_rule_beats_the_default_whatever_their_order() {
        let mut rules = vec![
            rule("default", None, None, None, 0),
            rule("dibao", Some(Programme::Dibao), None, None, 5),
        ];
        assert_eq!(chosen(&rules), Some("dibao"));
        rules.reverse();
        assert_eq!(chosen(&rules), Some("dibao"));
    }

    #[test]
    fn more_conditions_win() {
        let rules = [
            rule("prog", Some(Programme::Dibao), None, None, 0),
            rule(
                "town+level",
                None,
                Some("360734100"),
                Some(SubjectLevel::Village),
                9,
            ),
        ];
        assert_eq!(chosen(&rules), Some("town+level"));
        let all = [
            rule("two", Some(Programme::Dibao), Some("360734100"), None, 0),
            rule(
                "three",
                Some(Programme::Dibao),
                Some("360734100"),
                Some(SubjectLevel::Village),
                9,
            ),
        ];
        assert_eq!(chosen(&all), Some("three"));
    }

    #[test]
    fn equal_specificity_is_broken_by_programme_then_township_then_level() {
        let rules = [
            rule("level", None, None, Some(SubjectLevel::Village), 0),
            rule("town", None, Some("360734100"), None, 1),
            rule("prog", Some(Programme::Dibao), None, None, 2),
        ];
        assert_eq!(chosen(&rules), Some("prog"));
        assert_eq!(chosen(&rules[..2]), Some("town"));
        let pairs = [
            rule(
                "town+level",
                None,
                Some("360734100"),
                Some(SubjectLevel::Village),
                0,
            ),
            rule(
                "prog+level",
                Some(Programme::Dibao),
                None,
                Some(SubjectLevel::Village),
                1,
            ),
            rule(
                "prog+town",
                Some(Programme::Dibao),
                Some("360734100"),
                None,
                2,
            ),
        ];
        assert_eq!(chosen(&pairs), Some("prog+town"));
        assert_eq!(chosen(&pairs[..2]), Some("prog+level"));
    }

    #[test]
    fn then_the_oldest_rule_then_the_smallest_id() {
        let rules = [
            rule("newer", Some(Programme::Dibao), None, None, 7),
            rule("older", Some(Programme::Dibao), None, None, 3),
        ];
        assert_eq!(chosen(&rules), Some("older"));
        let same_time = [
            rule("b", Some(Programme::Dibao), None, None, 3),
            rule("a", Some(Programme::Dibao), None, None, 3),
        ];
        assert_eq!(chosen(&same_time), Some("a"));
    }

    #[test]
    fn a_condition_that_differs_excludes_the_rule() {
        let rules = [
            rule("default", None, None, None, 0),
            rule("other town", None, Some("360734101"), None, 1),
            rule(
                "township level",
                None,
                None,
                Some(SubjectLevel::Township),
                2,
            ),
        ];
        assert_eq!(chosen(&rules), Some("default"));
    }
}
