//! A case's status and the actions that move it: the one place that says which transition the
//! rules allow (SPEC.md → "Case handling", Art 17 of the rules on handling reports). Pure: the
//! handlers ask [`transition`] and store what it answers.
//!
//! - A disposition (Art 17: `inquiry`, `preliminary_verification`, `on_hold`,
//!   `close_without_action`, `file`) is given to a case that is `registered`, `inquiry`,
//!   `preliminary_verification` or `on_hold`, by an investigator of the case's team or a
//!   supervisor. `file` asks for filing: the case becomes `filing_requested`.
//! - A filing decision (supervisor only) approves (`filed`) or rejects (back to
//!   `preliminary_verification`) a `filing_requested` case.
//! - `conclude`, `close` and `reopen` belong to the case lifecycle (the next issue); they are
//!   listed here so the machine is complete, but no endpoint takes them yet.

use chrono::NaiveDate;

use super::roles::Role;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The text served and stored.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value for `s`, or `None` when `s` names none.
            pub fn parse(s: &str) -> Option<$name> {
                match s { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Every text, comma-separated (for error messages).
            pub fn names() -> String {
                [$($text),+].join(", ")
            }
        }
    };
}

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
    /// Every investigation concluded (next issue).
    Conclude,
    /// Closed by a supervisor (next issue).
    Close,
    /// Reopened by a supervisor after new evidence or an objection (next issue).
    Reopen,
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

    /// Whether a staff member with `roles` may take this action at all (investigators of the
    /// case's team are checked by the caller; this is the role rule of SPEC.md → "Roles and
    /// permissions"): dispositions by investigators and supervisors; filing decisions, closing
    /// and reopening by supervisors (Art 17: filing needs approval); concluding is the system's.
    pub fn allowed_for(self, roles: &[Role]) -> bool {
        let has = |r: Role| roles.contains(&r);
        match self {
            CaseAction::Dispose(_) => has(Role::Investigator) || has(Role::Supervisor),
            CaseAction::ApproveFiling
            | CaseAction::RejectFiling
            | CaseAction::Close
            | CaseAction::Reopen => has(Role::Supervisor),
            CaseAction::Conclude => false,
        }
    }
}

/// The status after `action` on a case in `from`, or `None` when the rules do not allow it.
pub fn next_status(from: CaseStatus, action: CaseAction) -> Option<CaseStatus> {
    use CaseStatus as S;
    let disposable = matches!(
        from,
        S::Registered | S::Inquiry | S::PreliminaryVerification | S::OnHold
    );
    match action {
        CaseAction::Dispose(d) if disposable => {
            let to = match d {
                Disposition::Inquiry => S::Inquiry,
                Disposition::PreliminaryVerification => S::PreliminaryVerification,
                Disposition::OnHold => S::OnHold,
                Disposition::CloseWithoutAction => S::ClosedWithoutAction,
                Disposition::File => S::FilingRequested,
            };
            // The same disposition twice is no change, except a new review date for a case on
            // hold.
            (to != from || from == S::OnHold).then_some(to)
        }
        CaseAction::Dispose(_) => None,
        CaseAction::ApproveFiling => (from == S::FilingRequested).then_some(S::Filed),
        CaseAction::RejectFiling => {
            (from == S::FilingRequested).then_some(S::PreliminaryVerification)
        }
        CaseAction::Conclude => (from == S::Filed).then_some(S::Concluded),
        CaseAction::Close => (from == S::Concluded).then_some(S::Closed),
        CaseAction::Reopen => {
            matches!(from, S::Closed | S::ClosedWithoutAction).then_some(S::Registered)
        }
    }
}

/// The actions the rules allow on a case in `status`, in [`CaseAction::ALL`] order.
pub fn allowed_actions(status: CaseStatus) -> Vec<CaseAction> {
    CaseAction::ALL
        .into_iter()
        .filter(|a| next_status(status, *a).is_some())
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

/// The dates a case is due by, beside its triage date (which is met once the case exists).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CaseDeadlines {
    /// A real-name report is acknowledged within 15 working days; cleared once acknowledged.
    pub acknowledge_by: Option<NaiveDate>,
    /// Preliminary verification ends by this date (`deadlines.preliminary_verification_days`).
    pub verification_due: Option<NaiveDate>,
    /// A case on hold is reviewed by this date (Art 17, 暂存待查).
    pub review_on: Option<NaiveDate>,
    /// The result is fed back to a real-name reporter by this date (15 working days).
    pub feedback_due: Option<NaiveDate>,
    /// The earliest recovery deadline of the case's clawbacks with money outstanding (SPEC.md
    /// rule 3; issue 11, item 6). It runs whatever the case's status: a closed case may still
    /// have money to recover.
    pub clawback_due: Option<NaiveDate>,
}

/// The earliest deadline still running for a case in `status` (county dates), or `None`: the
/// acknowledgement and feedback dates while set, the verification date only in
/// `preliminary_verification`, the review date only `on_hold`; once closed, only the clawback
/// date (money still to recover keeps a closed case in the queue).
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
            (S::Concluded, A::Close) => Some(S::Closed),
            (S::Closed, A::Reopen) => Some(S::Registered),
            (S::ClosedWithoutAction, A::Reopen) => Some(S::Registered),
            _ => None,
        }
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
        assert_eq!(names(S::Filed), ["conclude"]);
        assert_eq!(names(S::ClosedWithoutAction), ["reopen"]);
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
