//! Synthetic cases for benchmarks: `probity generate-cases --count N` (docs/benchmarks.md →
//! "Investigator queue, 1,000,000 cases"). Never for a production database: the command refuses
//! in the `production` environment.
//!
//! What it writes, on either backend:
//! - the demo county (`divisions::demo::load`; kept if already there), whose 45 villages the
//!   cases are spread over;
//! - [`TEAMS`] teams `基准测试NN室`, each with [`INVESTIGATORS_PER_TEAM`] investigators
//!   `bench-inv-NN-MM` (a random password nobody is told; they never sign in), made through the
//!   ordinary `routing` and `users` functions, audited; an existing team or user of that name
//!   is reused. The `--assignee` user, when given, joins the first team;
//! - `count` cases, numbered `AJ-<year>-<6 digits>` from the counters the case numbers of triage
//!   use (so a real acceptance later never takes a generated number), in write transactions of
//!   [`CASES_PER_TRANSACTION`] cases, each with one `cases.generated` audit entry naming its
//!   numbers, inserted [`CASES_PER_STATEMENT`] rows to a statement. `case_counts` follows
//!   through its triggers like for any other write. The cases have no reports: they are for the
//!   queue, not for opening.
//!
//! Every attribute of case `i` is a pure function of `i` and the seed, so two runs with the same
//! count and seed give the same queue (ids and the numbers' offsets aside).

use std::collections::BTreeMap;

use anyhow::{anyhow, bail};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::no_deadline;
use crate::audit::{self, Actor};
use crate::db::schema::{cases, teams, users};
use crate::db::{self, dialect, DbConnection};
use crate::domain::case_status::{earliest_open_deadline, CaseDeadlines, CaseStatus, Disposition};
use crate::domain::deadlines::today_in_county;
use crate::domain::ids::{CaseId, TeamId, UserId};
use crate::domain::report::Programme;
use crate::domain::roles::Role;
use crate::domain::subject_level::SubjectLevel;

/// Teams the cases are spread over.
pub const TEAMS: usize = 10;
/// Investigators per team (the `--assignee` user joins the first team beside them).
pub const INVESTIGATORS_PER_TEAM: usize = 10;
/// Cases per write transaction (one audit entry each).
pub const CASES_PER_TRANSACTION: usize = 10_000;
/// Rows per `INSERT` statement: 17 columns × 1,000 binds stay under SQLite's 32,766 and
/// PostgreSQL's 65,535 parameters.
pub const CASES_PER_STATEMENT: usize = 1_000;
/// Case numbers have six digits: at most this many in one year.
const NUMBERS_PER_YEAR: i64 = 999_999;
/// Cases received per day of the spread (so about 100,000 a year, well under six digits).
const CASES_PER_DAY: u64 = 274;

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// How many cases (at least 1).
    pub count: u64,
    /// The username of an existing staff account that gets its share of the first team's
    /// cases (for `assignee=me`); it is added to that team.
    pub assignee: Option<String>,
    /// Varies the spread; the same seed and count give the same queue.
    pub seed: u64,
}

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Generated {
    pub cases: u64,
    /// Cases per status.
    pub by_status: BTreeMap<&'static str, u64>,
    /// Cases whose earliest running deadline is before `today`.
    pub overdue: u64,
    /// Cases assigned to the `--assignee` user, and of those overdue.
    pub assigned_to_named: u64,
    pub assigned_to_named_overdue: u64,
}

/// A generated case: every column the queue and the case view read.
#[derive(Debug, Insertable)]
#[diesel(table_name = cases)]
struct GeneratedCase {
    id: CaseId,
    number: String,
    status: CaseStatus,
    version: i32,
    programme: Programme,
    township_code: String,
    village_code: String,
    subject_level: SubjectLevel,
    accused_official_ids: String,
    team_id: TeamId,
    assignee_id: Option<UserId>,
    disposition: Option<Disposition>,
    disposition_reason: Option<String>,
    review_on: Option<NaiveDate>,
    verification_due: Option<NaiveDate>,
    triage_due: NaiveDate,
    acknowledge_by: Option<NaiveDate>,
    feedback_due: Option<NaiveDate>,
    due_on: NaiveDate,
    received_at: NaiveDateTime,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// A village of the county and its township.
#[derive(Debug, Clone)]
struct Place {
    township: String,
    village: String,
}

/// Who works the cases: per team, its id and its investigators (the named user last in the
/// first team).
struct Staffing {
    teams: Vec<(TeamId, Vec<UserId>)>,
    named: Option<UserId>,
}

/// SplitMix64: a well-mixed 64-bit value for case `i`, attribute `salt`, under `seed`.
fn mix(seed: u64, i: u64, salt: u64) -> u64 {
    let mut z = seed
        .wrapping_add(i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The status of a generated case, by share (per thousand): closed 400, closed without action
/// 150, concluded 50, filed 80, filing requested 20, on hold 40, preliminary verification 120,
/// inquiry 60, registered 80 — 45% of the cases still open.
fn status_for(roll: u64) -> CaseStatus {
    use CaseStatus as S;
    const SHARES: [(CaseStatus, u64); 9] = [
        (S::Closed, 400),
        (S::ClosedWithoutAction, 150),
        (S::Concluded, 50),
        (S::Filed, 80),
        (S::FilingRequested, 20),
        (S::OnHold, 40),
        (S::PreliminaryVerification, 120),
        (S::Inquiry, 60),
        (S::Registered, 80),
    ];
    let mut roll = roll % 1000;
    for (status, share) in SHARES {
        if roll < share {
            return status;
        }
        roll -= share;
    }
    S::Registered
}

/// Case `i` of `count`, received before `now` (UTC), with deadlines around `today` (county).
/// Its number is left empty (the caller numbers a batch from the counters).
fn case(
    opts: &GenerateOptions,
    i: u64,
    now: NaiveDateTime,
    today: NaiveDate,
    places: &[Place],
    staff: &Staffing,
) -> GeneratedCase {
    let r = |salt: u64| mix(opts.seed, i, salt);
    // Received evenly over the spread, oldest first, so numbers follow the received order.
    let days = (opts.count / CASES_PER_DAY).max(30) as i64;
    let step_ms = days * 86_400_000 / opts.count.max(1) as i64;
    let received_at = now - Duration::milliseconds((opts.count - i) as i64 * step_ms);
    let created_at = received_at + Duration::hours((r(1) % 96) as i64);
    let updated_at = (created_at + Duration::days((r(2) % 60) as i64)).min(now);
    let status = status_for(r(3));
    // A running deadline from 90 days ago to 180 days ahead: about a third of those are overdue.
    let deadline = today + Duration::days((r(4) % 271) as i64 - 90);
    let mut d = CaseDeadlines::default();
    let (mut disposition, mut reason) = (None, None);
    match status {
        // Real-name reports (about 70%) carry an acknowledgement date.
        CaseStatus::Registered => d.acknowledge_by = (r(5) % 10 < 7).then_some(deadline),
        CaseStatus::Inquiry => {
            disposition = Some(Disposition::Inquiry);
            d.acknowledge_by = (r(5) % 10 < 3).then_some(deadline);
        }
        CaseStatus::PreliminaryVerification => {
            disposition = Some(Disposition::PreliminaryVerification);
            d.verification_due = Some(deadline);
        }
        CaseStatus::OnHold => {
            disposition = Some(Disposition::OnHold);
            d.review_on = Some(deadline);
        }
        CaseStatus::FilingRequested | CaseStatus::Filed => disposition = Some(Disposition::File),
        CaseStatus::Concluded => {
            disposition = Some(Disposition::File);
            d.feedback_due = Some(deadline);
        }
        CaseStatus::ClosedWithoutAction => {
            disposition = Some(Disposition::CloseWithoutAction);
            reason = Some("经初步了解，反映问题不属实（基准测试数据）".to_string());
        }
        CaseStatus::Closed => disposition = Some(Disposition::File),
    }
    let (team_id, members) = &staff.teams[(r(6) % staff.teams.len() as u64) as usize];
    // Most registered cases wait for assignment; every other case has an investigator.
    let assignee_id = if status == CaseStatus::Registered && r(7) % 10 < 8 {
        None
    } else {
        Some(members[(r(8) % members.len() as u64) as usize].clone())
    };
    let place = &places[(r(9) % places.len() as u64) as usize];
    let programme = match r(10) % 20 {
        0..=9 => Programme::Dibao,
        10..=14 => Programme::PovertyIdentification,
        15..=17 => Programme::HouseRenovation,
        _ => Programme::Other,
    };
    let subject_level = match r(11) % 20 {
        0..=13 => SubjectLevel::Village,
        14..=18 => SubjectLevel::Township,
        _ => SubjectLevel::County,
    };
    GeneratedCase {
        id: CaseId::generate(),
        number: String::new(),
        status,
        version: if status == CaseStatus::Registered {
            1
        } else {
            2 + (r(12) % 3) as i32
        },
        programme,
        township_code: place.township.clone(),
        village_code: place.village.clone(),
        subject_level,
        accused_official_ids: "[]".to_string(),
        team_id: team_id.clone(),
        assignee_id,
        disposition,
        disposition_reason: reason,
        review_on: d.review_on,
        verification_due: d.verification_due,
        triage_due: (received_at + Duration::days(7)).date(),
        acknowledge_by: d.acknowledge_by,
        feedback_due: d.feedback_due,
        due_on: earliest_open_deadline(status, &d).unwrap_or_else(no_deadline),
        received_at,
        created_at,
        updated_at,
    }
}

/// The villages of the database (the demo county's, loaded first), by code.
fn places(conn: &mut DbConnection) -> anyhow::Result<Vec<Place>> {
    let places: Vec<Place> = crate::divisions::all_by_code(conn)?
        .into_values()
        .filter(|d| d.level == "village")
        .filter_map(|d| {
            let township = d.parent_code?;
            Some((
                d.code.clone(),
                Place {
                    township,
                    village: d.code,
                },
            ))
        })
        .collect::<BTreeMap<String, Place>>()
        .into_values()
        .collect();
    if places.is_empty() {
        bail!("no villages to put cases in");
    }
    Ok(places)
}

/// The benchmark teams and investigators, made when missing (see the module docs).
fn staffing(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    assignee: Option<&str>,
) -> anyhow::Result<Staffing> {
    let named = match assignee {
        None => None,
        Some(username) => Some(
            users::table
                .filter(users::username.eq(username))
                .select(users::id)
                .first::<UserId>(conn)
                .optional()?
                .ok_or_else(|| anyhow!("--assignee: no staff user is named {username:?}"))?,
        ),
    };
    // One hash of a random password nobody is told, shared by the generated investigators.
    let mut password_hash: Option<String> = None;
    let mut teams_found = Vec::new();
    for t in 1..=TEAMS {
        let name = format!("基准测试{t:02}室");
        let team = match teams::table
            .filter(teams::name.eq(&name))
            .select(teams::id)
            .first::<TeamId>(conn)
            .optional()?
        {
            Some(id) => id,
            None => crate::routing::create_team(conn, now, actor, &name)?.id,
        };
        let mut members = Vec::new();
        for m in 1..=INVESTIGATORS_PER_TEAM {
            let username = format!("bench-inv-{t:02}-{m:02}");
            let existing: Option<UserId> = users::table
                .filter(users::username.eq(&username))
                .select(users::id)
                .first(conn)
                .optional()?;
            let id = match existing {
                Some(id) => id,
                None => {
                    let hash = match &password_hash {
                        Some(h) => h.clone(),
                        None => {
                            let secret = uuid::Uuid::new_v4().to_string();
                            let h = crate::hashing::HashPool::new(1, 1).run_blocking(
                                move |memory| crate::hashing::password_hash(memory, &secret),
                            )?;
                            password_hash = Some(h.clone());
                            h
                        }
                    };
                    let user = crate::users::NewUser {
                        username: username.clone(),
                        display_name: format!("基准测试调查员{t:02}-{m:02}"),
                        email: None,
                        roles: vec![Role::Investigator],
                    };
                    UserId::from(crate::users::create_user(conn, now, actor, &user, &hash)?)
                }
            };
            members.push(id);
        }
        if t == 1 {
            if let Some(n) = &named {
                members.push(n.clone());
            }
        }
        let wanted: Vec<String> = members.iter().map(|m| m.as_str().to_string()).collect();
        let mut current: Vec<String> = crate::routing::members(conn, &team)?
            .into_iter()
            .map(UserId::into_string)
            .collect();
        let mut sorted = wanted.clone();
        sorted.sort();
        current.sort();
        if current != sorted {
            crate::routing::replace_members(conn, now, actor, &team, &wanted)?;
        }
        teams_found.push((team, members));
    }
    Ok(Staffing {
        teams: teams_found,
        named,
    })
}

/// Writes `opts.count` benchmark cases as the module docs say, stamped `now` (UTC, the
/// caller's clock), with deadlines around the county date of `now`, and returns what it wrote.
/// `progress` is called after each committed transaction with the number of cases so far.
///
/// Errors: `--assignee` names nobody; a year would need more than 999,999 case numbers; any
/// database error (the transactions committed before it stay).
pub fn generate(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
    opts: &GenerateOptions,
    mut progress: impl FnMut(u64),
) -> anyhow::Result<Generated> {
    if opts.count == 0 {
        bail!("--count must be at least 1");
    }
    let today = today_in_county(now.and_utc());
    crate::divisions::demo::load(conn, now, actor)?;
    let places = places(conn)?;
    let staff = staffing(conn, now, actor, opts.assignee.as_deref())?;
    dialect::prepare_bulk_load(conn)?;
    let mut done = Generated::default();
    let mut start = 0u64;
    while start < opts.count {
        let end = (start + CASES_PER_TRANSACTION as u64).min(opts.count);
        let mut batch: Vec<GeneratedCase> = (start..end)
            .map(|i| case(opts, i, now, today, &places, &staff))
            .collect();
        db::write_tx(conn, |conn| {
            number(conn, &mut batch)?;
            for chunk in batch.chunks(CASES_PER_STATEMENT) {
                dialect::insert_batch(conn, cases::table, chunk)?;
            }
            let (first, last) = (&batch[0].number, &batch[batch.len() - 1].number);
            audit::record(
                conn,
                now,
                actor,
                "cases.generated",
                "case",
                first,
                serde_json::json!({ "count": batch.len(), "first_number": first, "last_number": last }),
            )?;
            Ok::<_, anyhow::Error>(())
        })?;
        for c in &batch {
            *done.by_status.entry(c.status.as_str()).or_default() += 1;
            let overdue = c.due_on < today;
            done.overdue += u64::from(overdue);
            if staff.named.is_some() && c.assignee_id == staff.named {
                done.assigned_to_named += 1;
                done.assigned_to_named_overdue += u64::from(overdue);
            }
        }
        done.cases = end;
        start = end;
        progress(done.cases);
    }
    dialect::refresh_statistics(conn)?;
    Ok(done)
}

/// Numbers the cases of `batch` in order, `AJ-<county year of created_at>-<6 digits>`, taking
/// each year's numbers from its counter `case_number:<year>` (the counter triage uses).
///
/// Errors: a year's counter would pass 999,999; database errors.
fn number(conn: &mut DbConnection, batch: &mut [GeneratedCase]) -> anyhow::Result<()> {
    let year = |c: &GeneratedCase| today_in_county(c.created_at.and_utc()).year();
    let mut per_year: BTreeMap<i32, i64> = BTreeMap::new();
    for c in batch.iter() {
        *per_year.entry(year(c)).or_default() += 1;
    }
    let mut next: BTreeMap<i32, i64> = BTreeMap::new();
    for (y, n) in per_year {
        let last = dialect::add_to_counter(conn, &format!("case_number:{y}"), n)?;
        if last > NUMBERS_PER_YEAR {
            bail!("case numbers of {y} would pass {NUMBERS_PER_YEAR}: generate fewer cases");
        }
        next.insert(y, last - n + 1);
    }
    for c in batch.iter_mut() {
        let slot = next.entry(year(c)).or_default();
        c.number = format!("AJ-{}-{:06}", year(c), slot);
        *slot += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_shares_add_up_to_the_stated_ones() {
        let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
        for roll in 0..1000 {
            *counts.entry(status_for(roll).as_str()).or_default() += 1;
        }
        assert_eq!(counts["closed"], 400);
        assert_eq!(counts["closed_without_action"], 150);
        assert_eq!(counts["registered"], 80);
        assert_eq!(counts.values().sum::<u64>(), 1000);
        assert_eq!(counts.len(), CaseStatus::ALL.len());
    }

    #[test]
    fn mixing_is_deterministic_and_spreads() {
        assert_eq!(mix(7, 42, 3), mix(7, 42, 3));
        assert_ne!(mix(7, 42, 3), mix(7, 43, 3));
        assert_ne!(mix(7, 42, 3), mix(8, 42, 3));
        let odd = (0..10_000).filter(|i| mix(1, *i, 0) % 2 == 1).count();
        assert!((4_700..5_300).contains(&odd), "{odd}");
    }
}
