//! Pure types and rules of the domain: no I/O, unit-tested where they live.

/// A closed vocabulary stored and served as text: `ALL`, `as_str`, `parse`, `names`, and the
/// diesel derives (`db::text` writes its `ToSql`/`FromSql`).
macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::AsExpression, diesel::FromSqlRow)]
        #[diesel(sql_type = diesel::sql_types::Text)] // stored through db::text
        pub enum $name { $($(#[$vmeta])* $variant),+ }

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

pub mod audit_chain;
pub mod backoff;
pub mod benefit_status;
pub mod calendar;
pub mod case_status;
pub mod clawback;
pub mod closing;
pub mod custody;
pub mod deadlines;
pub mod divisions;
pub mod email;
pub mod error_code;
pub mod id_number;
pub mod ids;
pub mod investigation;
pub mod login_throttle;
pub mod money;
pub mod objection;
pub mod password_policy;
pub mod permissions;
pub mod receipt_code;
pub mod remediation;
pub mod reminders;
pub mod report;
pub mod roles;
pub mod routing;
pub mod schedule;
pub mod subject_level;
pub mod text;
pub mod violation;
