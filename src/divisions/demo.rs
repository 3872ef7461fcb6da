//! The demo data set, compiled into the binary: 寻乌县 (360734), its 15 townships, three
//! villages in each, and pseudonymous officials (the heads of the county's 民政局, 住建局 and
//! 扶贫办, who sign county approvals of benefits; 乡镇党委书记, 乡镇长, 分管扶贫领导, 乡镇纪委书记 per
//! township; 村支书 and 村委会主任 per village). Everything it inserts is marked `demo = true`.
//!
//! Only 360734 (寻乌县), 360734100 (长宁镇), 360734101 (晨光镇) and 360734102 (留车镇) are real
//! codes; the others are illustrative. See docs/reference-data.md.

use std::collections::{HashMap, HashSet};

use anyhow::{anyhow, Context};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use serde::Serialize;

use super::officials::{self, NewOfficial};
use crate::audit::Actor;
use crate::db::schema::officials as officials_table;
use crate::db::{self, DbConnection};
use crate::domain::divisions::{self as rules, Level};

pub const DIVISIONS_CSV: &str = include_str!("../../config/demo/divisions.csv");
pub const OFFICIALS_CSV: &str = include_str!("../../config/demo/officials.csv");

/// The demo county's code.
pub const COUNTY_CODE: &str = "360734";

/// What [`load`] added. Running it again adds nothing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DemoCounts {
    pub divisions_added: usize,
    pub officials_added: usize,
}

/// The demo officials (`name,post,level,division_code`), checked for shape.
pub fn officials() -> anyhow::Result<Vec<NewOfficial>> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(OFFICIALS_CSV.as_bytes());
    let mut found = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record = record.with_context(|| format!("demo officials.csv line {line}"))?;
        let [name, post, level, division_code] = [0, 1, 2, 3].map(|c| record[c].to_string());
        let (level, problems) = rules::check_official(&name, &post, &level);
        let level = match (level, problems.first()) {
            (Some(l), None) => l,
            (_, p) => return Err(anyhow!("demo officials.csv line {line}: {p:?}")),
        };
        found.push(NewOfficial {
            name,
            post,
            level,
            division_code,
            active: true,
            email: None,
        });
    }
    Ok(found)
}

/// Loads the demo county, idempotently, in one transaction. Divisions that already exist are
/// left as they are (real data wins). A demo official is added only where nobody holds that
/// post in that division yet, active or not. Every insert is audited, stamped `now` (the
/// caller's clock).
///
/// Errors: the demo files do not fit this database, or a database error.
pub fn load(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    actor: &Actor,
) -> anyhow::Result<DemoCounts> {
    let officials = officials()?;
    db::write_tx(conn, |conn| {
        let existing = super::all_by_code(conn)?;
        let rows = super::import::plan(DIVISIONS_CSV, &existing).map_err(|errors| {
            let lines: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            anyhow!(
                "the demo divisions do not fit this database: {}",
                lines.join("; ")
            )
        })?;
        let divisions = super::apply(conn, now, actor, &rows, true)?;
        let mut held: HashSet<(String, String)> = officials_table::table
            .select(super::models::OfficialPostRow::as_select())
            .load(conn)?
            .into_iter()
            .map(|r: super::models::OfficialPostRow| (r.division_code, r.post))
            .collect();
        // Every demo division now exists with the level the file gives it.
        let levels: HashMap<&str, Level> = rows
            .iter()
            .map(|r| (r.row.code.as_str(), r.row.level))
            .collect();
        let mut officials_added = 0;
        for official in &officials {
            if let Some(v) = rules::check_official_division(
                official.level,
                &official.division_code,
                levels.get(official.division_code.as_str()).copied(),
                "level",
            ) {
                return Err(anyhow!("demo official {}: {}", official.name, v.message));
            }
            if held.insert((official.division_code.clone(), official.post.clone())) {
                officials::insert(conn, now, actor, official, "demo-data")?;
                officials_added += 1;
            }
        }
        Ok(DemoCounts {
            divisions_added: divisions.inserted,
            officials_added,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::divisions::import::{plan, Action};
    use crate::divisions::officials::{COUNTY_POSTS, TOWNSHIP_POSTS, VILLAGE_POSTS};

    #[test]
    fn the_demo_divisions_are_a_valid_import() {
        let rows = plan(DIVISIONS_CSV, &HashMap::new()).expect("demo divisions are valid");
        assert!(rows.iter().all(|r| r.action == Action::Insert));
        let count = |l: Level| rows.iter().filter(|r| r.row.level == l).count();
        assert_eq!(count(Level::County), 1);
        assert_eq!(count(Level::Township), 15);
        assert_eq!(count(Level::Village), 45);
        let name = |code: &str| {
            rows.iter()
                .find(|r| r.row.code == code)
                .map(|r| r.row.name.as_str())
        };
        assert_eq!(name(COUNTY_CODE), Some("寻乌县"));
        assert_eq!(name("360734100"), Some("长宁镇"));
        assert_eq!(name("360734101"), Some("晨光镇"));
        assert_eq!(name("360734102"), Some("留车镇"));
        let villages_of = |township: &str| -> Vec<&str> {
            let code = rows
                .iter()
                .find(|r| r.row.name == township)
                .map(|r| r.row.code.clone())
                .unwrap();
            rows.iter()
                .filter(|r| r.row.parent_code.as_deref() == Some(code.as_str()))
                .map(|r| r.row.name.as_str())
                .collect()
        };
        for township in rows.iter().filter(|r| r.row.level == Level::Township) {
            assert_eq!(
                villages_of(&township.row.name).len(),
                3,
                "{}",
                township.row.name
            );
        }
        assert!(villages_of("桂竹帽镇").contains(&"上坪村"));
        assert!(villages_of("桂竹帽镇").contains(&"焦子坝村"));
        assert!(villages_of("文峰乡").contains(&"杨梅村"));
    }

    #[test]
    fn every_demo_division_has_its_officials() {
        let rows = plan(DIVISIONS_CSV, &HashMap::new()).unwrap();
        let levels: HashMap<&str, Level> = rows
            .iter()
            .map(|r| (r.row.code.as_str(), r.row.level))
            .collect();
        let officials = officials().unwrap();
        assert_eq!(officials.len(), 3 + 15 * 4 + 45 * 2);
        for o in &officials {
            assert_eq!(
                levels.get(o.division_code.as_str()),
                Some(&o.level),
                "{o:?}"
            );
        }
        for r in &rows {
            let posts: Vec<&str> = officials
                .iter()
                .filter(|o| o.division_code == r.row.code)
                .map(|o| o.post.as_str())
                .collect();
            match r.row.level {
                Level::Township => assert_eq!(posts, TOWNSHIP_POSTS, "{}", r.row.name),
                Level::Village => assert_eq!(posts, VILLAGE_POSTS, "{}", r.row.name),
                Level::County => assert_eq!(posts, COUNTY_POSTS, "{}", r.row.name),
            }
        }
        let names: HashSet<&str> = officials.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(names.len(), officials.len(), "pseudonyms are distinct");
    }
}
