//! `ErrorCode`: the one list of stable machine-readable codes Probity serves, both the problem
//! `code` of an error answer and the `code` of each entry of its `errors[]`.
//!
//! Clients match on these strings, so a code's text never changes once served: each is written
//! here once, in snake_case, and nowhere else in the code base (`every_code_is_written_once`
//! below checks the sources). `ApiError` and `FieldViolation` hold an `ErrorCode`, never a string.

use serde::{Serialize, Serializer};

macro_rules! error_codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $text:literal, )*) => {
        /// A stable code, serialised as its snake_case text (see the module doc).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl ErrorCode {
            /// Every code, in declaration order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as served, e.g. `validation_failed`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $text, )*
                }
            }
        }
    };
}

error_codes! {
    // ---- Problem codes: the `code` of a whole answer. ----
    /// 422: some fields are invalid; see `errors[]`.
    ValidationFailed = "validation_failed",
    /// 400: the request could not be understood (a generic 400 from the framework).
    BadRequest = "bad_request",
    /// 400: the body could not be read.
    BadBody = "bad_body",
    /// 400: the body is not valid JSON.
    MalformedJson = "malformed_json",
    /// 422: the JSON does not have the expected shape.
    InvalidBody = "invalid_body",
    /// 422: a refresh token sent to logout belongs to another sign-in.
    OtherSession = "other_session",
    /// 400: the query string is invalid.
    InvalidQuery = "invalid_query",
    /// 400: a multipart body could not be read.
    BadMultipart = "bad_multipart",
    /// 400: an upload failed while being stored.
    UploadFailed = "upload_failed",
    /// 415: the body's content type is not accepted.
    UnsupportedMediaType = "unsupported_media_type",
    /// 413: the body is too large.
    PayloadTooLarge = "payload_too_large",
    /// 404: no such resource.
    NotFound = "not_found",
    /// 405: the path does not accept the method.
    MethodNotAllowed = "method_not_allowed",
    /// 401: sign in first.
    Unauthorized = "unauthorized",
    /// 403: not allowed.
    Forbidden = "forbidden",
    /// 429: too many requests.
    RateLimited = "rate_limited",
    /// 500: the server failed; nothing was changed.
    InternalError = "internal_error",
    /// 503: the database is not answering.
    DatabaseUnavailable = "database_unavailable",
    /// 503: the Argon2 pool's queue is full (issue 7).
    ServerBusy = "server_busy",
    /// 503: the schema has migrations not yet applied.
    MigrationsPending = "migrations_pending",
    /// Any other 4xx from the framework.
    RequestFailed = "request_failed",
    /// 401: wrong username or password.
    InvalidCredentials = "invalid_credentials",
    /// 423/429: the account is locked after failed sign-ins.
    AccountLocked = "account_locked",
    /// 429: sign-ins from this client are throttled.
    LoginThrottled = "login_throttled",
    /// 401: the password was right; a TOTP code is needed too.
    TotpRequired = "totp_required",
    /// 401: the TOTP code is wrong or already used.
    InvalidTotp = "invalid_totp",
    /// 409: TOTP is already enabled.
    TotpAlreadyEnabled = "totp_already_enabled",
    /// 409: TOTP enrolment was not started.
    TotpNotStarted = "totp_not_started",
    /// 403: the role requires TOTP enrolment first.
    TotpEnrolmentRequired = "totp_enrolment_required",
    /// 401: the refresh token is unknown, expired or revoked.
    InvalidRefreshToken = "invalid_refresh_token",
    /// 409: the username is taken.
    UsernameTaken = "username_taken",
    /// 409: the change would lock the acting administrator out.
    SelfLockout = "self_lockout",
    /// 409: the division already exists.
    DivisionExists = "division_exists",
    /// 404: no such email template.
    NoSuchTemplate = "no_such_template",
    /// 404: the receipt code is wrong or names no report.
    InvalidReceiptCode = "invalid_receipt_code",
    /// 400: the `Idempotency-Key` header is malformed.
    InvalidIdempotencyKey = "invalid_idempotency_key",
    /// 409/422: the idempotency key was used for a different request.
    IdempotencyKeyReused = "idempotency_key_reused",
    /// 403: only staff may record a channel other than the web form.
    ChannelRequiresStaff = "channel_requires_staff",
    /// 413: an attachment is over the size limit.
    AttachmentTooLarge = "attachment_too_large",
    /// 415: an attachment's detected type is not accepted.
    UnsupportedAttachmentType = "unsupported_attachment_type",
    /// 422: an attachment could not be decoded.
    AttachmentUnreadable = "attachment_unreadable",
    /// 422: an attachment carries an executable.
    AttachmentContainsExecutable = "attachment_contains_executable",
    /// 422: not a valid Office document.
    OfficeDocumentInvalid = "office_document_invalid",
    /// 422: an archive is too large when unpacked.
    ArchiveTooLarge = "archive_too_large",
    /// 409: the report was already triaged (accepted, transferred, merged or escalated).
    AlreadyTriaged = "already_triaged",
    /// 422: a subject above the county or the commission's head is escalated, never accepted
    /// (Art 15).
    MustEscalate = "must_escalate",
    /// 409: the case's status does not allow the action; the problem names `status` and
    /// `allowed_actions`.
    InvalidTransition = "invalid_transition",
    /// 409: the case changed since the `version` sent.
    VersionConflict = "version_conflict",
    /// 409/422: a report can only be merged into an open case.
    CaseNotOpen = "case_not_open",
    /// 409: an active routing rule has the same three conditions (`routing`).
    RuleExists = "rule_exists",
    /// 422: no routing rule matches and there is no default rule; an administrator must create
    /// one (`routing::route`).
    NoDefaultRule = "no_default_rule",
    /// 409: a team has this name already.
    TeamExists = "team_exists",
    /// 409: the routing rule is retired already, or the declaration withdrawn already.
    AlreadyRetired = "already_retired",
    /// 422: a calendar file is bad; the calendar in use stays (`docs/calendar.md`).
    CalendarInvalid = "calendar_invalid",
    /// 403: a supervisor may not decide their own request for a reporter's identity.
    OwnRequest = "own_request",
    /// 409: the identity request was approved or denied already.
    AlreadyDecided = "already_decided",
    /// 403: reading a reporter's identity needs an approved request of the reader's own, less
    /// than 24 hours old (SPEC.md → "Reporter identity (custodian)").
    IdentityAccessRequired = "identity_access_required",
    /// 422: the assignee is not an active investigator of the case's team.
    NotInTeam = "not_in_team",
    /// 409: the assignee declared a conflict of interest covering the case's division; the
    /// problem names the declaration.
    ConflictOfInterest = "conflict_of_interest",
    /// 409: the case cannot close; the problem's `blockers` names every reason (SPEC.md →
    /// "Case handling", close). No role overrides it.
    CloseBlocked = "close_blocked",
    /// 409: feedback (the result, to the reporter) before the primary investigation concluded
    /// or the case closed; the problem names `status`.
    FeedbackTooEarly = "feedback_too_early",
    /// 409: the assignee conducts the case's open accountability investigation (一案双查 keeps
    /// the primary and the accountability investigation with different investigators).
    AccountabilityInvestigator = "accountability_investigator",
    /// 409: the request belongs to a filed case (filed or concluded, not closed; clawbacks also
    /// on a closed case, naming `status`: SPEC.md → "Clawbacks").
    CaseNotFiled = "case_not_filed",
    /// 409: the investigation is concluded already; a supervisor may reopen the case.
    InvestigationConcluded = "investigation_concluded",
    /// 409: a reporter may object only after the result was fed back to them (a message of
    /// kind `feedback`).
    ObjectionNotOpen = "objection_not_open",
    /// 409: the reporter already objected to the latest feedback; a new feedback opens a new
    /// objection.
    ObjectionAlreadyMade = "objection_already_made",
    /// 409: a recovery's `reference` was used on this clawback for another amount.
    ReferenceReused = "reference_reused",
    /// 422: a recovery larger than what is outstanding; the problem names `outstanding_fen`.
    /// Also the field code of `amount_fen`.
    OverRecovery = "over_recovery",
    /// 409: nothing is outstanding on the clawback, so there is nothing to write off.
    NothingOutstanding = "nothing_outstanding",
    /// 409: the case's remediation plan is complete (every item verified): it takes no new
    /// items (issue 12).
    RemediationPlanComplete = "remediation_plan_complete",
    /// 409: the service key has a webhook subscriber already (one URL per key).
    WebhookExists = "webhook_exists",

    // ---- Field codes: the `code` of one entry of `errors[]`. ----
    /// The field is missing or empty.
    Required = "required",
    /// Fewer visible characters than the minimum.
    TooShort = "too_short",
    /// More characters than the maximum.
    TooLong = "too_long",
    /// More items than the maximum.
    TooMany = "too_many",
    /// Outside the accepted number of characters.
    InvalidLength = "invalid_length",
    /// Outside the accepted range.
    OutOfRange = "out_of_range",
    /// Not in the list of accepted values.
    UnknownValue = "unknown_value",
    /// Not valid (a generic field code).
    Invalid = "invalid",
    /// Holds a forbidden control character (`domain::text`).
    ControlCharacter = "control_character",
    /// Not valid UTF-8 (`domain::text`).
    InvalidEncoding = "invalid_encoding",
    /// Holds line breaks or other control characters (names of divisions and officials).
    InvalidCharacters = "invalid_characters",
    /// A file is empty.
    Empty = "empty",
    /// Must be empty here (identity on an anonymous report).
    MustBeEmpty = "must_be_empty",
    /// Not a date in `YYYY-MM-DD`.
    InvalidDate = "invalid_date",
    /// A date after today.
    InFuture = "in_future",
    /// An end before its start.
    BeforeStart = "before_start",
    /// An ID number with a wrong check digit.
    BadCheckDigit = "bad_check_digit",
    /// An ID number whose birth date does not exist.
    InvalidBirthDate = "invalid_birth_date",
    /// An ID number not of 17 digits and a digit or X.
    InvalidFormat = "invalid_format",
    /// Not a mainland mobile number.
    InvalidPhone = "invalid_phone",
    /// Not an email address.
    InvalidEmail = "invalid_email",
    /// No township has this code.
    UnknownTownship = "unknown_township",
    /// No village has this code.
    UnknownVillage = "unknown_village",
    /// The village is not in the chosen township.
    VillageNotInTownship = "village_not_in_township",
    /// A password on the list of common passwords.
    CommonPassword = "common_password",
    /// A password equal to the username.
    SameAsUsername = "same_as_username",
    /// No such role.
    UnknownRole = "unknown_role",
    /// No such API key scope.
    UnknownScope = "unknown_scope",
    /// No such division level.
    UnknownLevel = "unknown_level",
    /// No such division.
    UnknownDivision = "unknown_division",
    /// The parent division does not exist.
    UnknownParent = "unknown_parent",
    /// The parent is not of the level above.
    WrongParentLevel = "wrong_parent_level",
    /// A code does not start with its parent's code.
    NotUnderParent = "not_under_parent",
    /// A code's length does not match its level.
    LevelMismatch = "level_mismatch",
    /// A code of a length no level has.
    WrongLength = "wrong_length",
    /// A code holding characters other than digits.
    NotDigits = "not_digits",
    /// A code ending in `000`, reserved for the level above.
    ReservedCode = "reserved_code",
    /// Not allowed here (a county with a parent).
    NotAllowed = "not_allowed",
    /// A parent defined later in the same import file.
    ParentLaterInFile = "parent_later_in_file",
    /// An import line or file that could not be read.
    Unreadable = "unreadable",
    /// An import file without a header line.
    MissingHeader = "missing_header",
    /// An import file with the wrong header.
    BadHeader = "bad_header",
    /// An import line with the wrong number of fields.
    WrongFieldCount = "wrong_field_count",
    /// An import file with no rows.
    NoRows = "no_rows",
    /// A code given twice in one import file.
    DuplicateCode = "duplicate_code",
    /// An import row that contradicts an existing division.
    ConflictsExisting = "conflicts_existing",
    /// No team has this id.
    UnknownTeam = "unknown_team",
    /// No staff user has this id.
    UnknownUser = "unknown_user",
    /// The report named is not one of the case's reports.
    ReportNotInCase = "report_not_in_case",
    /// The user's account is deactivated.
    InactiveUser = "inactive_user",
    /// No official on record has this id.
    UnknownOfficial = "unknown_official",
    /// A sanction of an accountability investigation names an official outside the leadership
    /// it looks into (its target division).
    NotTargetOfficial = "not_target_official",
    /// The official's level is not the level of the stage signed (a village official for
    /// `village_deliberation`, a township one for `township_review`, a county one for
    /// `county_approval`).
    StageLevelMismatch = "stage_level_mismatch",
    /// The same official is named twice among a clawback's signers.
    DuplicateSigner = "duplicate_signer",
    /// The official named as payer did not sign the clawback.
    NotASigner = "not_a_signer",
    /// A corrected amount due below what is already recovered and written off.
    BelowRecovered = "below_recovered",
    /// A correction that changes nothing.
    NoChange = "no_change",
    /// No service API key on record has this id, or it is revoked.
    UnknownApiKey = "unknown_api_key",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_distinct_snake_case_and_serialise_as_their_text() {
        let mut seen = HashSet::new();
        for code in ErrorCode::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "{text} twice");
            assert!(
                text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{text} is snake_case"
            );
            assert_eq!(serde_json::to_value(code).unwrap(), text);
        }
    }

    /// No code's text is written as a string literal anywhere in `src/` but in this file: a code
    /// is always named through `ErrorCode`. Test modules may spell a code when they assert what a
    /// client receives.
    /// Other vocabularies that share a word with a code: the email template `account_locked`
    /// (`notify::templates`, enqueued by sign-in).
    const ALLOWED: &[(&str, &str)] = &[
        ("src/notify/templates.rs", "account_locked"),
        ("src/auth/routes.rs", "account_locked"),
    ];

    #[test]
    fn every_code_is_written_once() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut dirs = vec![root];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs")
                    && !path.ends_with("domain/error_code.rs")
                {
                    files.push(path);
                }
            }
        }
        let mut found = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            // Only the code before the file's unit tests.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            for (n, line) in code.lines().enumerate() {
                if line.trim_start().starts_with("//") {
                    continue;
                }
                for c in ErrorCode::ALL {
                    let name = path.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                    if ALLOWED.contains(&(name.to_str().unwrap(), c.as_str())) {
                        continue;
                    }
                    if line.contains(&format!("\"{}\"", c.as_str())) {
                        found.push(format!("{}:{}: {}", path.display(), n + 1, c.as_str()));
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "code strings outside ErrorCode: {found:#?}"
        );
    }
}
