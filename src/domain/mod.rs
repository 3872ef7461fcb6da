//! Pure types and rules of the domain: no I/O, unit-tested where they live.

pub mod audit_chain;
pub mod backoff;
pub mod calendar;
pub mod case_status;
pub mod clawback;
pub mod custody;
pub mod deadlines;
pub mod divisions;
pub mod email;
pub mod error_code;
pub mod id_number;
pub mod ids;
pub mod login_throttle;
pub mod money;
pub mod password_policy;
pub mod permissions;
pub mod receipt_code;
pub mod reminders;
pub mod report;
pub mod roles;
pub mod routing;
pub mod schedule;
pub mod subject_level;
pub mod text;
pub mod violation;
