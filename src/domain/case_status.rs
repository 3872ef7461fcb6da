//! A case's status and the actions that move it: the one place that says which transition the
//! rules allow, who may ask for it and what else it needs (SPEC.md → "Case handling", Art 17 of
//! the rules on handling reports, rule 2 一案双查). Pure: the handlers ask [`check`] or
//! [`transition`] and store what they answer. [`TRANSITIONS`] is the whole machine, one row per
//! transition; `docs/case-handling.md` shows it as the diagram [`mermaid`] draws from it.
//!
//! - A disposition (Art 17: `inquiry`, `preliminary_verification`, `on_hold`,
//!   `close_without_action`, `file`) is given to a case that is `registered`, `inquiry`,
//!   `preliminary_verification` or `on_hold`, by an investigator of the case's team or a
//!   supervisor. `file` asks for filing: the case becomes `filing_requested`.
//! - A filing decision (supervisor only) approves (`filed`: the investigations and the village's
//!   suspension open) or rejects (back to `preliminary_verification`) a `filing_requested` case.
//! - `conclude` is the system's: concluding the last open investigation concludes the case.
//! - `close` (supervisor) needs nothing to block it (`domain::closing`); asked of a `filed`
//!   case it is refused with the open investigations among the blockers.
//! - `reopen` (supervisor) takes a concluded or closed case back to `filed` (its primary
//!   investigation reopened), a `filed` case whose primary investigation is concluded stays
//!   `filed`, and a case closed without action goes back to `registered`.

use chrono::NaiveDate;

use super::roles::Role;

named_enum!(
    /// Where a case stands (SPEC.md → "Case").
    CaseStatus {
        Registered = "registered",
        Inquiry = "inquiry",
        PreliminaryVerification = "preliminary_verification",
        OnHold = "on_hold",
        FilingRequested = "filing_requested",
        Filed = "filed",
        Concluded = "concluded",
        Closed = "closed",
        ClosedWithoutAction = "closed_without_action",
    }
);

named_enum!(
    /// The disposition of an accepted report (Art 17).
    Disposition {
        Inquiry = "inquiry",
        PreliminaryVerification = "preliminary_verification",
        OnHold = "on_hold",
        CloseWithoutAction = "close_without_action",
        File = "file",
    }
);

impl CaseStatus {
    /// Whether the case is still being worked (not closed, either way). Open cases are the ones
    /// a report may be merged into and the ones with running deadlines.
    pub fn is_open(self) -> bool {
        !matches!(self, CaseStatus::Closed | CaseStatus::ClosedWithoutAction)
    }
}

/// Something that changes a case's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseAction {
    /// `POST /cases/{id}/disposition`.
    Dispose(Disposition),
    /// `POST /cases/{id}/filing-decision` with `approve: true`.
    ApproveFiling,
    /// `POST /cases/{id}/filing-decision` with `approve: false`.
    RejectFiling,
    /// Every investigation concluded (`POST /investigations/{id}/conclude` of the last one).
    Conclude,
    /// `POST /cases/{id}/close`.
    Close,
    /// `POST /cases/{id}/reopen`, after new evidence or an objection.
    Reopen,
}

/// Who may take an action (SPEC.md → "Roles and permissions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// Investigators of the case's team (checked by the caller) and supervisors.
    CaseWorkers,
    /// Supervisors only.
    Supervisors,
    /// Nobody asks: the system takes it as the consequence of another change.
    System,
}

impl Who {
    /// The roles that may ask.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Who::CaseWorkers => &[Role::Investigator, Role::Supervisor],
            Who::Supervisors => &[Role::Supervisor],
            Who::System => &[],
        }
    }

    /// How the diagram names them.
    pub fn label(self) -> &'static str {
        match self {
            Who::CaseWorkers => "investigator or supervisor",
            Who::Supervisors => "supervisor",
            Who::System => "system",
        }
    }
}

impl CaseAction {
    /// Every action, in a fixed order (the order `allowed_actions` lists them in).
    pub const ALL: [CaseAction; 10] = [
        CaseAction::Dispose(Disposition::Inquiry),
        CaseAction::Dispose(Disposition::PreliminaryVerification),
        CaseAction::Dispose(Disposition::OnHold),
        CaseAction::Dispose(Disposition::CloseWithoutAction),
        CaseAction::Dispose(Disposition::File),
        CaseAction::ApproveFiling,
        CaseAction::RejectFiling,
        CaseAction::Conclude,
        CaseAction::Close,
        CaseAction::Reopen,
    ];

    /// The action's name as served in `allowed_actions`: the disposition's text, or
    /// `approve_filing`, `reject_filing`, `conclude`, `close`, `reopen`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseAction::Dispose(d) => d.as_str(),
            CaseAction::ApproveFiling => "approve_filing",
            CaseAction::RejectFiling => "reject_filing",
            CaseAction::Conclude => "conclude",
            CaseAction::Close => "close",
            CaseAction::Reopen => "reopen",
        }
    }

    /// Who may take this action: dispositions investigators of the case's team and supervisors;
    /// filing decisions, closing and reopening supervisors (Art 17: filing needs approval);
    /// concluding the system.
    pub fn who(self) -> Who {
        match self {
            CaseAction::Dispose(_) => Who::CaseWorkers,
            CaseAction::ApproveFiling
            | CaseAction::RejectFiling
            | CaseAction::Close
            | CaseAction::Reopen => Who::Supervisors,
            CaseAction::Conclude => Who::System,
        }
    }

    /// Whether a staff member with `roles` may take this action at all (the team of an
    /// investigator is the caller's check).
    pub fn allowed_for(self, roles: &[Role]) -> bool {
        self.who().roles().iter().any(|r| roles.contains(r))
    }
}

/// What a transition needs of the case's records beside its status; the caller reads the facts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Precondition {
    /// Every investigation of the case is concluded.
    EveryInvestigationConcluded,
    /// Nothing blocks closing (`domain::closing::blockers` is empty); otherwise 409
    /// `close_blocked` with every blocker.
    NothingBlocksClosing,
    /// The primary investigation is concluded (there is something to reopen).
    PrimaryConcluded,
}

impl Precondition {
    /// How the diagram and the docs name it.
    pub fn label(self) -> &'static str {
        match self {
            Precondition::EveryInvestigationConcluded => "every investigation concluded",
            Precondition::NothingBlocksClosing => "nothing blocks closing",
            Precondition::PrimaryConcluded => "primary investigation concluded",
        }
    }
}

/// One transition of the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: CaseStatus,
    pub action: CaseAction,
    pub to: CaseStatus,
    pub precondition: Option<Precondition>,
}

const fn t(from: CaseStatus, action: CaseAction, to: CaseStatus) -> Transition {
    Transition {
        from,
        action,
        to,
        precondition: None,
    }
}

const fn when(
    from: CaseStatus,
    action: CaseAction,
    to: CaseStatus,
    precondition: Precondition,
) -> Transition {
    Transition {
        from,
        action,
        to,
        precondition: Some(precondition),
    }
}

use CaseAction::{ApproveFiling, Close, Conclude, Dispose, RejectFiling, Reopen};
use CaseStatus::{
    Closed, ClosedWithoutAction, Concluded, Filed, FilingRequested, Inquiry as InInquiry, OnHold,
    PreliminaryVerification as InVerification, Registered,
};
use Disposition::{
    CloseWithoutAction as DCloseWithoutAction, File as DFile, Inquiry as DInquiry,
    OnHold as DOnHold, PreliminaryVerification as DVerification,
};

/// Every transition the rules allow. The same disposition twice is no transition, except a new
/// review date for a case on hold.
pub const TRANSITIONS: [Transition; 27] = [
    t(Registered, Dispose(DInquiry), InInquiry),
    t(Registered, Dispose(DVerification), InVerification),
    t(Registered, Dispose(DOnHold), OnHold),
    t(
        Registered,
        Dispose(DCloseWithoutAction),
        ClosedWithoutAction,
    ),
    t(Registered, Dispose(DFile), FilingRequested),
    t(InInquiry, Dispose(DVerification), InVerification),
    t(InInquiry, Dispose(DOnHold), OnHold),
    t(InInquiry, Dispose(DCloseWithoutAction), ClosedWithoutAction),
    t(InInquiry, Dispose(DFile), FilingRequested),
    t(InVerification, Dispose(DInquiry), InInquiry),
    t(InVerification, Dispose(DOnHold), OnHold),
    t(
        InVerification,
        Dispose(DCloseWithoutAction),
        ClosedWithoutAction,
    ),
    t(InVerification, Dispose(DFile), FilingRequested),
    t(OnHold, Dispose(DInquiry), InInquiry),
    t(OnHold, Dispose(DVerification), InVerification),
    t(OnHold, Dispose(DOnHold), OnHold),
    t(OnHold, Dispose(DCloseWithoutAction), ClosedWithoutAction),
    t(OnHold, Dispose(DFile), FilingRequested),
    t(FilingRequested, ApproveFiling, Filed),
    t(FilingRequested, RejectFiling, InVerification),
    when(
        Filed,
        Conclude,
        Concluded,
        Precondition::EveryInvestigationConcluded,
    ),
    when(Filed, Close, Closed, Precondition::NothingBlocksClosing),
    when(Filed, Reopen, Filed, Precondition::PrimaryConcluded),
    when(Concluded, Close, Closed, Precondition::NothingBlocksClosing),
    t(Concluded, Reopen, Filed),
    t(Closed, Reopen, Filed),
    t(ClosedWithoutAction, Reopen, Registered),
];

/// The transition for `action` on a case in `from`, or `None` when the rules do not allow it.
pub fn find(from: CaseStatus, action: CaseAction) -> Option<&'static Transition> {
    TRANSITIONS
        .iter()
        .find(|t| t.from == from && t.action == action)
}

/// The status after `action` on a case in `from`, or `None` when the rules do not allow it.
pub fn next_status(from: CaseStatus, action: CaseAction) -> Option<CaseStatus> {
    find(from, action).map(|t| t.to)
}

/// The actions staff may ask for on a case in `status`, in [`CaseAction::ALL`] order (the
/// system's `conclude` is not asked for, so it is not listed). Preconditions are not judged
/// here: `close` is listed for a `filed` case, and refused with its blockers.
pub fn allowed_actions(status: CaseStatus) -> Vec<CaseAction> {
    CaseAction::ALL
        .into_iter()
        .filter(|a| a.who() != Who::System && find(status, *a).is_some())
        .collect()
}

/// A transition the rules do not allow: the case's status and what it allows instead (served
/// as 409 `invalid_transition` with `status` and `allowed_actions`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a case that is {} does not allow {}", status.as_str(), action.as_str())]
pub struct InvalidTransition {
    pub status: CaseStatus,
    pub action: CaseAction,
    pub allowed: Vec<CaseAction>,
}

/// The status after `action` on a case in `from`.
///
/// Errors: [`InvalidTransition`] naming the status and the allowed actions.
pub fn transition(from: CaseStatus, action: CaseAction) -> Result<CaseStatus, InvalidTransition> {
    next_status(from, action).ok_or_else(|| InvalidTransition {
        status: from,
        action,
        allowed: allowed_actions(from),
    })
}

/// Why [`check`] refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The roles may not take the action in any status (403).
    Forbidden,
    /// The status does not allow the action (409 `invalid_transition`).
    Invalid(InvalidTransition),
}

/// The transition a staff member with `roles` asks for with `action` on a case in `from`: the
/// role rule first (it does not depend on the status), then the status. The caller then checks
/// the transition's precondition and, for investigators, the case's team.
///
/// Errors: [`Refusal::Forbidden`]; [`Refusal::Invalid`] with the allowed actions.
pub fn check(
    from: CaseStatus,
    action: CaseAction,
    roles: &[Role],
) -> Result<&'static Transition, Refusal> {
    if !action.allowed_for(roles) {
        return Err(Refusal::Forbidden);
    }
    find(from, action).ok_or_else(|| {
        Refusal::Invalid(InvalidTransition {
            status: from,
            action,
            allowed: allowed_actions(from),
        })
    })
}

/// The machine as a Mermaid state diagram, one edge per row of [`TRANSITIONS`], each labelled
/// with the action, who may take it and its precondition. `docs/case-handling.md` holds this
/// text (a unit test checks it; `probity states` prints it).
pub fn mermaid() -> String {
    let mut out = String::from("stateDiagram-v2\n    [*] --> registered: accept (triage)\n");
    for row in TRANSITIONS {
        let mut label = format!("{}, {}", row.action.as_str(), row.action.who().label());
        if let Some(p) = row.precondition {
            label.push_str(", if ");
            label.push_str(p.label());
        }
        out.push_str(&format!(
            "    {} --> {}: {}\n",
            row.from.as_str(),
            row.to.as_str(),
            label
        ));
    }
    out
}

/// The dates a case is due by, beside its triage date (which is met once the case exists).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseDeadlines {
    /// A real-name report is acknowledged within 15 working days; cleared once acknowledged.
    pub acknowledge_by: Option<NaiveDate>,
    /// Preliminary verification ends by this date (`deadlines.preliminary_verification_days`).
    pub verification_due: Option<NaiveDate>,
    /// A case on hold is reviewed by this date (Art 17, 暂存待查).
    pub review_on: Option<NaiveDate>,
    /// The result is fed back to a real-name reporter by this date (15 working days from the
    /// primary investigation's conclusion); cleared once a feedback message is sent.
    pub feedback_due: Option<NaiveDate>,
    /// The earliest due date of the case's open investigations.
    pub investigation_due: Option<NaiveDate>,
    /// The earliest recovery deadline of the case's clawbacks with money outstanding (SPEC.md
    /// rule 3; issue 11, item 6). It runs whatever the case's status: a closed case may still
    /// have money to recover.
    pub clawback_due: Option<NaiveDate>,
}

/// The earliest deadline still running for a case in `status` (county dates), or `None`: the
/// acknowledgement and feedback dates while set, the verification date only in
/// `preliminary_verification`, the review date only `on_hold`, the open investigations' date
/// only `filed`; once closed, only the clawback date (money still to recover keeps a closed
/// case in the queue).
pub fn earliest_open_deadline(status: CaseStatus, d: &CaseDeadlines) -> Option<NaiveDate> {
    if !status.is_open() {
        return d.clawback_due;
    }
    [
        d.clawback_due,
        d.acknowledge_by,
        (status == CaseStatus::PreliminaryVerification)
            .then_some(d.verification_due)
            .flatten(),
        (status == CaseStatus::OnHold)
            .then_some(d.review_on)
            .flatten(),
        d.feedback_due,
        (status == CaseStatus::Filed)
            .then_some(d.investigation_due)
            .flatten(),
    ]
    .into_iter()
    .flatten()
    .min()
}

/// Whether a case whose earliest open deadline is `due` is overdue on `today` (county date):
/// the deadline has passed.
pub fn is_overdue(due: Option<NaiveDate>, today: NaiveDate) -> bool {
    due.is_some_and(|due| due < today)
}

/// The end of a preliminary verification decided on `today`: `days` calendar days later.
pub fn verification_due(today: NaiveDate, days: u32) -> NaiveDate {
    today + chrono::Days::new(u64::from(days))
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus as S;

    /// The whole table, status × action, written out: `None` is refused.
    fn expected(from: CaseStatus, action: CaseAction) -> Option<CaseStatus> {
        use CaseAction as A;
        use Disposition as D;
        match (from, action) {
            (S::Registered, A::Dispose(D::Inquiry)) => Some(S::Inquiry),
            (S::Registered, A::Dispose(D::PreliminaryVerification)) => {
                Some(S::PreliminaryVerification)
            }
            (S::Registered, A::Dispose(D::OnHold)) => Some(S::OnHold),
            (S::Registered, A::Dispose(D::CloseWithoutAction)) => Some(S::ClosedWithoutAction),
            (S::Registered, A::Dispose(D::File)) => Some(S::FilingRequested),

            (S::Inquiry, A::Dispose(D::Inquiry)) => None,
            (S::Inquiry, A::Dispose(D::PreliminaryVerification)) => {
                Some(S::PreliminaryVerification)
            }
            (S::Inquiry, A::Dispose(D::OnHold)) => Some(S::OnHold),
            (S::Inquiry, A::Dispose(D::CloseWithoutAction)) => Some(S::ClosedWithoutAction),
            (S::Inquiry, A::Dispose(D::File)) => Some(S::FilingRequested),

            (S::PreliminaryVerification, A::Dispose(D::Inquiry)) => Some(S::Inquiry),
            (S::PreliminaryVerification, A::Dispose(D::PreliminaryVerification)) => None,
            (S::PreliminaryVerification, A::Dispose(D::OnHold)) => Some(S::OnHold),
            (S::PreliminaryVerification, A::Dispose(D::CloseWithoutAction)) => {
                Some(S::ClosedWithoutAction)
            }
            (S::PreliminaryVerification, A::Dispose(D::File)) => Some(S::FilingRequested),

            (S::OnHold, A::Dispose(D::Inquiry)) => Some(S::Inquiry),
            (S::OnHold, A::Dispose(D::PreliminaryVerification)) => Some(S::PreliminaryVerification),
            (S::OnHold, A::Dispose(D::OnHold)) => Some(S::OnHold),
            (S::OnHold, A::Dispose(D::CloseWithoutAction)) => Some(S::ClosedWithoutAction),
            (S::OnHold, A::Dispose(D::File)) => Some(S::FilingRequested),

            (S::FilingRequested, A::ApproveFiling) => Some(S::Filed),
            (S::FilingRequested, A::RejectFiling) => Some(S::PreliminaryVerification),
            (S::Filed, A::Conclude) => Some(S::Concluded),
            (S::Filed, A::Close) => Some(S::Closed),
            (S::Filed, A::Reopen) => Some(S::Filed),
            (S::Concluded, A::Close) => Some(S::Closed),
            (S::Concluded, A::Reopen) => Some(S::Filed),
            (S::Closed, A::Reopen) => Some(S::Filed),
            (S::ClosedWithoutAction, A::Reopen) => Some(S::Registered),
            _ => None,
        }
    }

    /// The roles that may ask for each action, written out (SPEC.md → "Roles and permissions").
    fn expected_roles(action: CaseAction) -> &'static [Role] {
        match action {
            CaseAction::Dispose(_) => &[Role::Investigator, Role::Supervisor],
            CaseAction::ApproveFiling
            | CaseAction::RejectFiling
            | CaseAction::Close
            | CaseAction::Reopen => &[Role::Supervisor],
            CaseAction::Conclude => &[],
        }
    }

    /// The preconditions, written out.
    fn expected_precondition(from: CaseStatus, action: CaseAction) -> Option<Precondition> {
        match (from, action) {
            (S::Filed, CaseAction::Conclude) => Some(Precondition::EveryInvestigationConcluded),
            (S::Filed | S::Concluded, CaseAction::Close) => {
                Some(Precondition::NothingBlocksClosing)
            }
            (S::Filed, CaseAction::Reopen) => Some(Precondition::PrimaryConcluded),
            _ => None,
        }
    }

    #[test]
    fn every_status_action_and_role_follows_the_table() {
        let mut combinations = 0;
        for &from in CaseStatus::ALL {
            for action in CaseAction::ALL {
                for role in Role::ALL {
                    combinations += 1;
                    let name = format!("{} × {} × {role}", from.as_str(), action.as_str());
                    match check(from, action, &[role]) {
                        Ok(row) => {
                            assert!(expected_roles(action).contains(&role), "{name}");
                            assert_eq!(Some(row.to), expected(from, action), "{name}");
                            assert_eq!(row.from, from);
                            assert_eq!(row.action, action);
                            assert_eq!(
                                row.precondition,
                                expected_precondition(from, action),
                                "{name}"
                            );
                        }
                        Err(Refusal::Forbidden) => {
                            assert!(!expected_roles(action).contains(&role), "{name}")
                        }
                        Err(Refusal::Invalid(e)) => {
                            assert!(expected_roles(action).contains(&role), "{name}");
                            assert_eq!(expected(from, action), None, "{name}");
                            assert_eq!(e.status, from);
                            assert_eq!(e.allowed, allowed_actions(from));
                        }
                    }
                }
            }
        }
        assert_eq!(combinations, 9 * 10 * 6);
        // Several roles: any one that may is enough.
        assert!(check(
            S::Concluded,
            CaseAction::Close,
            &[Role::Auditor, Role::Supervisor]
        )
        .is_ok());
        assert_eq!(
            check(S::Concluded, CaseAction::Close, &[Role::Admin]),
            Err(Refusal::Forbidden),
            "no override for administrators"
        );
    }

    #[test]
    fn the_table_has_one_row_per_status_and_action() {
        for (i, a) in TRANSITIONS.iter().enumerate() {
            for b in &TRANSITIONS[i + 1..] {
                assert!(
                    (a.from, a.action) != (b.from, b.action),
                    "{} × {} twice",
                    a.from.as_str(),
                    a.action.as_str()
                );
            }
        }
        let rows = CaseStatus::ALL
            .iter()
            .flat_map(|&s| CaseAction::ALL.map(|a| (s, a)))
            .filter(|(s, a)| expected(*s, *a).is_some())
            .count();
        assert_eq!(rows, TRANSITIONS.len());
    }

    #[test]
    fn every_status_and_action_follows_the_table() {
        for &from in CaseStatus::ALL {
            for action in CaseAction::ALL {
                assert_eq!(
                    next_status(from, action),
                    expected(from, action),
                    "{} × {}",
                    from.as_str(),
                    action.as_str()
                );
                match transition(from, action) {
                    Ok(to) => assert_eq!(Some(to), expected(from, action)),
                    Err(e) => {
                        assert_eq!(e.status, from);
                        assert_eq!(e.allowed, allowed_actions(from));
                        assert!(!e.allowed.contains(&action));
                    }
                }
            }
        }
    }

    #[test]
    fn allowed_actions_name_what_each_status_allows() {
        let names = |s| {
            allowed_actions(s)
                .into_iter()
                .map(CaseAction::as_str)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(S::Registered),
            [
                "inquiry",
                "preliminary_verification",
                "on_hold",
                "close_without_action",
                "file"
            ]
        );
        assert_eq!(
            names(S::FilingRequested),
            ["approve_filing", "reject_filing"]
        );
        // `conclude` is the system's, never asked for.
        assert_eq!(names(S::Filed), ["close", "reopen"]);
        assert_eq!(names(S::Concluded), ["close", "reopen"]);
        assert_eq!(names(S::Closed), ["reopen"]);
        assert_eq!(names(S::ClosedWithoutAction), ["reopen"]);
    }

    #[test]
    fn the_documented_diagram_is_the_table() {
        let diagram = mermaid();
        assert_eq!(diagram.lines().count(), 2 + TRANSITIONS.len());
        assert!(diagram.contains(
            "    filed --> concluded: conclude, system, if every investigation concluded\n"
        ));
        assert!(diagram.contains("    concluded --> filed: reopen, supervisor\n"));
        let doc = include_str!("../../docs/case-handling.md");
        assert!(
            doc.contains(&format!("```mermaid\n{diagram}```")),
            "docs/case-handling.md must hold the diagram `probity states` prints:\n{diagram}"
        );
    }

    #[test]
    fn roles_follow_the_permissions_table() {
        let file = CaseAction::Dispose(Disposition::File);
        assert!(file.allowed_for(&[Role::Investigator]));
        assert!(file.allowed_for(&[Role::Supervisor]));
        assert!(!file.allowed_for(&[Role::Intake]));
        assert!(!file.allowed_for(&[Role::Auditor]));
        assert!(CaseAction::ApproveFiling.allowed_for(&[Role::Supervisor]));
        assert!(!CaseAction::ApproveFiling.allowed_for(&[Role::Investigator]));
        assert!(!CaseAction::RejectFiling.allowed_for(&[Role::Investigator, Role::Intake]));
        assert!(!CaseAction::Conclude.allowed_for(&Role::ALL));
        // The roles of the table agree with the permissions the handlers require.
        use crate::domain::permissions::{allows, Permission};
        for role in Role::ALL {
            assert_eq!(
                CaseAction::Close.allowed_for(&[role]),
                allows(&[role], Permission::Supervise)
            );
            assert_eq!(
                CaseAction::Dispose(Disposition::File).allowed_for(&[role]),
                allows(&[role], Permission::WorkCases)
            );
        }
    }

    #[test]
    fn texts_round_trip_and_only_closed_cases_are_not_open() {
        for &s in CaseStatus::ALL {
            assert_eq!(CaseStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                s.is_open(),
                !matches!(s, S::Closed | S::ClosedWithoutAction)
            );
        }
        for &d in Disposition::ALL {
            assert_eq!(Disposition::parse(d.as_str()), Some(d));
        }
        assert_eq!(CaseStatus::parse("merged"), None);
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn the_earliest_running_deadline_counts_and_none_once_closed() {
        let dl = CaseDeadlines {
            acknowledge_by: Some(d(2026, 12, 18)),
            verification_due: Some(d(2026, 12, 10)),
            review_on: Some(d(2026, 12, 1)),
            feedback_due: None,
            investigation_due: Some(d(2026, 11, 30)),
            clawback_due: None,
        };
        assert_eq!(
            earliest_open_deadline(S::Registered, &dl),
            Some(d(2026, 12, 18))
        );
        assert_eq!(
            earliest_open_deadline(S::PreliminaryVerification, &dl),
            Some(d(2026, 12, 10))
        );
        assert_eq!(earliest_open_deadline(S::OnHold, &dl), Some(d(2026, 12, 1)));
        assert_eq!(earliest_open_deadline(S::ClosedWithoutAction, &dl), None);
        assert_eq!(earliest_open_deadline(S::Filed, &dl), Some(d(2026, 11, 30)));
        assert_eq!(
            earliest_open_deadline(S::Concluded, &dl),
            Some(d(2026, 12, 18)),
            "a concluded case has no open investigation"
        );
        assert!(is_overdue(Some(d(2026, 12, 1)), d(2026, 12, 2)));
        assert!(!is_overdue(Some(d(2026, 12, 1)), d(2026, 12, 1)));
        assert!(!is_overdue(None, d(2030, 1, 1)));
        assert_eq!(verification_due(d(2026, 11, 29), 60), d(2027, 1, 28));
    }

    #[test]
    fn a_clawback_date_runs_in_every_status() {
        let dl = CaseDeadlines {
            acknowledge_by: Some(d(2026, 12, 18)),
            clawback_due: Some(d(2026, 12, 10)),
            ..CaseDeadlines::default()
        };
        assert_eq!(earliest_open_deadline(S::Filed, &dl), Some(d(2026, 12, 10)));
        assert_eq!(
            earliest_open_deadline(S::Closed, &dl),
            Some(d(2026, 12, 10))
        );
        let later = CaseDeadlines {
            clawback_due: Some(d(2027, 3, 31)),
            ..dl
        };
        assert_eq!(
            earliest_open_deadline(S::Registered, &later),
            Some(d(2026, 12, 18))
        );
        assert_eq!(
            earliest_open_deadline(S::Closed, &later),
            Some(d(2027, 3, 31))
        );
    }
}
