//! The clawback lists as CSV (`Accept: text/csv`; docs/clawbacks.md → "CSV"): the same rows as
//! the JSON answers, written by `http::csv` (UTF-8 with a BOM, formula cells neutralised,
//! since names of people and villages come from reports and imports). Amounts are integer fen,
//! as in JSON; dates are county dates.

use std::collections::HashMap;

use super::view::{ClawbackSummary, ClawbackSummaryReport, Responsibility, SignerView};
use crate::db::DbConnection;
use crate::domain::clawback::ClawbackStatus;
use crate::domain::report::Programme;
use crate::http::csv::CsvTable;

fn programme_zh(p: &str) -> &'static str {
    Programme::parse(p).map(Programme::label_zh).unwrap_or("")
}

fn status_zh(s: &str) -> &'static str {
    ClawbackStatus::parse(s)
        .map(ClawbackStatus::label_zh)
        .unwrap_or("")
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "true"
    } else {
        "false"
    }
}

/// `张某明（村支书，村评议，2025-03-02）；…`: the signers in one cell.
fn signers_cell(signers: &[SignerView]) -> String {
    signers
        .iter()
        .map(|s| format!("{}（{}，{}，{}）", s.name, s.post, s.stage_zh, s.signed_on))
        .collect::<Vec<_>>()
        .join("；")
}

/// The names of the divisions among `codes`.
///
/// Errors: database errors.
fn names(
    conn: &mut DbConnection,
    codes: Vec<&str>,
) -> diesel::QueryResult<HashMap<String, String>> {
    Ok(crate::divisions::find_many(conn, &codes)?
        .into_iter()
        .map(|d| (d.code, d.name))
        .collect())
}

/// The list of clawbacks: one row per clawback, with the division names, the beneficiary (name
/// and masked ID number) and the signers.
///
/// Errors: database errors.
pub fn clawbacks_csv(
    conn: &mut DbConnection,
    items: &[ClawbackSummary],
) -> diesel::QueryResult<Vec<u8>> {
    let names = names(
        conn,
        items
            .iter()
            .flat_map(|c| [c.township_code.as_str(), c.village_code.as_str()])
            .collect(),
    )?;
    let name = |code: &str| names.get(code).cloned().unwrap_or_default();
    let mut t = CsvTable::new(&[
        "clawback_id",
        "case_number",
        "status",
        "status_zh",
        "programme",
        "programme_zh",
        "township_code",
        "township_name",
        "village_code",
        "village_name",
        "beneficiary_name",
        "beneficiary_id_masked",
        "grant_period_from",
        "grant_period_to",
        "amount_due_fen",
        "recovered_fen",
        "written_off_fen",
        "outstanding_fen",
        "due_on",
        "overdue",
        "signers",
    ]);
    for c in items {
        t.row([
            c.id.clone(),
            c.case_number.clone(),
            c.status.clone(),
            status_zh(&c.status).to_string(),
            c.programme.clone(),
            programme_zh(&c.programme).to_string(),
            c.township_code.clone(),
            name(&c.township_code),
            c.village_code.clone(),
            name(&c.village_code),
            c.beneficiary_name.clone(),
            c.beneficiary_id_masked.clone(),
            c.grant_period_from.to_string(),
            c.grant_period_to.to_string(),
            c.amount_due_fen.get().to_string(),
            c.recovered_fen.get().to_string(),
            c.written_off_fen.get().to_string(),
            c.outstanding_fen.get().to_string(),
            c.due_on.to_string(),
            yes_no(c.overdue).to_string(),
            signers_cell(&c.signers),
        ]);
    }
    Ok(t.into_bytes())
}

/// A signer's responsibility: one row per clawback signed, each with the official and the
/// clawback's whole figures.
///
/// Errors: database errors.
pub fn responsibility_csv(
    conn: &mut DbConnection,
    r: &Responsibility,
) -> diesel::QueryResult<Vec<u8>> {
    let names = names(
        conn,
        r.clawbacks
            .iter()
            .flat_map(|c| [c.township_code.as_str(), c.village_code.as_str()])
            .collect(),
    )?;
    let name = |code: &str| names.get(code).cloned().unwrap_or_default();
    let mut t = CsvTable::new(&[
        "official_id",
        "official_name",
        "post",
        "clawback_id",
        "case_number",
        "programme",
        "programme_zh",
        "township_name",
        "village_name",
        "stage",
        "signed_on",
        "status",
        "due_on",
        "overdue",
        "amount_due_fen",
        "recovered_fen",
        "written_off_fen",
        "outstanding_fen",
    ]);
    for c in &r.clawbacks {
        t.row([
            r.official_id.clone(),
            r.name.clone(),
            r.post.clone(),
            c.clawback_id.clone(),
            c.case_number.clone(),
            c.programme.clone(),
            programme_zh(&c.programme).to_string(),
            name(&c.township_code),
            name(&c.village_code),
            c.stage.clone(),
            c.signed_on.to_string(),
            c.status.clone(),
            c.due_on.to_string(),
            yes_no(c.overdue).to_string(),
            c.amount_due_fen.get().to_string(),
            c.recovered_fen.get().to_string(),
            c.written_off_fen.get().to_string(),
            c.outstanding_fen.get().to_string(),
        ]);
    }
    Ok(t.into_bytes())
}

/// The county summary: one row per township and programme, then the county's total (with the
/// township and programme cells empty and the name 全县合计).
pub fn summary_csv(s: &ClawbackSummaryReport) -> Vec<u8> {
    let mut t = CsvTable::new(&[
        "township_code",
        "township_name",
        "programme",
        "programme_zh",
        "clawbacks",
        "due_fen",
        "recovered_fen",
        "written_off_fen",
        "outstanding_fen",
        "overdue_clawbacks",
        "overdue_fen",
    ]);
    let figures = |f: &super::view::SummaryFigures| {
        [
            f.clawbacks.to_string(),
            f.due_fen.get().to_string(),
            f.recovered_fen.get().to_string(),
            f.written_off_fen.get().to_string(),
            f.outstanding_fen.get().to_string(),
            f.overdue_clawbacks.to_string(),
            f.overdue_fen.get().to_string(),
        ]
    };
    for row in &s.items {
        t.row(
            [
                row.township_code.clone(),
                row.township_name.clone(),
                row.programme.clone(),
                programme_zh(&row.programme).to_string(),
            ]
            .into_iter()
            .chain(figures(&row.figures)),
        );
    }
    t.row(
        [
            String::new(),
            "全县合计".to_string(),
            String::new(),
            String::new(),
        ]
        .into_iter()
        .chain(figures(&s.total)),
    );
    t.into_bytes()
}
