//! Remediation plans (整改; SPEC.md → "Suspension" and "Case handling" → "Remediation"): the
//! states of an item, what may be done to it in each, and when a plan is complete. Pure.
//!
//! An item moves `open` → `submitted` (evidence sent) → `verified` (by a supervisor), or
//! `submitted` → `rejected` (with a reason) → `submitted` again. `verified` is final. A plan is
//! complete when it has at least one item and every item is `verified`; the verification that
//! completes it is final too: a complete plan takes no new items (`may_add_item`), so the
//! suspension it cleared never hangs on an item added afterwards.

named_enum!(
    /// Where a remediation item stands.
    ItemStatus {
        /// Created; no evidence yet.
        Open = "open",
        /// Evidence submitted; waiting for a supervisor.
        Submitted = "submitted",
        /// A supervisor verified the evidence. Final.
        Verified = "verified",
        /// A supervisor rejected the evidence, with a reason; it may be submitted again.
        Rejected = "rejected",
    }
);

named_enum!(
    /// What can be done to an item.
    ItemAction {
        /// Send evidence (investigator of the case's team, supervisor).
        Submit = "submit",
        /// Accept the evidence (supervisor).
        Verify = "verify",
        /// Refuse the evidence with a reason (supervisor).
        Reject = "reject",
    }
);

impl ItemStatus {
    /// The actions allowed on an item in this status, in a fixed order.
    pub fn allowed(self) -> &'static [ItemAction] {
        match self {
            ItemStatus::Open | ItemStatus::Rejected => &[ItemAction::Submit],
            ItemStatus::Submitted => &[ItemAction::Verify, ItemAction::Reject],
            ItemStatus::Verified => &[],
        }
    }

    /// Whether the item still waits for the responsible unit (not yet submitted, or sent back):
    /// the items that can be overdue (their `due_on` passed).
    pub fn awaits_evidence(self) -> bool {
        matches!(self, ItemStatus::Open | ItemStatus::Rejected)
    }
}

/// An action the rules do not allow on an item in `status` (409 `invalid_transition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemTransitionRefused {
    pub status: ItemStatus,
    pub action: ItemAction,
    pub allowed: &'static [ItemAction],
}

/// The status an item in `status` moves to by `action`.
///
/// Errors: [`ItemTransitionRefused`] naming the status and the allowed actions.
pub fn transition(
    status: ItemStatus,
    action: ItemAction,
) -> Result<ItemStatus, ItemTransitionRefused> {
    if !status.allowed().contains(&action) {
        return Err(ItemTransitionRefused {
            status,
            action,
            allowed: status.allowed(),
        });
    }
    Ok(match action {
        ItemAction::Submit => ItemStatus::Submitted,
        ItemAction::Verify => ItemStatus::Verified,
        ItemAction::Reject => ItemStatus::Rejected,
    })
}

/// Whether a plan whose items have `statuses` is complete (SPEC.md → "Remediation"): at least
/// one item, and every item verified.
pub fn plan_complete(statuses: &[ItemStatus]) -> bool {
    !statuses.is_empty() && statuses.iter().all(|s| *s == ItemStatus::Verified)
}

/// Whether an item may be added to a plan whose items have `statuses`: while the plan is not
/// complete. A complete plan cleared its case from the village's suspension (and may have lifted
/// it); it is closed.
pub fn may_add_item(statuses: &[ItemStatus]) -> bool {
    !plan_complete(statuses)
}

#[cfg(test)]
mod tests {
    use super::ItemAction::*;
    use super::ItemStatus::*;
    use super::*;

    #[test]
    fn an_item_is_submitted_then_verified_or_rejected_and_submitted_again() {
        assert_eq!(transition(Open, Submit), Ok(Submitted));
        assert_eq!(transition(Submitted, Verify), Ok(Verified));
        assert_eq!(transition(Submitted, Reject), Ok(Rejected));
        assert_eq!(transition(Rejected, Submit), Ok(Submitted));
    }

    #[test]
    fn refusals_name_the_status_and_what_is_allowed() {
        let refused = transition(Open, Verify).unwrap_err();
        assert_eq!(refused.status, Open);
        assert_eq!(refused.allowed, &[Submit]);
        assert_eq!(
            transition(Submitted, Submit).unwrap_err().allowed,
            &[Verify, Reject]
        );
        assert!(transition(Rejected, Reject).is_err());
        for action in ItemAction::ALL {
            let refused = transition(Verified, *action).unwrap_err();
            assert!(refused.allowed.is_empty(), "verified is final");
        }
    }

    #[test]
    fn a_plan_is_complete_with_one_item_or_more_all_verified() {
        assert!(!plan_complete(&[]), "no items: no plan");
        assert!(plan_complete(&[Verified]));
        assert!(plan_complete(&[Verified, Verified]));
        for other in [Open, Submitted, Rejected] {
            assert!(!plan_complete(&[Verified, other]));
        }
        assert!(may_add_item(&[]));
        assert!(may_add_item(&[Verified, Rejected]));
        assert!(!may_add_item(&[Verified]), "a complete plan is closed");
    }

    #[test]
    fn only_open_and_rejected_items_await_evidence() {
        assert!(Open.awaits_evidence() && Rejected.awaits_evidence());
        assert!(!Submitted.awaits_evidence() && !Verified.awaits_evidence());
    }
}
