//! The case page's `clawbacks` section (谁签字谁追回，谁签字谁负责; SPEC.md rule 3,
//! "Clawbacks"): the case's clawbacks with their signers, figures (due, recovered, written off,
//! outstanding, computed from the ledger), recoveries, corrections and write-off, each signer
//! linked to their responsibility page (`/staff/officials/{id}`).
//!
//! Who sees what (the API's permissions, `domain::permissions`):
//! - the list: `ReadClawbacks` (investigators of the case's team, supervisors, auditors);
//! - the form to record a clawback, with signer rows: `RecordClawbacks`, on a case that takes
//!   clawbacks (`clawbacks::record::accepts_clawbacks`: filed, concluded or closed);
//! - a recovery form on each clawback with money outstanding: `RecordRecoveries`;
//! - a correction form on each clawback: `RecordClawbacks`;
//! - a write-off form on each clawback with money outstanding: `Supervise`.
//!
//! Amounts are typed in yuan (`3600`, `1,234.56`, `￥88.5`) and sent to the capability as the
//! integer of fen the API takes ([`yuan_to_fen`]); the capability checks the range as for the
//! API (`domain::money::Fen::from_json`). The POST handlers call the functions the API handlers
//! call: `clawbacks::record::record`, `clawbacks::ledger::{record_recovery, amend, write_off}`.

use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;
use diesel::prelude::*;
use serde_json::Value;

use super::investigations::{
    data, division_names, level_zh, refuse, render, short, staff_names, Choice,
};
use super::{CaseView, Failed, Section};
use crate::clawbacks::ledger::{
    self, AmendmentRequest, PayerInput, Recorded, RecoveryRequest, WriteOffRequest,
};
use crate::clawbacks::record::{self, BeneficiaryInput, ClawbackRequest, SignerInput};
use crate::clawbacks::view::{clawback_view, ClawbackView};
use crate::clawbacks::{find_visible, ClawbacksState, Reader, When};
use crate::console::form::{FormData, Posted};
use crate::console::page::{self, PageError};
use crate::console::session::Desk;
use crate::db::schema::{clawbacks, divisions, officials};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::case_status::CaseStatus;
use crate::domain::clawback::{clawback_programme, ClawbackStatus, PayerKind, SignerStage};
use crate::domain::deadlines;
use crate::domain::divisions::Level;
use crate::domain::money::Fen;
use crate::domain::permissions::Permission;
use crate::domain::report::Programme;
use crate::error::{ApiError, ErrorCode};
use crate::web::zh;

/// Notices after this section's actions (`?done=<key>`).
pub const DONE: &[(&str, &str)] = &[
    (
        "clawback_recorded",
        "追回记录已登记；留有邮箱的签字人会收到通知。",
    ),
    ("recovery_recorded", "追回款已登记。"),
    (
        "recovery_replayed",
        "这笔追回款此前已按同一凭证号、同一金额登记过，没有重复登记。",
    ),
    ("clawback_amended", "更正已登记，原记录仍可查看。"),
    (
        "clawback_written_off",
        "未追回的金额已核销；签字人的责任记录中仍保留这笔核销。",
    ),
];

/// Blank signer rows offered below the filled ones.
const BLANK_SIGNER_ROWS: usize = 3;
/// The columns of a signer row, in the order of [`SignerInput`].
const SIGNER_COLUMNS: [&str; 3] = ["sg_official", "sg_stage", "sg_signed_on"];
/// The fields of the API whose amount the console takes in yuan.
const AMOUNT_FIELDS: [&str; 2] = ["amount_fen", "amount_due_fen"];

/// Text that is not an amount of yuan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NotYuan;

/// An amount typed in yuan, as fen: `3600` → 360000, `1,234.5` → 123450, `￥0.05` → 5.
/// Full-width digits are folded; `¥`/`￥`, a trailing `元`, spaces and thousands separators are
/// ignored; at most two decimals. An amount too large to count is `i64::MAX` fen (the
/// capability then refuses it as out of range, as the API would).
///
/// Returns `Ok(None)` when blank; errors when the text is not an amount of yuan.
pub fn yuan_to_fen(text: &str) -> Result<Option<i64>, NotYuan> {
    let folded = crate::domain::text::fold_code(text);
    let cleaned: String = folded
        .trim_start_matches('¥')
        .trim_end_matches('元')
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',')
        .collect();
    if cleaned.is_empty() {
        return Ok(None);
    }
    let (yuan, cents) = match cleaned.split_once('.') {
        Some((y, c)) => (y, c),
        None => (cleaned.as_str(), ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if yuan.is_empty() || !digits(yuan) || !digits(cents) || cents.len() > 2 {
        return Err(NotYuan);
    }
    if cleaned.contains('.') && cents.is_empty() {
        return Err(NotYuan);
    }
    let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| NotYuan)?;
    let fen = yuan
        .parse::<i64>()
        .ok()
        .and_then(|y| y.checked_mul(100))
        .and_then(|f| f.checked_add(cents))
        .unwrap_or(i64::MAX);
    Ok(Some(fen))
}

/// The JSON value the API would receive for an amount typed in yuan: an integer of fen, null
/// when blank, or the text itself (which the capability refuses as `invalid`).
fn amount_json(typed: Option<&str>) -> Value {
    let typed = typed.unwrap_or_default();
    match yuan_to_fen(typed) {
        Ok(Some(fen)) => Value::from(fen),
        Ok(None) => Value::Null,
        Err(NotYuan) => Value::String(typed.to_string()),
    }
}

/// The capability's refusal with the amount fields explained in yuan, as the form takes them.
fn in_yuan(mut e: ApiError) -> ApiError {
    for v in &mut e.errors {
        if !AMOUNT_FIELDS.contains(&v.field.as_str()) {
            continue;
        }
        match v.code {
            ErrorCode::Invalid => {
                v.message_zh =
                    "金额以元为单位填写，例如 3600 或 1234.56（最多两位小数）。".to_string();
            }
            ErrorCode::OutOfRange => {
                v.message_zh = "金额应在 0.01 元到 1,000 亿元之间。".to_string();
            }
            _ => {}
        }
    }
    e
}

fn status_zh(status: &str) -> &'static str {
    ClawbackStatus::parse(status)
        .map(ClawbackStatus::label_zh)
        .unwrap_or("")
}

fn programme_zh(programme: &str) -> &'static str {
    Programme::parse(programme)
        .map(Programme::label_zh)
        .unwrap_or("")
}

/// A `<select>` group of officials (by level).
struct OfficialGroup {
    label: String,
    options: Vec<Choice>,
}

struct SignerLine {
    official_id: String,
    name: String,
    post: String,
    stage: String,
    signed_on: String,
}

struct RecoveryLine {
    paid_on: String,
    amount: String,
    payer: String,
    reference: String,
    recorded: String,
}

struct AmendmentLine {
    at: String,
    by: String,
    reason: String,
    changes: Vec<String>,
}

/// What a refused form of this section typed, and its messages.
struct Typed<'a> {
    failed: Option<&'a Failed>,
}

impl<'a> Typed<'a> {
    /// The refused form, when it is form `kind` about `target` (`""` for the record form).
    fn of(refused: Option<&'a Failed>, kind: &str, target: &str) -> Typed<'a> {
        Typed {
            failed: refused.filter(|f| {
                f.form.get("form").as_deref() == Some(kind)
                    && f.form.get("target").unwrap_or_default() == target
            }),
        }
    }

    fn value(&self, field: &str) -> String {
        self.failed
            .and_then(|f| f.form.raw(field))
            .unwrap_or_default()
            .to_string()
    }

    fn err(&self, field: &str) -> String {
        self.failed
            .and_then(|f| f.refusal.field(field))
            .unwrap_or_default()
            .to_string()
    }

    /// The first message among `fields`.
    fn err_any(&self, fields: &[&str]) -> String {
        fields
            .iter()
            .map(|f| self.err(f))
            .find(|e| !e.is_empty())
            .unwrap_or_default()
    }

    fn refusal(&self) -> Option<String> {
        self.failed.map(|f| f.refusal.message.clone())
    }

    fn rows(&self, columns: &[&str]) -> Vec<Vec<String>> {
        self.failed
            .map(|f| f.form.rows(columns))
            .unwrap_or_default()
    }
}

struct RecoveryForm {
    action: String,
    p: String,
    target: String,
    amount: String,
    paid_on: String,
    payers: Vec<Choice>,
    reference: String,
    refusal: Option<String>,
    err_amount: String,
    err_paid_on: String,
    err_payer: String,
    err_reference: String,
}

struct AmendForm {
    action: String,
    p: String,
    target: String,
    version: i32,
    reason: String,
    amount: String,
    due_on: String,
    grant_period_from: String,
    grant_period_to: String,
    current_amount: String,
    current_due_on: String,
    current_from: String,
    current_to: String,
    refusal: Option<String>,
    err_reason: String,
    err_amount: String,
    err_due_on: String,
    err_from: String,
    err_to: String,
}

struct WriteOffForm {
    action: String,
    p: String,
    target: String,
    version: i32,
    reason: String,
    refusal: Option<String>,
    err_reason: String,
}

struct Item {
    anchor: String,
    programme: String,
    beneficiary: String,
    id_masked: String,
    village: String,
    grant_period: String,
    status: String,
    due: String,
    recovered: String,
    written_off: String,
    outstanding: String,
    due_on: String,
    overdue: bool,
    write_off: Option<String>,
    recorded: String,
    original: Option<String>,
    signers: Vec<SignerLine>,
    recoveries: Vec<RecoveryLine>,
    amendments: Vec<AmendmentLine>,
    recovery_form: Option<RecoveryForm>,
    amend_form: Option<AmendForm>,
    write_off_form: Option<WriteOffForm>,
}

struct SignerRowForm {
    n: usize,
    groups: Vec<OfficialGroup>,
    stages: Vec<Choice>,
    signed_on: String,
    err_official: String,
    err_stage: String,
    err_signed_on: String,
}

struct RecordForm {
    action: String,
    refusal: Option<String>,
    name: String,
    id_number: String,
    villages: Vec<Choice>,
    programmes: Vec<Choice>,
    grant_period_from: String,
    grant_period_to: String,
    amount: String,
    due_on: String,
    rows: Vec<SignerRowForm>,
    err_name: String,
    err_id_number: String,
    err_village: String,
    err_programme: String,
    err_from: String,
    err_to: String,
    err_amount: String,
    err_due_on: String,
    err_signers: String,
}

#[derive(Template)]
#[template(path = "console/sections/clawbacks.html")]
struct SectionHtml {
    csrf: String,
    readable: bool,
    items: Vec<Item>,
    record: Option<RecordForm>,
    /// Why no clawback can be recorded yet (the case is not filed), for those who could.
    not_yet: bool,
}

/// An official offered as a signer: id, label, level.
struct Candidate {
    id: String,
    label: String,
    level: Level,
}

struct Loaded {
    views: Vec<ClawbackView>,
    staff: std::collections::HashMap<String, String>,
    villages: std::collections::HashMap<String, String>,
    /// Villages of the case's township (code, name), for the beneficiary's village.
    township_villages: Vec<(String, String)>,
    candidates: Vec<Candidate>,
}

fn load(
    conn: &mut DbConnection,
    key: &crate::crypto::DataKey,
    reader: &Reader,
    case: &CaseView,
    today: chrono::NaiveDate,
    with_candidates: bool,
) -> Result<Loaded, ApiError> {
    let ids: Vec<String> = clawbacks::table
        .filter(clawbacks::case_id.eq(&case.id))
        .order((clawbacks::created_at, clawbacks::id))
        .select(clawbacks::id)
        .load(conn)?;
    let mut views = Vec::with_capacity(ids.len());
    for id in &ids {
        let (row, case_ref) = find_visible(conn, reader, id)?;
        views.push(clawback_view(conn, key, row, case_ref, today)?);
    }
    let mut user_ids: Vec<String> = Vec::new();
    for v in &views {
        user_ids.push(v.created_by.clone());
        user_ids.extend(v.write_off.as_ref().map(|w| w.by.clone()));
        user_ids.extend(v.amendments.iter().map(|a| a.amended_by.clone()));
        user_ids.extend(
            v.recoveries
                .iter()
                .filter_map(|r| r.recorded_by.strip_prefix("user:").map(str::to_string)),
        );
    }
    let refs: Vec<&str> = user_ids.iter().map(String::as_str).collect();
    let staff = staff_names(conn, &refs)?;
    let codes: Vec<&str> = views
        .iter()
        .map(|v| v.beneficiary.village_code.as_str())
        .collect();
    let villages = division_names(conn, &codes)?;
    let (township_villages, candidates) = if with_candidates {
        let township_villages: Vec<(String, String)> = divisions::table
            .filter(divisions::parent_code.eq(&case.township_code))
            .filter(divisions::level.eq(Level::Village))
            .order(divisions::code)
            .select((divisions::code, divisions::name))
            .load(conn)?;
        let county: Option<String> = divisions::table
            .find(&case.township_code)
            .select(divisions::parent_code)
            .first::<Option<String>>(conn)
            .optional()?
            .flatten();
        let mut codes = vec![case.village_code.clone(), case.township_code.clone()];
        codes.extend(county);
        let rows: Vec<(String, String, String, Level)> = officials::table
            .filter(officials::division_code.eq_any(&codes))
            .filter(officials::active.eq(true))
            .order((officials::name, officials::id))
            .select((
                officials::id,
                officials::name,
                officials::post,
                officials::level,
            ))
            .load(conn)?;
        let candidates = rows
            .into_iter()
            .map(|(id, name, post, level)| Candidate {
                id,
                label: format!("{name}（{post}）"),
                level,
            })
            .collect();
        (township_villages, candidates)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Loaded {
        views,
        staff,
        villages,
        township_villages,
        candidates,
    })
}

fn official_groups(candidates: &[Candidate], chosen: &str) -> Vec<OfficialGroup> {
    [Level::Village, Level::Township, Level::County]
        .into_iter()
        .map(|level| OfficialGroup {
            label: format!("{}干部", level_zh(level.as_str())),
            options: candidates
                .iter()
                .filter(|c| c.level == level)
                .map(|c| Choice::new(c.id.clone(), c.label.clone(), chosen))
                .collect(),
        })
        .filter(|g| !g.options.is_empty())
        .collect()
}

fn stage_choices(chosen: &str) -> Vec<Choice> {
    let mut out = vec![Choice::new("", "（请选择）", chosen)];
    out.extend(SignerStage::ALL.iter().map(|s| {
        Choice::new(
            s.as_str(),
            format!(
                "{}（由{}干部签字）",
                s.label_zh(),
                level_zh(s.level().as_str())
            ),
            chosen,
        )
    }));
    out
}

fn record_form(case: &CaseView, loaded: &Loaded, refused: Option<&Failed>) -> RecordForm {
    let t = Typed::of(refused, "record", "");
    let chosen_village = if t.failed.is_some() {
        t.value("beneficiary_village")
    } else {
        case.village_code.clone()
    };
    let mut villages = vec![Choice::new("", "（请选择）", &chosen_village)];
    villages.extend(loaded.township_villages.iter().map(|(code, name)| {
        Choice::new(code.clone(), format!("{name}（{code}）"), &chosen_village)
    }));
    let chosen_programme = if t.failed.is_some() {
        t.value("programme")
    } else {
        Programme::parse(&case.programme)
            .filter(|p| clawback_programme(*p))
            .map(|p| p.as_str().to_string())
            .unwrap_or_default()
    };
    let mut programmes = vec![Choice::new("", "（请选择）", &chosen_programme)];
    programmes.extend(
        Programme::ALL
            .iter()
            .filter(|p| clawback_programme(**p))
            .map(|p| Choice::new(p.as_str(), p.label_zh(), &chosen_programme)),
    );
    let blank = vec![String::new(); SIGNER_COLUMNS.len()];
    let typed_rows = t.rows(&SIGNER_COLUMNS);
    let rows = typed_rows
        .iter()
        .chain(std::iter::repeat_n(&blank, BLANK_SIGNER_ROWS))
        .enumerate()
        .map(|(i, row)| {
            let at = |f: &str| format!("signers[{i}].{f}");
            SignerRowForm {
                n: i + 1,
                groups: official_groups(&loaded.candidates, &row[0]),
                stages: stage_choices(&row[1]),
                signed_on: row[2].clone(),
                err_official: t.err(&at("official_id")),
                err_stage: t.err(&at("stage")),
                err_signed_on: t.err(&at("signed_on")),
            }
        })
        .collect();
    RecordForm {
        action: format!("/staff/cases/{}/clawbacks", case.id),
        refusal: t.refusal(),
        name: t.value("beneficiary_name"),
        id_number: t.value("beneficiary_id_number"),
        villages,
        programmes,
        grant_period_from: t.value("grant_period_from"),
        grant_period_to: t.value("grant_period_to"),
        amount: t.value("amount_yuan"),
        due_on: t.value("due_on"),
        rows,
        err_name: t.err("beneficiary.name"),
        err_id_number: t.err("beneficiary.id_number"),
        err_village: t.err("beneficiary.village_code"),
        err_programme: t.err("programme"),
        err_from: t.err("grant_period_from"),
        err_to: t.err("grant_period_to"),
        err_amount: t.err("amount_due_fen"),
        err_due_on: t.err("due_on"),
        err_signers: t.err("signers"),
    }
}

fn item(v: &ClawbackView, loaded: &Loaded, desk: &Desk, refused: Option<&Failed>) -> Item {
    let staff = |id: &str| {
        loaded
            .staff
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    };
    let outstanding = !v.outstanding_fen.is_zero();
    let p = short(&v.id);
    let signer_name = |official: &str| {
        v.signers
            .iter()
            .find(|s| s.official_id == official)
            .map(|s| format!("{}（{}，签字人）", s.name, s.post))
            .unwrap_or_else(|| official.to_string())
    };
    let recovery_form = (outstanding && desk.can(Permission::RecordRecoveries)).then(|| {
        let t = Typed::of(refused, "recovery", &v.id);
        let chosen = t.value("payer");
        let mut payers = vec![Choice::new(
            PayerKind::Beneficiary.as_str(),
            format!("受益人：{}", v.beneficiary.name),
            &chosen,
        )];
        payers.extend(v.signers.iter().map(|s| {
            Choice::new(
                format!("signer:{}", s.official_id),
                format!("签字人：{}（{}）", s.name, s.post),
                &chosen,
            )
        }));
        RecoveryForm {
            action: format!("/staff/clawbacks/{}/recoveries", v.id),
            p: format!("r{p}"),
            target: v.id.clone(),
            amount: t.value("amount_yuan"),
            paid_on: t.value("paid_on"),
            payers,
            reference: t.value("reference"),
            refusal: t.refusal(),
            err_amount: t.err("amount_fen"),
            err_paid_on: t.err("paid_on"),
            err_payer: t.err_any(&["payer.kind", "payer.official_id"]),
            err_reference: t.err("reference"),
        }
    });
    let amend_form = desk.can(Permission::RecordClawbacks).then(|| {
        let t = Typed::of(refused, "amend", &v.id);
        AmendForm {
            action: format!("/staff/clawbacks/{}/amendments", v.id),
            p: format!("a{p}"),
            target: v.id.clone(),
            version: v.version,
            reason: t.value("reason"),
            amount: t.value("amount_yuan"),
            due_on: t.value("due_on"),
            grant_period_from: t.value("grant_period_from"),
            grant_period_to: t.value("grant_period_to"),
            current_amount: v.amount_due_fen.to_string(),
            current_due_on: v.due_on.to_string(),
            current_from: v.grant_period_from.to_string(),
            current_to: v.grant_period_to.to_string(),
            refusal: t.refusal(),
            err_reason: t.err("reason"),
            err_amount: t.err("amount_due_fen"),
            err_due_on: t.err("due_on"),
            err_from: t.err("grant_period_from"),
            err_to: t.err("grant_period_to"),
        }
    });
    let write_off_form = (outstanding && desk.can(Permission::Supervise)).then(|| {
        let t = Typed::of(refused, "write_off", &v.id);
        WriteOffForm {
            action: format!("/staff/clawbacks/{}/write-off", v.id),
            p: format!("w{p}"),
            target: v.id.clone(),
            version: v.version,
            reason: t.value("reason"),
            refusal: t.refusal(),
            err_reason: t.err("reason"),
        }
    });
    let changed = v.recorded.amount_due_fen != v.amount_due_fen
        || v.recorded.due_on != v.due_on
        || v.recorded.grant_period_from != v.grant_period_from
        || v.recorded.grant_period_to != v.grant_period_to;
    Item {
        anchor: format!("clawback-{p}"),
        programme: programme_zh(&v.programme).to_string(),
        beneficiary: v.beneficiary.name.clone(),
        id_masked: v.beneficiary.id_number_masked.clone(),
        village: loaded
            .villages
            .get(&v.beneficiary.village_code)
            .cloned()
            .unwrap_or_else(|| v.beneficiary.village_code.clone()),
        grant_period: format!(
            "{} 至 {}",
            zh::date(v.grant_period_from),
            zh::date(v.grant_period_to)
        ),
        status: status_zh(&v.status).to_string(),
        due: v.amount_due_fen.to_string(),
        recovered: v.recovered_fen.to_string(),
        written_off: v.written_off_fen.to_string(),
        outstanding: v.outstanding_fen.to_string(),
        due_on: zh::date(v.due_on),
        overdue: v.overdue,
        write_off: v.write_off.as_ref().map(|w| {
            format!(
                "{}由{}核销 {}，理由：{}",
                zh::time(w.at),
                staff(&w.by),
                w.amount_fen,
                w.reason
            )
        }),
        recorded: format!("{}，{}", staff(&v.created_by), zh::time(v.created_at)),
        original: changed.then(|| {
            format!(
                "原登记：应追回 {}，期限 {}，享受期间 {} 至 {}",
                v.recorded.amount_due_fen,
                zh::date(v.recorded.due_on),
                zh::date(v.recorded.grant_period_from),
                zh::date(v.recorded.grant_period_to)
            )
        }),
        signers: v
            .signers
            .iter()
            .map(|s| SignerLine {
                official_id: s.official_id.clone(),
                name: s.name.clone(),
                post: s.post.clone(),
                stage: s.stage_zh.clone(),
                signed_on: zh::date(s.signed_on),
            })
            .collect(),
        recoveries: v
            .recoveries
            .iter()
            .map(|r| RecoveryLine {
                paid_on: zh::date(r.paid_on),
                amount: r.amount_fen.to_string(),
                payer: match (&r.payer.official_id, r.payer.kind.as_str()) {
                    (Some(o), _) => signer_name(o),
                    (None, _) => format!("受益人 {}", v.beneficiary.name),
                },
                reference: r.reference.clone(),
                recorded: match r.recorded_by.strip_prefix("user:") {
                    Some(u) => format!("{}，{}", staff(u), zh::time(r.recorded_at)),
                    None => format!("业务系统接口，{}", zh::time(r.recorded_at)),
                },
            })
            .collect(),
        amendments: v
            .amendments
            .iter()
            .map(|a| AmendmentLine {
                at: zh::time(a.amended_at),
                by: staff(&a.amended_by),
                reason: a.reason.clone(),
                changes: a
                    .changes
                    .as_object()
                    .map(|m| {
                        m.iter()
                            .map(|(field, c)| change_zh(field, &c["from"], &c["to"]))
                            .collect()
                    })
                    .unwrap_or_default(),
            })
            .collect(),
        recovery_form,
        amend_form,
        write_off_form,
    }
}

/// One corrected field in Chinese: `应追回金额：¥3,600.00 → ¥3,000.00`.
fn change_zh(field: &str, from: &Value, to: &Value) -> String {
    let label = match field {
        "amount_due_fen" => "应追回金额",
        "due_on" => "追回期限",
        "grant_period_from" => "享受期间起",
        "grant_period_to" => "享受期间止",
        other => other,
    };
    let shown = |v: &Value| match (field, v) {
        ("amount_due_fen", Value::Number(n)) => n
            .as_i64()
            .and_then(|f| Fen::new(f).ok())
            .map(|f| f.to_string())
            .unwrap_or_else(|| n.to_string()),
        (_, Value::String(s)) => s
            .parse::<chrono::NaiveDate>()
            .map(zh::date)
            .unwrap_or_else(|_| s.clone()),
        (_, other) => other.to_string(),
    };
    format!("{label}：{} → {}", shown(from), shown(to))
}

/// This section of case `case`'s page, as HTML: the case's clawbacks for a user who may read
/// them (`ReadClawbacks`), and the forms the user's permissions and the state allow; `failed`
/// (a refused form of this section) fills that form in again with the field messages.
///
/// Errors: a database failure or a beneficiary name that does not open (500 page).
pub async fn section(
    req: &HttpRequest,
    desk: &Desk,
    case: &CaseView,
    failed: Option<&Failed>,
) -> Result<String, PageError> {
    if !desk.can(Permission::ReadClawbacks) {
        return render(&SectionHtml {
            csrf: desk.csrf_token.clone(),
            readable: false,
            items: Vec::new(),
            record: None,
            not_yet: false,
        });
    }
    let pool = data::<DbPool>(req)?;
    let state = data::<ClawbacksState>(req)?;
    let today = deadlines::today_in_county(state.clock.now());
    let accepts = CaseStatus::parse(&case.status).is_some_and(record::accepts_clawbacks);
    let may_record = desk.can(Permission::RecordClawbacks);
    let reader = reader(desk);
    let key = state.data_key.clone();
    let owned = case.clone();
    let loaded = db::run(&pool, move |conn| {
        load(conn, &key, &reader, &owned, today, accepts && may_record)
    })
    .await?;
    let refused = failed.filter(|f| f.section == Section::Clawbacks);
    let items = loaded
        .views
        .iter()
        .map(|v| item(v, &loaded, desk, refused))
        .collect();
    render(&SectionHtml {
        csrf: desk.csrf_token.clone(),
        readable: true,
        items,
        record: (accepts && may_record).then(|| record_form(case, &loaded, refused)),
        not_yet: may_record && !accepts,
    })
}

fn reader(desk: &Desk) -> Reader {
    Reader {
        user_id: Some(desk.user_id().to_string()),
        roles: desk.roles().to_vec(),
    }
}

fn when(state: &ClawbacksState) -> When {
    When {
        now: state.clock.now_naive(),
        today: deadlines::today_in_county(state.clock.now()),
    }
}

/// The request the record form makes: signer rows left blank are dropped.
fn clawback_request(form: &FormData) -> ClawbackRequest {
    let signers = form
        .rows(&SIGNER_COLUMNS)
        .into_iter()
        .map(|row| {
            let some = |v: &str| (!v.is_empty()).then(|| v.to_string());
            SignerInput {
                official_id: some(&row[0]),
                stage: some(&row[1]),
                signed_on: some(&row[2]),
            }
        })
        .collect();
    ClawbackRequest {
        beneficiary: Some(BeneficiaryInput {
            name: form.get("beneficiary_name"),
            id_number: form.get("beneficiary_id_number"),
            village_code: form.get("beneficiary_village"),
        }),
        programme: form.get("programme"),
        grant_period_from: form.get("grant_period_from"),
        grant_period_to: form.get("grant_period_to"),
        amount_due_fen: amount_json(form.raw("amount_yuan")),
        due_on: form.get("due_on"),
        signers: Some(signers),
    }
}

/// The request the recovery form makes. The payer select carries `beneficiary` or
/// `signer:<official id>`.
fn recovery_request(form: &FormData) -> RecoveryRequest {
    let payer = form.get("payer").map(|p| match p.split_once(':') {
        Some((kind, official)) => PayerInput {
            kind: Some(kind.to_string()),
            official_id: Some(official.to_string()),
        },
        None => PayerInput {
            kind: Some(p),
            official_id: None,
        },
    });
    RecoveryRequest {
        amount_fen: amount_json(form.raw("amount_yuan")),
        paid_on: form.get("paid_on"),
        payer,
        reference: form.get("reference"),
    }
}

fn amendment_request(form: &FormData) -> AmendmentRequest {
    AmendmentRequest {
        reason: form.get("reason"),
        amount_due_fen: amount_json(form.raw("amount_yuan")),
        due_on: form.get("due_on"),
        grant_period_from: form.get("grant_period_from"),
        grant_period_to: form.get("grant_period_to"),
        version: form.version(),
    }
}

/// `POST /staff/cases/{id}/clawbacks`: records a clawback with its signer rows through
/// `clawbacks::record::record` (`RecordClawbacks`: investigators of the case's team,
/// supervisors). 303 to the case page; a refusal (409 `case_not_filed`, 422 naming each field)
/// shows the case page again with the form filled in.
async fn record_clawback(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    desk.require(Permission::RecordClawbacks)?;
    let case_id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let state = data::<ClawbacksState>(&req)?;
    let body = clawback_request(&form);
    let (who, actor, at, key) = (
        desk.viewer(),
        desk.staff.actor(),
        when(&state),
        state.data_key.clone(),
    );
    let id = case_id.clone();
    let done = db::run(&pool, move |conn| {
        Ok(record::record(conn, &key, &who, &actor, &id, &body, at)?)
    })
    .await;
    match done {
        Ok(_) => Ok(page::see_other(&super::after(
            &case_id,
            "clawback_recorded",
            Section::Clawbacks,
        ))),
        Err(e) => refuse(&req, &desk, &case_id, Section::Clawbacks, in_yuan(e), form).await,
    }
}

/// The case of clawback `id`. Errors: 404 page when there is none.
async fn case_of(pool: &DbPool, id: &str) -> Result<String, PageError> {
    let id = id.to_string();
    db::run(pool, move |conn| {
        Ok(clawbacks::table
            .find(&id)
            .select(clawbacks::case_id)
            .first::<String>(conn)
            .optional()?)
    })
    .await?
    .ok_or_else(PageError::not_found)
}

/// What a ledger change answered: the done key, or the refusal.
type Outcome = Result<&'static str, ApiError>;

/// Runs a ledger change of clawback `{id}` for the POST handlers below: the permission, the
/// clawback's case, then `change` in the pool; answers 303 to the case page with the done key,
/// or the case page with the refusal.
async fn ledger_change<F>(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
    permission: Permission,
    change: F,
) -> Result<HttpResponse, PageError>
where
    F: FnOnce(
            &mut DbConnection,
            &FormData,
            &Reader,
            &crate::audit::Actor,
            &ClawbacksState,
            &str,
        ) -> Outcome
        + Send
        + 'static,
{
    let Posted { desk, form } = posted;
    desk.require(permission)?;
    let id = path.into_inner();
    let pool = data::<DbPool>(&req)?;
    let state = data::<ClawbacksState>(&req)?;
    let case_id = case_of(&pool, &id).await?;
    let (who, actor, sent) = (reader(&desk), desk.staff.actor(), form.clone());
    let done = db::run(&pool, move |conn| {
        Ok(change(conn, &sent, &who, &actor, state.get_ref(), &id))
    })
    .await
    .and_then(|outcome| outcome);
    match done {
        Ok(key) => Ok(page::see_other(&super::after(
            &case_id,
            key,
            Section::Clawbacks,
        ))),
        Err(e) => refuse(&req, &desk, &case_id, Section::Clawbacks, in_yuan(e), form).await,
    }
}

/// `POST /staff/clawbacks/{id}/recoveries`: records a recovery through
/// `clawbacks::ledger::record_recovery` (`RecordRecoveries`). The same reference and amount
/// again records nothing and says so; 422 `over_recovery`, 409 `reference_reused` come back on
/// the case page.
async fn recover(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    ledger_change(
        req,
        path,
        posted,
        Permission::RecordRecoveries,
        |conn, form, who, actor, state, id| {
            let body = recovery_request(form);
            match ledger::record_recovery(conn, &state.data_key, who, actor, id, &body, when(state))
            {
                Ok(Recorded::New(_)) => Ok("recovery_recorded"),
                Ok(Recorded::Replay(_)) => Ok("recovery_replayed"),
                Err(e) => Err(e.into()),
            }
        },
    )
    .await
}

/// `POST /staff/clawbacks/{id}/amendments`: a correction through `clawbacks::ledger::amend`
/// (`RecordClawbacks`); blank fields stay as they are.
async fn amend(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    ledger_change(
        req,
        path,
        posted,
        Permission::RecordClawbacks,
        |conn, form, who, actor, state, id| {
            let body = amendment_request(form);
            ledger::amend(conn, &state.data_key, who, actor, id, &body, when(state))
                .map(|_| "clawback_amended")
                .map_err(Into::into)
        },
    )
    .await
}

/// `POST /staff/clawbacks/{id}/write-off`: writes off what is outstanding through
/// `clawbacks::ledger::write_off` (supervisors, `Supervise`).
async fn write_off(
    req: HttpRequest,
    path: web::Path<String>,
    posted: Posted,
) -> Result<HttpResponse, PageError> {
    ledger_change(
        req,
        path,
        posted,
        Permission::Supervise,
        |conn, form, who, actor, state, id| {
            let body = WriteOffRequest {
                reason: form.get("reason"),
                version: form.version(),
            };
            ledger::write_off(conn, &state.data_key, who, actor, id, &body, when(state))
                .map(|_| "clawback_written_off")
                .map_err(Into::into)
        },
    )
    .await
}

/// Mounts the section's POST routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/cases/{id}/clawbacks").route(web::post().to(record_clawback)),
    )
    .service(web::resource("/staff/clawbacks/{id}/recoveries").route(web::post().to(recover)))
    .service(web::resource("/staff/clawbacks/{id}/amendments").route(web::post().to(amend)))
    .service(web::resource("/staff/clawbacks/{id}/write-off").route(web::post().to(write_off)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yuan_become_fen_exactly() {
        assert_eq!(yuan_to_fen("3600"), Ok(Some(360_000)));
        assert_eq!(yuan_to_fen(" 1,234.5 "), Ok(Some(123_450)));
        assert_eq!(yuan_to_fen("￥0.05"), Ok(Some(5)));
        assert_eq!(yuan_to_fen("¥88.50元"), Ok(Some(8_850)));
        assert_eq!(yuan_to_fen("１２３．４５"), Ok(Some(12_345)));
        assert_eq!(yuan_to_fen("0"), Ok(Some(0)));
        assert_eq!(yuan_to_fen(""), Ok(None));
        assert_eq!(yuan_to_fen("   "), Ok(None));
        assert_eq!(yuan_to_fen("99999999999999999999"), Ok(Some(i64::MAX)));
    }

    #[test]
    fn anything_else_is_not_an_amount() {
        for bad in [
            "1.234", "1.", ".5", "-5", "1e3", "12,3a", "三千", "1.2.3", "+5",
        ] {
            assert_eq!(yuan_to_fen(bad), Err(NotYuan), "{bad}");
        }
        assert_eq!(amount_json(Some("abc")), Value::String("abc".into()));
        assert_eq!(amount_json(Some("")), Value::Null);
        assert_eq!(amount_json(Some("12.3")), Value::from(1230));
    }

    #[test]
    fn the_payer_select_names_a_signer_or_the_beneficiary() {
        let form = FormData::parse(
            "amount_yuan=100&paid_on=2026-11-30&payer=signer%3Aoff-1&reference=A1".as_bytes(),
        );
        let body = recovery_request(&form);
        assert_eq!(body.amount_fen, Value::from(10_000));
        let payer = body.payer.unwrap();
        assert_eq!(payer.kind.as_deref(), Some("signer"));
        assert_eq!(payer.official_id.as_deref(), Some("off-1"));
        let form = FormData::parse("payer=beneficiary".as_bytes());
        let payer = recovery_request(&form).payer.unwrap();
        assert_eq!(payer.kind.as_deref(), Some("beneficiary"));
        assert!(payer.official_id.is_none());
    }

    #[test]
    fn signer_rows_left_blank_are_dropped() {
        let form = FormData::parse(
            "sg_official=o1&sg_stage=village_deliberation&sg_signed_on=2025-03-02\
             &sg_official=&sg_stage=&sg_signed_on=\
             &sg_official=o3&sg_stage=county_approval&sg_signed_on=2025-03-20"
                .as_bytes(),
        );
        let body = clawback_request(&form);
        let signers = body.signers.unwrap();
        assert_eq!(signers.len(), 2);
        assert_eq!(signers[1].official_id.as_deref(), Some("o3"));
        assert_eq!(body.amount_due_fen, Value::Null);
    }
}
