//! The custodian rules for a reporter's identity (SPEC.md → "Reporter identity (custodian)";
//! issue 9, item 8): who may decide a request, and how long an approval lets its requester read.
//! Pure: times are passed in (UTC, from the application's clock).

use chrono::{Duration, NaiveDateTime};

/// How long an approval lasts: 24 hours from the decision (SPEC.md: "for 24 hours").
pub const ACCESS_HOURS: i64 = 24;

/// Where a request for a reporter's identity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
#[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
pub enum RequestStatus {
    Pending,
    Approved,
    Denied,
}

impl RequestStatus {
    /// The text served and stored: `pending | approved | denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Denied => "denied",
        }
    }

    /// The status named `s`, or `None`.
    pub fn parse(s: &str) -> Option<RequestStatus> {
        match s {
            "pending" => Some(RequestStatus::Pending),
            "approved" => Some(RequestStatus::Approved),
            "denied" => Some(RequestStatus::Denied),
            _ => None,
        }
    }
}

/// Why a decision may not be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionRefused {
    /// The decider asked for it themselves (403 `own_request`).
    OwnRequest,
    /// The request was decided already (409 `already_decided`).
    AlreadyDecided,
}

/// Whether `decider` may decide a request of `requester` that is `status`: only a pending
/// request, and never by its requester (SPEC.md: "a supervisor who is not the requester").
/// The caller checks that the decider is a supervisor.
pub fn may_decide(
    requester: &str,
    decider: &str,
    status: RequestStatus,
) -> Result<(), DecisionRefused> {
    if requester == decider {
        return Err(DecisionRefused::OwnRequest);
    }
    if status != RequestStatus::Pending {
        return Err(DecisionRefused::AlreadyDecided);
    }
    Ok(())
}

/// When an approval given at `decided_at` (UTC) stops granting access.
pub fn expires_at(decided_at: NaiveDateTime) -> NaiveDateTime {
    decided_at + Duration::hours(ACCESS_HOURS)
}

/// Whether a request of `requester` that is `status` and expires at `expires` lets `reader`
/// read the identity at `now` (UTC): approved, the reader is the requester, and `now` is
/// before the expiry.
pub fn grants(
    requester: &str,
    status: RequestStatus,
    expires: Option<NaiveDateTime>,
    reader: &str,
    now: NaiveDateTime,
) -> bool {
    status == RequestStatus::Approved && requester == reader && expires.is_some_and(|e| now < e)
}

/// What the reporter's view says once their identity was read (first at `at`, UTC): that the
/// handling staff have seen it, and when (county time, UTC+8), never by whom (SPEC.md →
/// "Reporter identity (custodian)").
pub fn disclosure_zh(at: chrono::DateTime<chrono::Utc>) -> String {
    let cst = chrono::FixedOffset::east_opt(8 * 3600).expect("valid offset");
    format!(
        "办理人员已查阅您的身份信息（{}）",
        at.with_timezone(&cst).format("%Y年%-m月%-d日 %H:%M")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 11, 30)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn the_requester_never_decides_and_a_request_is_decided_once() {
        use RequestStatus::*;
        assert_eq!(
            may_decide("a", "a", Pending),
            Err(DecisionRefused::OwnRequest)
        );
        assert_eq!(
            may_decide("a", "a", Approved),
            Err(DecisionRefused::OwnRequest)
        );
        assert_eq!(
            may_decide("a", "b", Approved),
            Err(DecisionRefused::AlreadyDecided)
        );
        assert_eq!(
            may_decide("a", "b", Denied),
            Err(DecisionRefused::AlreadyDecided)
        );
        assert_eq!(may_decide("a", "b", Pending), Ok(()));
    }

    #[test]
    fn access_is_the_requesters_alone_for_24_hours() {
        let decided = at(1);
        let expires = Some(expires_at(decided));
        let approved = RequestStatus::Approved;
        assert!(grants("a", approved, expires, "a", at(1)));
        assert!(grants(
            "a",
            approved,
            expires,
            "a",
            decided + Duration::hours(23)
        ));
        assert!(!grants(
            "a",
            approved,
            expires,
            "a",
            decided + Duration::hours(24)
        ));
        assert!(!grants("a", approved, expires, "b", at(2)));
        assert!(!grants("a", RequestStatus::Pending, expires, "a", at(2)));
        assert!(!grants("a", RequestStatus::Denied, expires, "a", at(2)));
        assert!(!grants("a", approved, None, "a", at(2)));
        assert_eq!(
            disclosure_zh(at(2).and_utc()),
            "办理人员已查阅您的身份信息（2026年11月30日 10:00）"
        );
        for s in [
            RequestStatus::Pending,
            RequestStatus::Approved,
            RequestStatus::Denied,
        ] {
            assert_eq!(RequestStatus::parse(s.as_str()), Some(s));
        }
    }
}
