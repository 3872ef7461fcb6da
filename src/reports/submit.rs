//! Submitting a report: validate, encrypt the identity, store, hand out the receipt — with
//! `Idempotency-Key` replays answered from an encrypted saved response.

use chrono::{Datelike, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::models::{NewAttachment, NewReport};
use super::staged::StagedFiles;
use super::storage::StoredFile;
use super::ReportsState;
use crate::audit::{self, Actor};
use crate::clock::Clock;
use crate::db::schema::{attachments, reports};
use crate::db::{self, DbConnection};
use crate::divisions;
use crate::domain::deadlines;
use crate::domain::ids::{AttachmentId, ReportId};
use crate::domain::receipt_code;
use crate::domain::report::{
    validate, DivisionFacts, RawSubmission, ReportStatus, ValidSubmission,
};
use crate::domain::text;
use crate::error::{ApiError, ErrorCode, FieldViolation};
use crate::idempotency::{self, Replay};

/// The answer to a successful submission. `receipt_code` is shown this once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Receipt {
    /// Human-readable, e.g. `JB-2026-000123`. Grants nothing on its own.
    pub report_number: String,
    /// 16 digits in groups of four. Write it down: it cannot be recovered.
    pub receipt_code: String,
    pub status: String,
    /// Real-name reports are acknowledged by this date (15 working days); null for anonymous.
    pub acknowledge_by: Option<NaiveDate>,
    /// The commission accepts or transfers the report by this date (5 working days).
    pub triage_due: NaiveDate,
}

/// An uploaded file already encrypted to disk, with the attachment id it was sealed under.
#[derive(Debug, Clone)]
pub struct StagedFile {
    pub attachment_id: String,
    pub file: StoredFile,
}

/// The fingerprint of a request for `Idempotency-Key`: the submission as sent plus the files.
pub fn request_fingerprint(body: &[u8], files: &[StagedFile]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(body);
    for f in files {
        hasher.update(f.file.sha256.as_bytes());
    }
    hex::encode(hasher.finalize())
}

pub use crate::idempotency::Idempotency;

/// The idempotency scope of report submissions.
const IDEMPOTENCY_SCOPE: &str = "reports.submit";

/// Why a submission was not stored. Mapped to `ApiError` at the HTTP edge (`From` below) and to
/// the report form's Chinese answers in `web::report`.
#[derive(Debug, thiserror::Error)]
pub enum SubmitError {
    /// Fields broke the rules of `domain::report::validate`; each violation names its field.
    #[error("{} field(s) of the submission are invalid", .0.len())]
    Invalid(Vec<FieldViolation>),
    /// A channel other than `web` without an intake officer logging it.
    #[error("only intake officers log phone, letter and visit reports")]
    ChannelRequiresStaff,
    /// The `Idempotency-Key` was used before with a different request.
    #[error("the Idempotency-Key was used with a different request")]
    IdempotencyKeyReused,
    /// The Argon2 pool is full (issue 7).
    #[error(transparent)]
    Busy(#[from] crate::hashing::Busy),
    /// The database or the server failed; already an `ApiError` (503 or 500).
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<SubmitError> for ApiError {
    fn from(e: SubmitError) -> ApiError {
        match e {
            SubmitError::Invalid(violations) => ApiError::validation(violations),
            SubmitError::ChannelRequiresStaff => ApiError::forbidden(
                "Only intake officers log phone, letter and visit reports; the public uses channel \"web\".",
            )
            .with_code(ErrorCode::ChannelRequiresStaff),
            SubmitError::IdempotencyKeyReused => ApiError::conflict(
                ErrorCode::IdempotencyKeyReused,
                "This Idempotency-Key was used with a different request. Use a new key for a new report.",
            ),
            SubmitError::Busy(busy) => busy.into(),
            SubmitError::Failed(e) => e,
        }
    }
}

/// What can fail inside the submission's transaction: a database error, kept typed so that a
/// unique violation on the idempotency key can be recognised, or any other failure.
#[derive(Debug, thiserror::Error)]
enum WriteError {
    #[error(transparent)]
    Database(#[from] DieselError),
    #[error(transparent)]
    Failed(#[from] ApiError),
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        match e {
            WriteError::Database(e) => e.into(),
            WriteError::Failed(e) => e,
        }
    }
}

/// Looks up what validation needs to know about the divisions named. Codes are folded as
/// validation folds them (`text::compact_code`, which also drops any control character).
fn division_facts(conn: &mut DbConnection, raw: &RawSubmission) -> QueryResult<DivisionFacts> {
    let township_code = raw.township_code.as_deref().map(text::compact_code);
    let village_code = raw.village_code.as_deref().map(text::compact_code);
    let codes: Vec<&str> = [township_code.as_deref(), village_code.as_deref()]
        .into_iter()
        .flatten()
        .filter(|c| !c.is_empty())
        .collect();
    // One round trip for both codes.
    let found = if codes.is_empty() {
        Vec::new()
    } else {
        divisions::find_many(conn, &codes)?
    };
    let named = |code: &Option<String>| {
        code.as_deref()
            .and_then(|c| found.iter().find(|d| d.code == c))
    };
    Ok(DivisionFacts {
        township_exists: named(&township_code).is_some_and(|t| t.level == "township"),
        village_parent: named(&village_code)
            .filter(|v| v.level == "village")
            .map(|v| v.parent_code.clone()),
    })
}

/// The next report number of the year: `JB-<year>-<6 digits>`, from a counter row incremented
/// inside the caller's write transaction.
fn next_report_number(conn: &mut DbConnection, year: i32) -> QueryResult<String> {
    let name = format!("report_number:{year}");
    let value = crate::db::dialect::increment_counter(conn, &name)?;
    Ok(format!("JB-{year}-{value:06}"))
}

/// Submits a report. `files` are already encrypted to disk; they are attached in the same
/// transaction and kept only once it commits; on any refusal, error or replay the guard
/// deletes them ([`StagedFiles`]). `logged_by` is the intake officer who
/// logged a phone, letter or visit report.
pub async fn submit(
    state: &ReportsState,
    raw: RawSubmission,
    files: StagedFiles,
    idempotency: Option<Idempotency>,
    logged_by: Option<String>,
) -> Result<Receipt, SubmitError> {
    let pool = state.pool.clone();
    let facts = db::run(&pool, {
        let raw = raw.clone();
        move |conn| Ok(division_facts(conn, &raw)?)
    })
    .await?;
    let today = deadlines::today_in_county(state.clock.now());
    let valid = validate(&raw, today, &facts).map_err(SubmitError::Invalid)?;
    if valid.channel != crate::domain::report::Channel::Web && logged_by.is_none() {
        return Err(SubmitError::ChannelRequiresStaff);
    }

    let code = receipt_code::generate();
    let receipt_hash = state.receipts.hash(code.clone()).await?;
    // One calendar for both deadlines, even if a reload swaps it meanwhile. A year without a
    // calendar counts weekends only; the handle warns about it once per county day.
    let calendar = state.calendar.current();
    let triage_due = calendar.add_working_days(today, state.settings.triage_working_days);
    let acknowledge_by = valid
        .reporter
        .as_ref()
        .map(|_| calendar.add_working_days(today, state.settings.acknowledge_working_days));
    state.calendar.warn_missing(today);

    // The guard goes into the blocking task, so the files are kept or deleted there, right
    // after the transaction, even if this request is dropped meanwhile.
    // The state is shared behind web::Data; the blocking closure needs owned copies.
    let ctx = SubmitContext {
        valid,
        code,
        receipt_hash,
        triage_due,
        acknowledge_by,
        files,
        idempotency,
        logged_by,
        idempotency_ttl: chrono::Duration::hours(state.settings.idempotency_hours as i64),
        clock: state.clock.clone(),
    };
    let data_key = state.data_key.clone();
    let outcome = db::run(&pool, move |conn| write_report(conn, &data_key, ctx)).await?;
    match outcome {
        Written::New(receipt) | Written::Replay(receipt) => Ok(receipt),
        Written::Conflict => Err(SubmitError::IdempotencyKeyReused),
    }
}

struct SubmitContext {
    valid: ValidSubmission,
    code: String,
    receipt_hash: String,
    triage_due: NaiveDate,
    acknowledge_by: Option<NaiveDate>,
    files: StagedFiles,
    idempotency: Option<Idempotency>,
    logged_by: Option<String>,
    idempotency_ttl: chrono::Duration,
    clock: Clock,
}

enum Written {
    New(Receipt),
    Replay(Receipt),
    Conflict,
}

fn write_report(
    conn: &mut DbConnection,
    key: &crate::crypto::DataKey,
    ctx: SubmitContext,
) -> Result<Written, ApiError> {
    // Identity fields are sealed under the data key, bound to the report and the field.
    let seal_with = |id: &str, field: &str, value: Option<&str>| {
        value.map(|v| key.encrypt(v.as_bytes(), &format!("report:{id}:{field}")))
    };
    let attempt = db::write_tx(conn, |conn| -> Result<Written, WriteError> {
        if let Some(idem) = &ctx.idempotency {
            match idempotency::find_replay(
                conn,
                key,
                IDEMPOTENCY_SCOPE,
                idem,
                ctx.clock.now_naive(),
            )? {
                Replay::Same(receipt) => return Ok(Written::Replay(receipt)),
                Replay::Conflict => return Ok(Written::Conflict),
                Replay::None => {}
            }
        }
        let at = ctx.clock.now();
        let now = at.naive_utc();
        let id = uuid::Uuid::new_v4().to_string();
        let year = deadlines::today_in_county(at).year();
        let number = next_report_number(conn, year)?;
        let v = &ctx.valid;
        let r = v.reporter.as_ref();
        diesel::insert_into(reports::table)
            .values(NewReport {
                id: ReportId::from(id.as_str()),
                number: number.clone(),
                channel: v.channel,
                programme: v.programme,
                misconduct: v
                    .misconduct
                    .iter()
                    .map(|m| m.as_str())
                    .collect::<Vec<_>>()
                    .join(","),
                township_code: v.township_code.clone(),
                village_code: v.village_code.clone(),
                accused: serde_json::to_string(&v.accused).unwrap_or_default(),
                description: v.description.clone(),
                occurred_from: v.occurred_from,
                occurred_to: v.occurred_to,
                anonymous: r.is_none(),
                reporter_name: seal_with(&id, "name", r.map(|x| x.name.as_str())),
                reporter_id_number: seal_with(&id, "id_number", r.map(|x| x.id_number.as_str())),
                reporter_phone: seal_with(&id, "phone", r.map(|x| x.phone.as_str())),
                reporter_email: seal_with(&id, "email", r.and_then(|x| x.email.as_deref())),
                reporter_address: seal_with(&id, "address", r.and_then(|x| x.address.as_deref())),
                receipt_hash: ctx.receipt_hash.clone(),
                status: ReportStatus::Received,
                submitted_at: now,
                triage_due: ctx.triage_due,
                acknowledge_by: ctx.acknowledge_by,
                logged_by: ctx.logged_by.clone(),
            })
            .execute(conn)?;
        for f in &ctx.files {
            insert_attachment(conn, &id, f, "reporter", now)?;
        }
        let actor = match &ctx.logged_by {
            Some(user) => Actor::User(user.clone()),
            None => Actor::Reporter,
        };
        audit::record(
            conn,
            now,
            &actor,
            "report.submitted",
            "report",
            &id,
            serde_json::json!({
                "number": number,
                "channel": v.channel.as_str(),
                "programme": v.programme.as_str(),
                "anonymous": r.is_none(),
                "attachments": ctx.files.len(),
            }),
        )?;
        let receipt = Receipt {
            report_number: number,
            receipt_code: receipt_code::grouped(&ctx.code),
            status: ReportStatus::Received.as_str().to_string(),
            acknowledge_by: ctx.acknowledge_by,
            triage_due: ctx.triage_due,
        };
        if let Some(idem) = &ctx.idempotency {
            idempotency::save_answer(
                conn,
                key,
                IDEMPOTENCY_SCOPE,
                idem,
                &receipt,
                now,
                ctx.idempotency_ttl,
            )?;
        }
        Ok(Written::New(receipt))
    });
    let written = match attempt {
        // Two requests with one key raced: the loser reads what the winner saved.
        Err(WriteError::Database(DieselError::DatabaseError(
            DatabaseErrorKind::UniqueViolation,
            info,
        ))) if ctx.idempotency.is_some() => {
            let idem = ctx.idempotency.as_ref().expect("checked");
            match idempotency::find_replay(
                conn,
                key,
                IDEMPOTENCY_SCOPE,
                idem,
                ctx.clock.now_naive(),
            )? {
                Replay::Same(receipt) => Ok(Written::Replay(receipt)),
                Replay::Conflict => Ok(Written::Conflict),
                Replay::None => {
                    Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info).into())
                }
            }
        }
        other => other.map_err(ApiError::from),
    };
    if let Ok(Written::New(_)) = &written {
        // Committed: the files are attachments now. Otherwise `ctx` drops and they go.
        ctx.files.commit();
    }
    written
}

/// Records a staged file as an attachment of `report_id`, uploaded at `now`.
pub fn insert_attachment(
    conn: &mut DbConnection,
    report_id: &str,
    staged: &StagedFile,
    uploaded_by: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(attachments::table)
        .values(NewAttachment {
            id: &AttachmentId::from(staged.attachment_id.as_str()),
            report_id: &ReportId::from(report_id),
            storage_name: &staged.file.storage_name,
            content_type: &staged.file.content_type,
            size_bytes: staged.file.size as i64,
            sha256: &staged.file.sha256,
            uploaded_by,
            created_at: now,
            metadata_removed: &staged.file.removed.join(","),
        })
        .execute(conn)?;
    Ok(())
}
