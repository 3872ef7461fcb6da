//! What staff read of clawbacks: one clawback with its signers, ledger and corrections
//! (`GET /clawbacks/{id}`), the list (`GET /clawbacks`), a signer's responsibility
//! (`GET /officials/{id}/responsibility`) and the county summary (`GET /clawbacks/summary`).
//!
//! Every figure is computed here from the ledger with checked arithmetic
//! (`domain::clawback::Figures`): outstanding is never read from storage.

use std::collections::{BTreeMap, HashMap};

use base64::Engine;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::models::{
    AmendmentRow, CaseRefRow, ClawbackRow, RecoveryAmountRow, RecoveryRow, SignerOfficialRow,
    SignerRow,
};
use super::{figures_of, recovered_by_clawback, ClawbackError, Reader};
use crate::crypto::DataKey;
use crate::db::schema::{
    cases, clawback_amendments, clawback_signers, clawbacks, officials, recoveries,
};
use crate::db::DbConnection;
use crate::domain::clawback::{ClawbackStatus, Figures};
use crate::domain::ids::{ClawbackId, OfficialId};
use crate::domain::money::Fen;
use crate::domain::report::Programme;
use crate::domain::text;
use crate::error::{ErrorCode, FieldViolation};
use crate::http::pagination::{Page, PageQuery};

/// The household that received the benefit, as staff see it: the name, and the ID number
/// masked (`3607**********1234`). Both are sealed at rest.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BeneficiaryView {
    pub name: String,
    pub id_number_masked: String,
    pub village_code: String,
    pub township_code: String,
}

/// One signer of the approval chain. Fixed once recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SignerView {
    pub official_id: String,
    pub name: String,
    pub post: String,
    /// `village | township | county`.
    pub level: String,
    pub division_code: String,
    /// `village_deliberation | township_review | county_approval`.
    pub stage: String,
    /// 村评议, 乡镇审核 or 县级审批.
    pub stage_zh: String,
    pub signed_on: NaiveDate,
}

/// Who paid a recovery.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PayerView {
    /// `beneficiary | signer`.
    pub kind: String,
    /// The signer who paid; null for the beneficiary.
    pub official_id: Option<String>,
}

/// One payment of the ledger. Never changed or removed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecoveryView {
    pub id: String,
    #[schema(value_type = i64)]
    pub amount_fen: Fen,
    pub paid_on: NaiveDate,
    pub payer: PayerView,
    /// Unique per clawback (the payment's voucher or transfer number).
    pub reference: String,
    /// `user:<id>` or `service:<id>`.
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A correction: what changed, from what to what, and why. Never changed or removed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AmendmentView {
    pub id: String,
    pub reason: String,
    /// `{"<field>": {"from", "to"}}` for each field corrected: `amount_due_fen`, `due_on`,
    /// `grant_period_from`, `grant_period_to`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
    pub amended_by: String,
    pub amended_at: DateTime<Utc>,
}

/// The terms as first recorded, before any correction.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordedTerms {
    #[schema(value_type = i64)]
    pub amount_due_fen: Fen,
    pub due_on: NaiveDate,
    pub grant_period_from: NaiveDate,
    pub grant_period_to: NaiveDate,
}

/// A supervisor's write-off. The signers stay liable on record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WriteOffView {
    #[schema(value_type = i64)]
    pub amount_fen: Fen,
    pub reason: String,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A clawback as staff see it (SPEC.md → "Clawbacks"). `amount_due_fen`, `due_on` and the
/// grant period are as last corrected; `recorded` holds them as first recorded.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClawbackView {
    pub id: String,
    pub case_id: String,
    pub case_number: String,
    /// `open | partly_recovered | recovered | written_off`, derived from the figures.
    pub status: String,
    /// Send back as `version` with a correction or write-off; a stale one is 409.
    pub version: i32,
    /// `dibao | house_renovation | poverty_identification`.
    pub programme: String,
    pub beneficiary: BeneficiaryView,
    pub grant_period_from: NaiveDate,
    pub grant_period_to: NaiveDate,
    /// The amount wrongly paid, in fen.
    #[schema(value_type = i64)]
    pub amount_due_fen: Fen,
    /// The sum of the recoveries.
    #[schema(value_type = i64)]
    pub recovered_fen: Fen,
    #[schema(value_type = i64)]
    pub written_off_fen: Fen,
    /// `amount_due_fen − recovered_fen − written_off_fen`, computed from the ledger.
    #[schema(value_type = i64)]
    pub outstanding_fen: Fen,
    /// The recovery deadline (county date).
    pub due_on: NaiveDate,
    /// `due_on` has passed with money outstanding.
    pub overdue: bool,
    pub recorded: RecordedTerms,
    /// Null unless written off.
    pub write_off: Option<WriteOffView>,
    pub signers: Vec<SignerView>,
    /// Oldest first.
    pub recoveries: Vec<RecoveryView>,
    /// Oldest first.
    pub amendments: Vec<AmendmentView>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The beneficiary's name of `row`, opened with the data key.
///
/// Errors: the value does not open under this key and row (500).
pub fn open_name(key: &DataKey, row: &ClawbackRow) -> Result<String, ClawbackError> {
    key.decrypt(&row.beneficiary_name, &format!("clawback:{}:name", row.id))
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            ClawbackError::Failed(crate::error::ApiError::unexpected(anyhow::anyhow!(
                "the beneficiary of clawback {} does not open under the data key",
                row.id
            )))
        })
}

/// The signers of each of `ids`, in the order given, with their officials.
///
/// Errors: database errors.
pub fn signers_of(
    conn: &mut DbConnection,
    ids: &[ClawbackId],
) -> QueryResult<HashMap<ClawbackId, Vec<SignerView>>> {
    let mut out: HashMap<ClawbackId, Vec<SignerView>> = HashMap::new();
    for chunk in ids.chunks(500) {
        let rows: Vec<(SignerRow, SignerOfficialRow)> = clawback_signers::table
            .inner_join(officials::table)
            .filter(clawback_signers::clawback_id.eq_any(chunk))
            .order((
                clawback_signers::clawback_id.asc(),
                clawback_signers::position.asc(),
            ))
            .select((SignerRow::as_select(), SignerOfficialRow::as_select()))
            .load(conn)?;
        for (s, o) in rows {
            out.entry(s.clawback_id).or_default().push(SignerView {
                official_id: o.id.into_string(),
                name: o.name,
                post: o.post,
                level: o.level.as_str().to_string(),
                division_code: o.division_code,
                stage: s.stage.as_str().to_string(),
                stage_zh: s.stage.label_zh().to_string(),
                signed_on: s.signed_on,
            });
        }
    }
    Ok(out)
}

/// The recovery `r` as the API shows it.
///
/// Errors: a stored negative amount (500).
pub fn recovery_view(r: RecoveryRow) -> Result<RecoveryView, ClawbackError> {
    Ok(RecoveryView {
        id: r.id.into_string(),
        amount_fen: Fen::new(r.amount_fen)?,
        paid_on: r.paid_on,
        payer: PayerView {
            kind: r.payer_kind.as_str().to_string(),
            official_id: r.payer_official_id.map(OfficialId::into_string),
        },
        reference: r.reference,
        recorded_by: r.recorded_by,
        recorded_at: r.created_at.and_utc(),
    })
}

/// The full view of clawback `row` (of the case `case`) on `today` (county date): its signers,
/// ledger and corrections, the beneficiary's name opened with `key`.
///
/// Errors: figures that do not compute or a name that does not open (500); database errors.
pub fn clawback_view(
    conn: &mut DbConnection,
    key: &DataKey,
    row: ClawbackRow,
    case: CaseRefRow,
    today: NaiveDate,
) -> Result<ClawbackView, ClawbackError> {
    let ledger: Vec<RecoveryRow> = recoveries::table
        .filter(recoveries::clawback_id.eq(row.id.as_str()))
        .order((recoveries::created_at.asc(), recoveries::id.asc()))
        .select(RecoveryRow::as_select())
        .load(conn)?;
    let amendments: Vec<AmendmentRow> = clawback_amendments::table
        .filter(clawback_amendments::clawback_id.eq(row.id.as_str()))
        .order(clawback_amendments::position.asc())
        .select(AmendmentRow::as_select())
        .load(conn)?;
    let recovered = Fen::sum(
        ledger
            .iter()
            .map(|r| Fen::new(r.amount_fen))
            .collect::<Result<Vec<_>, _>>()?,
    )?;
    let figures = figures_of(&row, recovered)?;
    let signers = signers_of(conn, std::slice::from_ref(&row.id))?
        .remove(&row.id)
        .unwrap_or_default();
    let amendments: Vec<AmendmentView> = amendments
        .into_iter()
        .map(|a| AmendmentView {
            id: a.id.into_string(),
            reason: a.reason,
            changes: serde_json::from_str(&a.changes).unwrap_or(serde_json::Value::Null),
            amended_by: a.amended_by.into_string(),
            amended_at: a.amended_at.and_utc(),
        })
        .collect();
    let recorded = recorded_terms(&row, &amendments)?;
    let name = open_name(key, &row)?;
    let write_off = match (
        &row.write_off_reason,
        &row.written_off_by,
        row.written_off_at,
    ) {
        (Some(reason), Some(by), Some(at)) => Some(WriteOffView {
            amount_fen: figures.written_off,
            reason: reason.clone(),
            by: by.to_string(),
            at: at.and_utc(),
        }),
        _ => None,
    };
    Ok(ClawbackView {
        id: row.id.to_string(),
        case_id: row.case_id.to_string(),
        case_number: case.number,
        status: figures.status()?.as_str().to_string(),
        version: row.version,
        programme: row.programme.as_str().to_string(),
        beneficiary: BeneficiaryView {
            name,
            id_number_masked: row.beneficiary_id_masked.clone(),
            village_code: row.village_code.clone(),
            township_code: row.township_code.clone(),
        },
        grant_period_from: row.grant_period_from,
        grant_period_to: row.grant_period_to,
        amount_due_fen: figures.due,
        recovered_fen: figures.recovered,
        written_off_fen: figures.written_off,
        outstanding_fen: figures.outstanding()?,
        due_on: row.due_on,
        overdue: figures.overdue(row.due_on, today)?,
        recorded,
        write_off,
        signers,
        recoveries: ledger
            .into_iter()
            .map(recovery_view)
            .collect::<Result<_, _>>()?,
        amendments,
        created_by: row.created_by.into_string(),
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
    })
}

/// The terms of `row` as first recorded: for each correctable field, the `from` of the first
/// correction that changed it, else its current value.
fn recorded_terms(
    row: &ClawbackRow,
    amendments: &[AmendmentView],
) -> Result<RecordedTerms, ClawbackError> {
    let first_from = |field: &str| {
        amendments
            .iter()
            .find_map(|a| a.changes.get(field).and_then(|c| c.get("from")).cloned())
    };
    let date = |field: &str, current: NaiveDate| {
        first_from(field)
            .and_then(|v| v.as_str().and_then(|s| s.parse().ok()))
            .unwrap_or(current)
    };
    let amount = match first_from("amount_due_fen").and_then(|v| v.as_i64()) {
        Some(v) => Fen::new(v)?,
        None => Fen::new(row.amount_due_fen)?,
    };
    Ok(RecordedTerms {
        amount_due_fen: amount,
        due_on: date("due_on", row.due_on),
        grant_period_from: date("grant_period_from", row.grant_period_from),
        grant_period_to: date("grant_period_to", row.grant_period_to),
    })
}

// ---------- the list ----------

/// The query of `GET /clawbacks`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
pub struct ClawbackQuery {
    /// A case id.
    pub case: Option<String>,
    /// A 9-digit township code (the beneficiary's).
    pub township: Option<String>,
    /// A 12-digit village code (the beneficiary's).
    pub village: Option<String>,
    /// `dibao | house_renovation | poverty_identification`.
    pub programme: Option<String>,
    /// `open | partly_recovered | recovered | written_off`.
    pub status: Option<String>,
    /// An official id: only clawbacks this official signed.
    pub signer: Option<String>,
    /// `true`: only clawbacks past their deadline with money outstanding; `false`: the others.
    pub overdue: Option<bool>,
    /// 1–200, default 50 (JSON pages; CSV holds every match).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// One clawback of the list: its figures and signers, without the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClawbackSummary {
    pub id: String,
    pub case_id: String,
    pub case_number: String,
    /// `open | partly_recovered | recovered | written_off`.
    pub status: String,
    pub programme: String,
    pub township_code: String,
    pub village_code: String,
    pub beneficiary_name: String,
    pub beneficiary_id_masked: String,
    pub grant_period_from: NaiveDate,
    pub grant_period_to: NaiveDate,
    #[schema(value_type = i64)]
    pub amount_due_fen: Fen,
    #[schema(value_type = i64)]
    pub recovered_fen: Fen,
    #[schema(value_type = i64)]
    pub written_off_fen: Fen,
    #[schema(value_type = i64)]
    pub outstanding_fen: Fen,
    pub due_on: NaiveDate,
    pub overdue: bool,
    pub signers: Vec<SignerView>,
    pub created_at: DateTime<Utc>,
}

/// The validated filters of a list request.
struct Filters {
    case: Option<String>,
    township: Option<String>,
    village: Option<String>,
    programme: Option<Programme>,
    status: Option<ClawbackStatus>,
    signer: Option<String>,
    overdue: Option<bool>,
    teams: Option<Vec<crate::domain::ids::TeamId>>,
}

/// How many rows the list reads at a time while it filters on derived figures.
const BATCH: i64 = 500;

fn time_key(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

fn cursor_key(row: &ClawbackRow) -> String {
    format!("{}|{}", time_key(row.created_at), row.id)
}

fn parse_cursor_key(key: &str) -> Option<(NaiveDateTime, String)> {
    let (t, id) = key.split_once('|')?;
    let t = NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.f").ok()?;
    Some((t, id.to_string()))
}

fn load_batch(
    conn: &mut DbConnection,
    f: &Filters,
    after: Option<&(NaiveDateTime, String)>,
    n: i64,
) -> QueryResult<Vec<(ClawbackRow, CaseRefRow)>> {
    let mut q = clawbacks::table
        .inner_join(cases::table)
        .select((ClawbackRow::as_select(), CaseRefRow::as_select()))
        .into_boxed();
    if let Some(c) = &f.case {
        q = q.filter(clawbacks::case_id.eq(c.clone()));
    }
    if let Some(t) = &f.township {
        q = q.filter(clawbacks::township_code.eq(t.clone()));
    }
    if let Some(v) = &f.village {
        q = q.filter(clawbacks::village_code.eq(v.clone()));
    }
    if let Some(p) = f.programme {
        q = q.filter(clawbacks::programme.eq(p.as_str().to_string()));
    }
    if let Some(s) = &f.signer {
        q = q.filter(
            clawbacks::id.eq_any(
                clawback_signers::table
                    .filter(clawback_signers::official_id.eq(s.clone()))
                    .select(clawback_signers::clawback_id),
            ),
        );
    }
    if let Some(teams) = &f.teams {
        q = q.filter(cases::team_id.eq_any(teams.clone()));
    }
    if let Some((t, id)) = after {
        q = q.filter(
            clawbacks::created_at.gt(*t).or(clawbacks::created_at
                .eq(*t)
                .and(clawbacks::id.gt(id.clone()))),
        );
    }
    q.order((clawbacks::created_at.asc(), clawbacks::id.asc()))
        .limit(n)
        .load(conn)
}

/// The clawbacks `reader` may see that match `query`, oldest first, on `today` (county date):
/// a page of at most `limit`, or with `every` all of them (for CSV). The status and overdue
/// filters are applied to the figures computed from the ledger, reading 500 rows at a time.
///
/// Errors: `Invalid` (422) naming each bad filter, `limit` or `cursor`; figures that do not
/// compute or names that do not open (500); database errors.
pub fn list(
    conn: &mut DbConnection,
    key: &DataKey,
    reader: &Reader,
    query: &ClawbackQuery,
    today: NaiveDate,
    every: bool,
) -> Result<Page<ClawbackSummary>, ClawbackError> {
    let mut problems = Vec::new();
    let (limit, after) = match (PageQuery {
        limit: query.limit,
        cursor: query.cursor.clone(),
    })
    .parse()
    {
        Ok(ok) => ok,
        Err(e) => {
            problems.extend(e.errors);
            (0, None)
        }
    };
    let after = match after.as_deref().map(parse_cursor_key) {
        Some(None) => {
            problems.push(FieldViolation::new(
                "cursor",
                ErrorCode::Invalid,
                "cursor must be a next_cursor value from a previous page",
            ));
            None
        }
        Some(Some(k)) => Some(k),
        None => None,
    };
    let programme = query.programme.as_deref().and_then(|s| {
        Programme::parse(s)
            .filter(|p| crate::domain::clawback::clawback_programme(*p))
            .or_else(|| {
                problems.push(FieldViolation::new(
                    "programme",
                    ErrorCode::UnknownValue,
                    "programme is one of dibao, house_renovation, poverty_identification",
                ));
                None
            })
    });
    let status = query.status.as_deref().and_then(|s| {
        ClawbackStatus::parse(s).or_else(|| {
            problems.push(FieldViolation::new(
                "status",
                ErrorCode::UnknownValue,
                format!("status is one of {}", ClawbackStatus::names()),
            ));
            None
        })
    });
    for (field, value) in [
        ("case", &query.case),
        ("township", &query.township),
        ("village", &query.village),
        ("signer", &query.signer),
    ] {
        if let Some(v) = value {
            if let Err(e) = text::check_controls(field, v) {
                problems.push(e);
            }
        }
    }
    if !problems.is_empty() {
        return Err(ClawbackError::Invalid(problems));
    }
    let filters = Filters {
        case: query.case.clone(),
        township: query.township.as_deref().map(text::compact_code),
        village: query.village.as_deref().map(text::compact_code),
        programme,
        status,
        signer: query.signer.clone(),
        overdue: query.overdue,
        teams: reader.visible_teams(conn)?,
    };
    let wanted = if every { usize::MAX } else { limit as usize };
    let mut after = after;
    let mut found: Vec<(ClawbackRow, CaseRefRow, Figures)> = Vec::new();
    'scan: loop {
        let batch = load_batch(conn, &filters, after.as_ref(), BATCH)?;
        let full = batch.len() as i64 == BATCH;
        let ids: Vec<ClawbackId> = batch.iter().map(|(r, _)| r.id.clone()).collect();
        let recovered = recovered_by_clawback(conn, &ids)?;
        for (row, case) in batch {
            after = Some((row.created_at, row.id.to_string()));
            let figures = figures_of(&row, recovered.get(&row.id).copied().unwrap_or_default())?;
            if filters.status.is_some_and(|s| figures.status() != Ok(s)) {
                continue;
            }
            if let Some(o) = filters.overdue {
                if figures.overdue(row.due_on, today)? != o {
                    continue;
                }
            }
            found.push((row, case, figures));
            if found.len() == wanted {
                break 'scan;
            }
        }
        if !full {
            break;
        }
    }
    let next_cursor = (!every && found.len() == wanted)
        .then(|| {
            found.last().map(|(r, _, _)| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(cursor_key(r))
            })
        })
        .flatten();
    let ids: Vec<ClawbackId> = found.iter().map(|(r, _, _)| r.id.clone()).collect();
    let mut signers = signers_of(conn, &ids)?;
    let items = found
        .into_iter()
        .map(|(row, case, figures)| {
            Ok(ClawbackSummary {
                id: row.id.to_string(),
                case_id: row.case_id.to_string(),
                case_number: case.number,
                status: figures.status()?.as_str().to_string(),
                programme: row.programme.as_str().to_string(),
                beneficiary_name: open_name(key, &row)?,
                beneficiary_id_masked: row.beneficiary_id_masked.clone(),
                township_code: row.township_code.clone(),
                village_code: row.village_code.clone(),
                grant_period_from: row.grant_period_from,
                grant_period_to: row.grant_period_to,
                amount_due_fen: figures.due,
                recovered_fen: figures.recovered,
                written_off_fen: figures.written_off,
                outstanding_fen: figures.outstanding()?,
                due_on: row.due_on,
                overdue: figures.overdue(row.due_on, today)?,
                signers: signers.remove(&row.id).unwrap_or_default(),
                created_at: row.created_at.and_utc(),
            })
        })
        .collect::<Result<Vec<_>, ClawbackError>>()?;
    Ok(Page { items, next_cursor })
}

// ---------- responsibility ----------

/// One clawback an official signed, with its whole figures: every signer answers for the
/// whole amount (joint responsibility).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResponsibilityItem {
    pub clawback_id: String,
    pub case_id: String,
    pub case_number: String,
    pub programme: String,
    pub township_code: String,
    pub village_code: String,
    /// The stage this official signed.
    pub stage: String,
    pub signed_on: NaiveDate,
    /// `open | partly_recovered | recovered | written_off`.
    pub status: String,
    pub due_on: NaiveDate,
    pub overdue: bool,
    #[schema(value_type = i64)]
    pub amount_due_fen: Fen,
    #[schema(value_type = i64)]
    pub recovered_fen: Fen,
    #[schema(value_type = i64)]
    pub written_off_fen: Fen,
    #[schema(value_type = i64)]
    pub outstanding_fen: Fen,
}

/// A signer's responsibility (SPEC.md → "Clawbacks": `GET /officials/{id}/responsibility`).
/// Written-off amounts stay on the record as written off, never as recovered.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Responsibility {
    pub official_id: String,
    pub name: String,
    pub post: String,
    pub level: String,
    pub division_code: String,
    /// How many clawbacks the official signed.
    pub clawbacks_signed: i64,
    /// Σ amount due of those clawbacks.
    #[schema(value_type = i64)]
    pub due_fen: Fen,
    #[schema(value_type = i64)]
    pub recovered_fen: Fen,
    #[schema(value_type = i64)]
    pub written_off_fen: Fen,
    #[schema(value_type = i64)]
    pub outstanding_fen: Fen,
    /// Σ outstanding of the overdue ones.
    #[schema(value_type = i64)]
    pub overdue_fen: Fen,
    /// Oldest first.
    pub clawbacks: Vec<ResponsibilityItem>,
}

/// The responsibility of official `official_id` on `today` (county date): every clawback they
/// signed, each with its whole figures, and the totals. County-wide for every reader: it names
/// no beneficiary.
///
/// Errors: `NotFound("official")`; figures that do not compute (500); database errors.
pub fn responsibility(
    conn: &mut DbConnection,
    official_id: &str,
    today: NaiveDate,
) -> Result<Responsibility, ClawbackError> {
    let official: SignerOfficialRow = officials::table
        .find(official_id)
        .select(SignerOfficialRow::as_select())
        .first(conn)
        .optional()?
        .ok_or(ClawbackError::NotFound("official"))?;
    let rows: Vec<(SignerRow, ClawbackRow, CaseRefRow)> = clawback_signers::table
        .inner_join(clawbacks::table.inner_join(cases::table))
        .filter(clawback_signers::official_id.eq(official_id))
        .order((clawbacks::created_at.asc(), clawbacks::id.asc()))
        .select((
            SignerRow::as_select(),
            ClawbackRow::as_select(),
            CaseRefRow::as_select(),
        ))
        .load(conn)?;
    let ids: Vec<ClawbackId> = rows.iter().map(|(_, r, _)| r.id.clone()).collect();
    let recovered = recovered_by_clawback(conn, &ids)?;
    let mut totals = [Fen::ZERO; 5];
    let mut clawbacks = Vec::with_capacity(rows.len());
    for (signer, row, case) in rows {
        let figures = figures_of(&row, recovered.get(&row.id).copied().unwrap_or_default())?;
        let outstanding = figures.outstanding()?;
        let overdue = figures.overdue(row.due_on, today)?;
        for (total, add) in totals.iter_mut().zip([
            figures.due,
            figures.recovered,
            figures.written_off,
            outstanding,
            if overdue { outstanding } else { Fen::ZERO },
        ]) {
            *total = total.checked_add(add)?;
        }
        clawbacks.push(ResponsibilityItem {
            clawback_id: row.id.into_string(),
            case_id: row.case_id.into_string(),
            case_number: case.number,
            programme: row.programme.as_str().to_string(),
            township_code: row.township_code,
            village_code: row.village_code,
            stage: signer.stage.as_str().to_string(),
            signed_on: signer.signed_on,
            status: figures.status()?.as_str().to_string(),
            due_on: row.due_on,
            overdue,
            amount_due_fen: figures.due,
            recovered_fen: figures.recovered,
            written_off_fen: figures.written_off,
            outstanding_fen: outstanding,
        });
    }
    let [due_fen, recovered_fen, written_off_fen, outstanding_fen, overdue_fen] = totals;
    Ok(Responsibility {
        official_id: official.id.into_string(),
        name: official.name,
        post: official.post,
        level: official.level.as_str().to_string(),
        division_code: official.division_code,
        clawbacks_signed: clawbacks.len() as i64,
        due_fen,
        recovered_fen,
        written_off_fen,
        outstanding_fen,
        overdue_fen,
        clawbacks,
    })
}

// ---------- the county summary ----------

/// The figures of a group of clawbacks.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct SummaryFigures {
    pub clawbacks: i64,
    #[schema(value_type = i64)]
    pub due_fen: Fen,
    #[schema(value_type = i64)]
    pub recovered_fen: Fen,
    #[schema(value_type = i64)]
    pub written_off_fen: Fen,
    #[schema(value_type = i64)]
    pub outstanding_fen: Fen,
    /// How many are overdue (past their deadline with money outstanding).
    pub overdue_clawbacks: i64,
    /// Σ outstanding of the overdue ones.
    #[schema(value_type = i64)]
    pub overdue_fen: Fen,
}

impl SummaryFigures {
    fn add(&mut self, f: &Figures, overdue: bool) -> Result<(), ClawbackError> {
        let outstanding = f.outstanding()?;
        self.clawbacks += 1;
        self.due_fen = self.due_fen.checked_add(f.due)?;
        self.recovered_fen = self.recovered_fen.checked_add(f.recovered)?;
        self.written_off_fen = self.written_off_fen.checked_add(f.written_off)?;
        self.outstanding_fen = self.outstanding_fen.checked_add(outstanding)?;
        if overdue {
            self.overdue_clawbacks += 1;
            self.overdue_fen = self.overdue_fen.checked_add(outstanding)?;
        }
        Ok(())
    }
}

/// One township and programme of the county summary.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SummaryRow {
    pub township_code: String,
    pub township_name: String,
    pub programme: String,
    #[serde(flatten)]
    pub figures: SummaryFigures,
}

/// The county summary (`GET /clawbacks/summary`): by township and programme, and in total.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClawbackSummaryReport {
    /// The county date the overdue figures are counted on.
    pub on: NaiveDate,
    /// By township code, then programme.
    pub items: Vec<SummaryRow>,
    pub total: SummaryFigures,
}

/// The figures of one clawback, for the summary.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = clawbacks)]
#[diesel(check_for_backend(crate::db::MultiBackend))]
struct SummaryInputRow {
    id: ClawbackId,
    programme: Programme,
    township_code: String,
    amount_due_fen: i64,
    written_off_fen: i64,
    due_on: NaiveDate,
}

/// The county summary on `today` (county date): every clawback, grouped by the beneficiary's
/// township and the programme. County-wide for every reader: it names no beneficiary.
///
/// Errors: figures that do not compute (500); database errors.
pub fn summary(
    conn: &mut DbConnection,
    today: NaiveDate,
) -> Result<ClawbackSummaryReport, ClawbackError> {
    let rows: Vec<SummaryInputRow> = clawbacks::table
        .select(SummaryInputRow::as_select())
        .load(conn)?;
    let mut recovered: HashMap<ClawbackId, Fen> = HashMap::new();
    for r in recoveries::table
        .select(RecoveryAmountRow::as_select())
        .load(conn)?
    {
        let sum = recovered.entry(r.clawback_id).or_default();
        *sum = sum.checked_add(Fen::new(r.amount_fen)?)?;
    }
    let mut groups: BTreeMap<(String, &'static str), SummaryFigures> = BTreeMap::new();
    let mut total = SummaryFigures::default();
    for row in &rows {
        let figures = Figures {
            due: Fen::new(row.amount_due_fen)?,
            recovered: recovered.get(&row.id).copied().unwrap_or_default(),
            written_off: Fen::new(row.written_off_fen)?,
        };
        let overdue = figures.overdue(row.due_on, today)?;
        groups
            .entry((row.township_code.clone(), row.programme.as_str()))
            .or_default()
            .add(&figures, overdue)?;
        total.add(&figures, overdue)?;
    }
    let codes: Vec<&str> = groups.keys().map(|(t, _)| t.as_str()).collect();
    let names: HashMap<String, String> = crate::divisions::find_many(conn, &codes)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect();
    let items = groups
        .into_iter()
        .map(|((township_code, programme), figures)| SummaryRow {
            township_name: names.get(&township_code).cloned().unwrap_or_default(),
            township_code,
            programme: programme.to_string(),
            figures,
        })
        .collect();
    Ok(ClawbackSummaryReport {
        on: today,
        items,
        total,
    })
}
