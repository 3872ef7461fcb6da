//! Id newtypes: a report id cannot be passed where a user id is expected. Each is a UUID (or,
//! for users created before, any text) stored in a `Text` column through the one mechanism in
//! `db::text`.

use std::fmt;

macro_rules! id_type {
    ($($(#[$meta:meta])* $name:ident),+ $(,)?) => {$(
        $(#[$meta])*
        #[derive(
            Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize,
            diesel::AsExpression, diesel::FromSqlRow,
        )]
        #[serde(transparent)]
        #[diesel(sql_type = diesel::sql_types::Text)]
        pub struct $name(String);

        impl $name {
            /// A fresh random (v4 UUID) id.
            pub fn generate() -> $name {
                $name(uuid::Uuid::new_v4().to_string())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> $name {
                $name(id)
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> $name {
                $name(id.to_string())
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )+};
}

id_type!(
    /// `reports.id`.
    ReportId,
    /// `attachments.id`.
    AttachmentId,
    /// `report_messages.id`.
    MessageId,
    /// `users.id`.
    UserId,
    /// `officials.id`.
    OfficialId,
    /// `teams.id`.
    TeamId,
    /// `api_keys.id`.
    ApiKeyId,
    /// `refresh_tokens.id`.
    RefreshTokenId,
    /// `cases.id`.
    CaseId,
    /// `case_notes.id`.
    NoteId,
    /// `routing_rules.id`.
    RoutingRuleId,
    /// `conflict_declarations.id`.
    ConflictId,
    /// `identity_requests.id`.
    IdentityRequestId,
    /// `identity_disclosures.id`.
    DisclosureId,
    /// `investigations.id`.
    InvestigationId,
    /// `investigation_conclusions.id`.
    ConclusionId,
    /// `sanctions.id`.
    SanctionId,
    /// `false_accusations.id`.
    FalseAccusationId,
    /// `suspensions.id`.
    SuspensionId,
    /// `suspension_events.id`.
    SuspensionEventId,
    /// `clawback_statements.id`.
    ClawbackStatementId,
    /// `remediation_items.id`.
    RemediationItemId,
    /// `objections.id`.
    ObjectionId,
    /// `clawbacks.id`.
    ClawbackId,
    /// `clawback_signers.id`.
    SignerId,
    /// `clawback_amendments.id`.
    AmendmentId,
    /// `recoveries.id`.
    RecoveryId,
);

// Benefit suspension until remediation (issue 12).
id_type!(
    /// `remediation_events.id`.
    RemediationEventId,
    /// `remediation_files.id`.
    RemediationFileId,
    /// `webhook_subscribers.id`.
    WebhookSubscriberId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_distinct_uuids() {
        let a = ReportId::generate();
        let b = ReportId::generate();
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(a.as_str()).is_ok());
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }
}
