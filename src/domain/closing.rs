//! What keeps a case from closing (SPEC.md → "Case handling", `POST /cases/{id}/close`; issue
//! 10, item 4), as a pure rule over facts the caller reads: every blocker at once, never just the
//! first, and no override for anyone.

use serde::Serialize;
use utoipa::ToSchema;

use super::investigation::Outcome;

/// One reason a case cannot close, served in the `blockers` of 409 `close_blocked`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Blocker {
    /// An investigation of the case is still open.
    InvestigationOpen { investigation_id: String },
    /// The primary investigation found wrongdoing, and the clawback question is unanswered: no
    /// clawback recorded and no clawback statement.
    ClawbackUnanswered,
    /// The primary investigation found wrongdoing, and the case has no remediation plan (no
    /// remediation item).
    RemediationPlanMissing,
    /// A real-name reporter has had no feedback message since the primary investigation's
    /// conclusion; `report_ids` names their reports (never the reporters).
    FeedbackNotSent { report_ids: Vec<String> },
}

impl Blocker {
    /// The blocker's code, e.g. `investigation_open`.
    pub fn code(&self) -> &'static str {
        match self {
            Blocker::InvestigationOpen { .. } => "investigation_open",
            Blocker::ClawbackUnanswered => "clawback_unanswered",
            Blocker::RemediationPlanMissing => "remediation_plan_missing",
            Blocker::FeedbackNotSent { .. } => "feedback_not_sent",
        }
    }
}

/// What the closing rule looks at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClosingFacts {
    /// The ids of the case's open investigations, in the order to report them.
    pub open_investigations: Vec<String>,
    /// The primary investigation's current outcome; `None` while it is open.
    pub primary_outcome: Option<Outcome>,
    /// A clawback is recorded, or a clawback statement answers the question.
    pub clawback_answered: bool,
    /// The case has at least one remediation item.
    pub has_remediation_plan: bool,
    /// The real-name reports of the case whose reporter has had no feedback message since the
    /// primary investigation's current conclusion (all of them while it is open).
    pub reports_without_feedback: Vec<String>,
}

/// Every blocker of a case with `facts`, in a fixed order: open investigations, clawback,
/// remediation, feedback. Empty when the case may close.
pub fn blockers(facts: &ClosingFacts) -> Vec<Blocker> {
    let mut out: Vec<Blocker> = facts
        .open_investigations
        .iter()
        .map(|id| Blocker::InvestigationOpen {
            investigation_id: id.clone(),
        })
        .collect();
    if facts.primary_outcome.is_some_and(Outcome::requires_remedy) {
        if !facts.clawback_answered {
            out.push(Blocker::ClawbackUnanswered);
        }
        if !facts.has_remediation_plan {
            out.push(Blocker::RemediationPlanMissing);
        }
    }
    if !facts.reports_without_feedback.is_empty() {
        out.push(Blocker::FeedbackNotSent {
            report_ids: facts.reports_without_feedback.clone(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(f: &ClosingFacts) -> Vec<&'static str> {
        blockers(f).iter().map(Blocker::code).collect()
    }

    #[test]
    fn every_blocker_is_named_together() {
        let all = ClosingFacts {
            open_investigations: vec!["a".into(), "b".into()],
            primary_outcome: Some(Outcome::Substantiated),
            clawback_answered: false,
            has_remediation_plan: false,
            reports_without_feedback: vec!["r".into()],
        };
        assert_eq!(
            codes(&all),
            [
                "investigation_open",
                "investigation_open",
                "clawback_unanswered",
                "remediation_plan_missing",
                "feedback_not_sent"
            ]
        );
        let json = serde_json::to_value(blockers(&all)).unwrap();
        assert_eq!(
            json[0],
            serde_json::json!({"code": "investigation_open", "investigation_id": "a"})
        );
        assert_eq!(json[2], serde_json::json!({"code": "clawback_unanswered"}));
        assert_eq!(
            json[4],
            serde_json::json!({"code": "feedback_not_sent", "report_ids": ["r"]})
        );
    }

    #[test]
    fn clawback_and_remediation_matter_only_when_wrongdoing_was_found() {
        for outcome in [
            None,
            Some(Outcome::Unsubstantiated),
            Some(Outcome::Substantiated),
            Some(Outcome::PartlySubstantiated),
        ] {
            let f = ClosingFacts {
                primary_outcome: outcome,
                ..ClosingFacts::default()
            };
            let expected: &[&str] = if outcome.is_some_and(Outcome::requires_remedy) {
                &["clawback_unanswered", "remediation_plan_missing"]
            } else {
                &[]
            };
            assert_eq!(codes(&f), expected, "{outcome:?}");
        }
        let answered = ClosingFacts {
            primary_outcome: Some(Outcome::PartlySubstantiated),
            clawback_answered: true,
            has_remediation_plan: true,
            ..ClosingFacts::default()
        };
        assert!(blockers(&answered).is_empty());
    }
}
