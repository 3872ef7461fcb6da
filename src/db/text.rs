//! One storage mechanism for every value kept in a `Text` column that is not a plain string:
//! id newtypes ([`crate::domain::ids`]) and the closed vocabularies (report status, channel,
//! programme, role).
//!
//! A type opts in with `#[derive(diesel::AsExpression, diesel::FromSqlRow)]` and
//! `#[diesel(sql_type = diesel::sql_types::Text)]` where it is defined, implements [`TextValue`],
//! and is listed in one [`stored_as_text!`] call below. The macro writes `ToSql`/`FromSql` for
//! PostgreSQL, SQLite and the `MultiBackend` that `#[derive(diesel::MultiConnection)]` generates:
//! the multi-backend impls forward to the per-backend ones, as diesel's `MultiConnection`
//! documentation prescribes for custom types. A generic `impl<T: TextValue> ToSql<Text, Pg> for T`
//! is not possible (Rust's orphan rule), hence the macro.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::MultiBackend;
use crate::domain::case_status::{CaseStatus, Disposition};
use crate::domain::clawback::{PayerKind, SignerStage};
use crate::domain::custody::RequestStatus;
use crate::domain::divisions::Level;
use crate::domain::ids::{AmendmentId, ClawbackId, RecoveryId, SignerId};
use crate::domain::ids::{
    ApiKeyId, AttachmentId, CaseId, ConflictId, MessageId, NoteId, OfficialId, RefreshTokenId,
    ReportId, RoutingRuleId, TeamId, UserId,
};
use crate::domain::ids::{
    ClawbackStatementId, ConclusionId, FalseAccusationId, InvestigationId, RemediationItemId,
    SanctionId, SuspensionEventId, SuspensionId,
};
use crate::domain::ids::{DisclosureId, IdentityRequestId, ObjectionId};
use crate::domain::investigation::{
    InvestigationKind, InvestigationStatus, Outcome, SanctionCategory,
};
use crate::domain::objection::ObjectionStatus;
use crate::domain::report::{Channel, Programme, ReportStatus};
use crate::domain::roles::Role;
use crate::domain::subject_level::SubjectLevel;

/// A value stored as text: how it is written, and how a stored text is read back.
pub trait TextValue: Sized {
    /// The text stored in the column.
    fn to_text(&self) -> &str;
    /// The value for a stored text; `None` when the text is not one this type knows, which
    /// reading a row reports as a deserialisation error naming the type and the text.
    fn from_text(text: String) -> Option<Self>;
}

fn unknown<T>(text: &str) -> deserialize::Result<T> {
    Err(format!(
        "stored text {text:?} is not a valid {}",
        std::any::type_name::<T>()
    )
    .into())
}

macro_rules! stored_as_text {
    ($($ty:ty),+ $(,)?) => {$(
        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(TextValue::to_text(self), out)
            }
        }

        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                <str as ToSql<Text, Sqlite>>::to_sql(TextValue::to_text(self), out)
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(bytes: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
                match <$ty as TextValue>::from_text(text.clone()) {
                    Some(value) => Ok(value),
                    None => unknown::<$ty>(&text),
                }
            }
        }

        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(bytes: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
                let text = <String as FromSql<Text, Sqlite>>::from_sql(bytes)?;
                match <$ty as TextValue>::from_text(text.clone()) {
                    Some(value) => Ok(value),
                    None => unknown::<$ty>(&text),
                }
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(
                bytes: <MultiBackend as Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<$ty, Text>()
            }
        }
    )+};
}

macro_rules! text_value_by_parse {
    ($($ty:ty),+ $(,)?) => {$(
        impl TextValue for $ty {
            fn to_text(&self) -> &str {
                self.as_str()
            }
            fn from_text(text: String) -> Option<Self> {
                <$ty>::parse(&text)
            }
        }
    )+};
}

text_value_by_parse!(
    ReportStatus,
    Channel,
    Programme,
    Level,
    SubjectLevel,
    CaseStatus,
    Disposition,
    RequestStatus,
    InvestigationKind,
    InvestigationStatus,
    Outcome,
    SanctionCategory,
    ObjectionStatus,
    SignerStage,
    PayerKind
);

/// Id newtypes are stored as their text as it is: every stored text is a valid id.
macro_rules! text_value_of_id {
    ($($ty:ty),+ $(,)?) => {$(
        impl TextValue for $ty {
            fn to_text(&self) -> &str {
                self.as_ref()
            }
            fn from_text(text: String) -> Option<Self> {
                Some(<$ty>::from(text.as_str()))
            }
        }
    )+};
}

text_value_of_id!(
    ReportId,
    AttachmentId,
    MessageId,
    UserId,
    OfficialId,
    TeamId,
    ApiKeyId,
    RefreshTokenId,
    CaseId,
    NoteId,
    RoutingRuleId,
    ConflictId,
    IdentityRequestId,
    DisclosureId,
    InvestigationId,
    ConclusionId,
    SanctionId,
    FalseAccusationId,
    SuspensionId,
    SuspensionEventId,
    ClawbackStatementId,
    RemediationItemId,
    ObjectionId,
    ClawbackId,
    SignerId,
    AmendmentId,
    RecoveryId,
);

impl TextValue for Role {
    fn to_text(&self) -> &str {
        self.as_str()
    }
    fn from_text(text: String) -> Option<Self> {
        text.parse().ok()
    }
}

stored_as_text!(
    ReportStatus,
    Channel,
    Programme,
    Level,
    Role,
    ReportId,
    AttachmentId,
    MessageId,
    UserId,
    OfficialId,
    TeamId,
    ApiKeyId,
    RefreshTokenId,
    CaseStatus,
    Disposition,
    CaseId,
    NoteId,
    SubjectLevel,
    RoutingRuleId,
    ConflictId,
    IdentityRequestId,
    DisclosureId,
    RequestStatus,
    InvestigationKind,
    InvestigationStatus,
    Outcome,
    SanctionCategory,
    InvestigationId,
    ConclusionId,
    SanctionId,
    FalseAccusationId,
    SuspensionId,
    SuspensionEventId,
    ClawbackStatementId,
    RemediationItemId,
    ObjectionId,
    ObjectionStatus,
    ClawbackId,
    SignerId,
    AmendmentId,
    RecoveryId,
    SignerStage,
    PayerKind,
);

// Benefit suspension until remediation (issue 12).
text_value_of_id!(
    crate::domain::ids::RemediationEventId,
    crate::domain::ids::RemediationFileId,
    crate::domain::ids::WebhookSubscriberId,
);
text_value_by_parse!(crate::domain::remediation::ItemStatus);
stored_as_text!(
    crate::domain::ids::RemediationEventId,
    crate::domain::ids::RemediationFileId,
    crate::domain::ids::WebhookSubscriberId,
    crate::domain::remediation::ItemStatus,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_round_trip_through_their_text() {
        for status in ReportStatus::ALL {
            assert_eq!(
                ReportStatus::from_text(status.to_text().into()),
                Some(*status)
            );
        }
        for role in Role::ALL {
            assert_eq!(Role::from_text(role.to_text().into()), Some(role));
        }
        assert_eq!(Level::from_text("village".into()), Some(Level::Village));
        assert_eq!(ReportStatus::from_text("lost".into()), None);
        let id = ReportId::from("abc".to_string());
        assert_eq!(ReportId::from_text(id.to_text().into()), Some(id));
    }
}
