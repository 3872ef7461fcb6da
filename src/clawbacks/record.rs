//! Recording a clawback (`POST /cases/{id}/clawbacks`; SPEC.md → "Clawbacks"): one wrongly
//! granted benefit on a filed case, with the approval chain that signed it. In one write
//! transaction: the clawback (the beneficiary's name and ID number sealed under the data key,
//! bound to the clawback and the field), its signers, the audit entry, an email job per signer
//! with an address, and the case's clawback deadline.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use diesel::prelude::*;
use serde::Deserialize;
use utoipa::ToSchema;

use super::models::{ClawbackRow, NewClawback, SignerOfficialRow, SignerRow};
use super::view::{clawback_view, ClawbackView};
use super::{find_visible, lock, refresh_case_deadline, ClawbackError, Reader, When};
use crate::audit::{self, Actor};
use crate::cases::{visible_case, Viewer};
use crate::crypto::DataKey;
use crate::db::schema::{clawback_signers, clawbacks, officials};
use crate::db::{self, DbConnection};
use crate::domain::case_status::CaseStatus;
use crate::domain::clawback::{clawback_programme, mask_id_number, SignerStage};
use crate::domain::divisions::Level;
use crate::domain::id_number::{self, IdNumberError};
use crate::domain::ids::{ClawbackId, OfficialId, SignerId, UserId};
use crate::domain::money::{Amount, Fen};
use crate::domain::report::{Programme, NAME_MAX};
use crate::domain::text;
use crate::error::{ErrorCode, FieldViolation};

/// The household that received the benefit.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct BeneficiaryInput {
    /// 1–50 characters. Sealed at rest; staff see it.
    #[schema(required = true)]
    pub name: Option<String>,
    /// 18 characters with the GB 11643 check character. Sealed at rest; staff see it masked.
    #[schema(required = true)]
    pub id_number: Option<String>,
    /// The household's 12-digit village code.
    #[schema(required = true)]
    pub village_code: Option<String>,
}

/// One signer of the approval chain.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct SignerInput {
    /// An official on record whose level is the stage's.
    #[schema(required = true)]
    pub official_id: Option<String>,
    /// `village_deliberation` (a village official), `township_review` (a township official)
    /// or `county_approval` (a county official).
    #[schema(required = true)]
    pub stage: Option<String>,
    /// `YYYY-MM-DD`, not after today.
    #[schema(required = true)]
    pub signed_on: Option<String>,
}

/// The body of `POST /cases/{id}/clawbacks`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
pub struct ClawbackRequest {
    #[schema(required = true)]
    pub beneficiary: Option<BeneficiaryInput>,
    /// `dibao | house_renovation | poverty_identification`.
    #[schema(required = true)]
    pub programme: Option<String>,
    /// `YYYY-MM-DD`.
    #[schema(required = true)]
    pub grant_period_from: Option<String>,
    /// `YYYY-MM-DD`, not before `grant_period_from`.
    #[schema(required = true)]
    pub grant_period_to: Option<String>,
    /// The amount wrongly paid: a JSON integer of fen, 1 to 10^13 (never a decimal number).
    #[serde(default)]
    #[schema(value_type = i64, required = true, minimum = 1, maximum = 10000000000000_i64)]
    pub amount_due_fen: serde_json::Value,
    /// The recovery deadline, `YYYY-MM-DD` (county date): from today to ten years ahead.
    #[schema(required = true)]
    pub due_on: Option<String>,
    /// At least one; each official once.
    #[schema(required = true)]
    pub signers: Option<Vec<SignerInput>>,
}

/// At most this many signers on one clawback.
pub const SIGNERS_MAX: usize = 30;
/// The furthest deadline accepted: ten years (3,653 days) after today.
pub const DUE_HORIZON: chrono::Days = chrono::Days::new(3653);

/// A date field: `YYYY-MM-DD` (full-width digits folded).
///
/// Errors: `required` or `invalid_date` naming `field`.
pub fn date_field(field: &str, value: Option<&str>) -> Result<NaiveDate, FieldViolation> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Err(FieldViolation::new(
            field,
            ErrorCode::Required,
            format!("{field} (YYYY-MM-DD) is required"),
        )),
        Some(v) => text::parse_date(v).ok_or_else(|| {
            FieldViolation::new(
                field,
                ErrorCode::InvalidDate,
                format!("{field} is a date, YYYY-MM-DD"),
            )
        }),
    }
}

/// A deadline: a date from `today` to ten years later.
///
/// Errors: as [`date_field`]; `out_of_range`.
pub fn due_field(
    field: &str,
    value: Option<&str>,
    today: NaiveDate,
) -> Result<NaiveDate, FieldViolation> {
    let d = date_field(field, value)?;
    if d < today || d > today + DUE_HORIZON {
        return Err(FieldViolation::new(
            field,
            ErrorCode::OutOfRange,
            format!("{field} is from today ({today}, county date) to ten years ahead"),
        ));
    }
    Ok(d)
}

/// A programme a clawback may be under.
///
/// Errors: `required` or `unknown_value` naming `programme`.
pub fn programme_field(value: Option<&str>) -> Result<Programme, FieldViolation> {
    let names = "dibao, house_renovation, poverty_identification";
    match value.map(str::trim) {
        None | Some("") => Err(FieldViolation::new(
            "programme",
            ErrorCode::Required,
            format!("programme is one of {names}"),
        )),
        Some(p) => Programme::parse(p)
            .filter(|p| clawback_programme(*p))
            .ok_or_else(|| {
                FieldViolation::new(
                    "programme",
                    ErrorCode::UnknownValue,
                    format!("programme is one of {names}"),
                )
            }),
    }
}

/// A checked signer, before the official is looked up.
struct Signer {
    official_id: String,
    stage: SignerStage,
    signed_on: NaiveDate,
}

/// The request, checked as far as it can be without the database.
struct Checked {
    name: String,
    id_number: String,
    village_code: String,
    programme: Programme,
    grant_period_from: NaiveDate,
    grant_period_to: NaiveDate,
    amount_due: Fen,
    due_on: NaiveDate,
    signers: Vec<Signer>,
}

fn check(body: &ClawbackRequest, today: NaiveDate) -> Result<Checked, Vec<FieldViolation>> {
    let mut problems: Vec<FieldViolation> = Vec::new();
    macro_rules! keep {
        ($e:expr $(,)?) => {
            match $e {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(e);
                    None
                }
            }
        };
    }
    let b = body.beneficiary.clone().unwrap_or_default();
    let name = keep!(
        crate::cases::required_line("beneficiary.name", b.name.as_deref(), NAME_MAX)
            .map(|n| n.trim().to_string()),
    );
    let id_number = keep!(match b.id_number.as_deref().map(text::compact_code) {
        None => Err(FieldViolation::new(
            "beneficiary.id_number",
            ErrorCode::Required,
            "the beneficiary's 18-character ID number is required",
        )),
        Some(id) => id_number::check(&id).map_err(|e| match e {
            IdNumberError::CheckDigit => FieldViolation::new(
                "beneficiary.id_number",
                ErrorCode::BadCheckDigit,
                "the ID number's check digit is wrong; check for a typing error",
            ),
            IdNumberError::BirthDate => FieldViolation::new(
                "beneficiary.id_number",
                ErrorCode::InvalidBirthDate,
                "the birth date in the ID number is not a real date",
            ),
            IdNumberError::Format => FieldViolation::new(
                "beneficiary.id_number",
                ErrorCode::InvalidFormat,
                "an ID number is 17 digits and a digit or X",
            ),
        }),
    });
    let village_code = keep!(match b.village_code.as_deref().map(text::compact_code) {
        Some(v) if !v.is_empty() => text::check_controls("beneficiary.village_code", &v).map(|_| v),
        _ => Err(FieldViolation::new(
            "beneficiary.village_code",
            ErrorCode::Required,
            "the beneficiary's 12-digit village code is required",
        )),
    });
    let programme = keep!(programme_field(body.programme.as_deref()));
    let from = keep!(date_field(
        "grant_period_from",
        body.grant_period_from.as_deref(),
    ));
    let to = keep!(date_field(
        "grant_period_to",
        body.grant_period_to.as_deref()
    ));
    if let (Some(f), Some(t)) = (from, to) {
        if t < f {
            problems.push(FieldViolation::new(
                "grant_period_to",
                ErrorCode::BeforeStart,
                "grant_period_to is not before grant_period_from",
            ));
        }
    }
    let amount_due = keep!(Fen::from_json(
        "amount_due_fen",
        &body.amount_due_fen,
        Amount::Positive,
    ));
    let due_on = keep!(due_field("due_on", body.due_on.as_deref(), today));
    let mut signers = Vec::new();
    match body.signers.as_deref() {
        None | Some([]) => {
            problems.push(FieldViolation::new(
                "signers",
                ErrorCode::Required,
                "at least one signer is required: who signed the approval answers for it",
            ));
        }
        Some(list) if list.len() > SIGNERS_MAX => {
            problems.push(
                FieldViolation::new(
                    "signers",
                    ErrorCode::TooMany,
                    format!("at most {SIGNERS_MAX} signers"),
                )
                .limit(SIGNERS_MAX),
            );
        }
        Some(list) => {
            let mut seen = HashSet::new();
            for (i, s) in list.iter().enumerate() {
                let field = |f: &str| format!("signers[{i}].{f}");
                let official_id = match s.official_id.as_deref().map(str::trim) {
                    None | Some("") => keep!(Err(FieldViolation::new(
                        field("official_id"),
                        ErrorCode::Required,
                        "official_id is required",
                    ))),
                    Some(id) => keep!(
                        text::check_controls(&field("official_id"), id).map(|_| id.to_string()),
                    ),
                };
                if let Some(id) = &official_id {
                    if !seen.insert(id.clone()) {
                        problems.push(FieldViolation::new(
                            field("official_id"),
                            ErrorCode::DuplicateSigner,
                            "each official is named once among the signers",
                        ));
                    }
                }
                let stage = match s.stage.as_deref().map(str::trim) {
                    None | Some("") => keep!(Err(FieldViolation::new(
                        field("stage"),
                        ErrorCode::Required,
                        format!("stage is one of {}", SignerStage::names()),
                    ))),
                    Some(st) => keep!(SignerStage::parse(st).ok_or_else(|| {
                        FieldViolation::new(
                            field("stage"),
                            ErrorCode::UnknownValue,
                            format!("stage is one of {}", SignerStage::names()),
                        )
                    })),
                };
                let signed_on = keep!(date_field(&field("signed_on"), s.signed_on.as_deref())
                    .and_then(|d| {
                        if d > today {
                            Err(FieldViolation::new(
                                field("signed_on"),
                                ErrorCode::InFuture,
                                format!("signed_on is not after today ({today}, county date)"),
                            ))
                        } else {
                            Ok(d)
                        }
                    }),);
                if let (Some(official_id), Some(stage), Some(signed_on)) =
                    (official_id, stage, signed_on)
                {
                    signers.push(Signer {
                        official_id,
                        stage,
                        signed_on,
                    });
                }
            }
        }
    }
    match (
        name,
        id_number,
        village_code,
        programme,
        from,
        to,
        amount_due,
        due_on,
    ) {
        (
            Some(name),
            Some(id_number),
            Some(village_code),
            Some(programme),
            Some(f),
            Some(t),
            Some(amount_due),
            Some(due_on),
        ) if problems.is_empty() => Ok(Checked {
            name,
            id_number,
            village_code,
            programme,
            grant_period_from: f,
            grant_period_to: t,
            amount_due,
            due_on,
            signers,
        }),
        _ => Err(problems),
    }
}

/// The case statuses a clawback may be recorded in: once filed (`filed`), and after
/// (`concluded`, `closed`), since recovering money outlives the investigation (SPEC.md →
/// "Clawbacks": "on a filed case").
pub fn accepts_clawbacks(status: CaseStatus) -> bool {
    matches!(
        status,
        CaseStatus::Filed | CaseStatus::Concluded | CaseStatus::Closed
    )
}

/// Records a clawback on case `case_id` as `viewer` (an investigator of the case's team or a
/// supervisor; the caller checks the permission), at `when`. The beneficiary's name and ID
/// number are sealed with `key` (associated data `clawback:<id>:<field>`). Each signer with an
/// email address is sent `clawback_signer` (case number, stage, amount and deadline; never the
/// beneficiary).
///
/// Errors: `NotFound("case")`/`Forbidden` (404/403); `CaseNotFiled` (409) unless the case is
/// filed, concluded or closed; `Invalid` (422) with every bad field, among them an unknown
/// village or official and a signer whose level is not the stage's; database errors. Returns
/// the clawback's view.
pub fn record(
    conn: &mut DbConnection,
    key: &DataKey,
    viewer: &Viewer,
    actor: &Actor,
    case_id: &str,
    body: &ClawbackRequest,
    when: When,
) -> Result<ClawbackView, ClawbackError> {
    let checked = check(body, when.today);
    let id = ClawbackId::generate();
    let created = db::write_tx(conn, |conn| -> Result<ClawbackId, ClawbackError> {
        lock(conn, case_id)?;
        let case = visible_case(conn, viewer, case_id)?;
        if !accepts_clawbacks(case.status) {
            return Err(ClawbackError::CaseNotFiled {
                status: case.status,
            });
        }
        let checked = checked.map_err(ClawbackError::Invalid)?;
        let mut problems = Vec::new();
        let village = crate::divisions::find(conn, &checked.village_code)?;
        let township_code = match village {
            Some(v) if v.level == Level::Village.as_str() => v.parent_code.unwrap_or_default(),
            _ => {
                problems.push(FieldViolation::new(
                    "beneficiary.village_code",
                    ErrorCode::UnknownVillage,
                    format!("no village has code {}", checked.village_code),
                ));
                String::new()
            }
        };
        let ids: Vec<&str> = checked
            .signers
            .iter()
            .map(|s| s.official_id.as_str())
            .collect();
        let found: HashMap<String, SignerOfficialRow> = officials::table
            .filter(officials::id.eq_any(&ids))
            .select(SignerOfficialRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|o: SignerOfficialRow| (o.id.to_string(), o))
            .collect();
        for (i, s) in checked.signers.iter().enumerate() {
            match found.get(&s.official_id) {
                None => problems.push(FieldViolation::new(
                    format!("signers[{i}].official_id"),
                    ErrorCode::UnknownOfficial,
                    format!("no official has id {}", s.official_id),
                )),
                Some(o) if o.level != s.stage.level() => problems.push(FieldViolation::new(
                    format!("signers[{i}].stage"),
                    ErrorCode::StageLevelMismatch,
                    format!(
                        "{} is signed by a {} official; {} is a {} official",
                        s.stage.as_str(),
                        s.stage.level().as_str(),
                        o.name,
                        o.level.as_str()
                    ),
                )),
                Some(_) => {}
            }
        }
        if !problems.is_empty() {
            return Err(ClawbackError::Invalid(problems));
        }
        let seal = |field: &str, value: &str| {
            key.encrypt(value.as_bytes(), &format!("clawback:{id}:{field}"))
        };
        diesel::insert_into(clawbacks::table)
            .values(NewClawback {
                id: id.clone(),
                case_id: case.id.clone(),
                programme: checked.programme,
                township_code: township_code.clone(),
                village_code: checked.village_code.clone(),
                beneficiary_name: seal("name", &checked.name),
                beneficiary_id_number: seal("id_number", &checked.id_number),
                beneficiary_id_masked: mask_id_number(&checked.id_number),
                grant_period_from: checked.grant_period_from,
                grant_period_to: checked.grant_period_to,
                amount_due_fen: checked.amount_due.get(),
                due_on: checked.due_on,
                written_off_fen: 0,
                created_by: UserId::from(viewer.user_id.as_str()),
                created_at: when.now,
                updated_at: when.now,
                version: 1,
            })
            .execute(conn)?;
        let rows: Vec<SignerRow> = checked
            .signers
            .iter()
            .enumerate()
            .map(|(i, s)| SignerRow {
                id: SignerId::generate(),
                clawback_id: id.clone(),
                official_id: OfficialId::from(s.official_id.as_str()),
                stage: s.stage,
                signed_on: s.signed_on,
                position: i as i32,
            })
            .collect();
        // One statement per signer: a batch insert does not compile over `MultiConnection`.
        for row in &rows {
            diesel::insert_into(clawback_signers::table)
                .values(row)
                .execute(conn)?;
        }
        let (due_from, due_to) = refresh_case_deadline(conn, case_id, when.now)?;
        audit::record(
            conn,
            when.now,
            actor,
            "clawback.recorded",
            "clawback",
            id.as_str(),
            serde_json::json!({
                "case_id": case.id,
                "case_number": case.number,
                "programme": checked.programme.as_str(),
                "village_code": checked.village_code,
                "beneficiary_id_masked": mask_id_number(&checked.id_number),
                "grant_period_from": checked.grant_period_from,
                "grant_period_to": checked.grant_period_to,
                "amount_due_fen": checked.amount_due.get(),
                "due_on": checked.due_on,
                "signers": rows.iter().map(|s| serde_json::json!({
                    "official_id": s.official_id,
                    "stage": s.stage.as_str(),
                    "signed_on": s.signed_on,
                })).collect::<Vec<_>>(),
                "case_clawback_due": {"from": due_from, "to": due_to},
            }),
        )?;
        for s in &checked.signers {
            let Some(email) = found.get(&s.official_id).and_then(|o| o.email.clone()) else {
                continue;
            };
            crate::notify::enqueue(
                conn,
                SIGNER_TEMPLATE,
                &email,
                serde_json::json!({
                    "case_number": case.number,
                    "stage_zh": s.stage.label_zh(),
                    "stage": s.stage.as_str(),
                    "signed_on": s.signed_on,
                    "programme_zh": checked.programme.label_zh(),
                    "amount": checked.amount_due.to_string(),
                    "due_on": checked.due_on,
                }),
            )
            .map_err(|e| ClawbackError::Failed(crate::error::ApiError::unexpected(e.into())))?;
        }
        Ok(id.clone())
    })?;
    let reader = Reader {
        user_id: Some(viewer.user_id.clone()),
        roles: viewer.roles.clone(),
    };
    let (row, case): (ClawbackRow, _) = find_visible(conn, &reader, created.as_str())?;
    clawback_view(conn, key, row, case, when.today)
}

/// The email a signer gets when a clawback names them (`templates/email/clawback_signer`).
pub const SIGNER_TEMPLATE: &str = "clawback_signer";
