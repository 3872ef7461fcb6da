//! The working-day calendar of a running server: read from `<config dir>/calendar/*.toml` at
//! start, shared by every capability that counts deadlines (reports today, the case queue
//! later) through one [`CalendarHandle`], and swapped whole on reload (SIGHUP, or
//! `POST /api/v1/calendar/reload`). A reload that finds a bad file keeps the calendar in use.
//! The pure rules (what a working day is, the arithmetic, one year's file) are
//! [`crate::domain::calendar`]; administrators' guide: `docs/calendar.md`.

pub mod routes;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::calendar::{WorkingCalendar, YearError};

/// Why the calendar folder could not be loaded. Nothing of it is used then: at start the server
/// refuses to start, on reload the calendar in use stays.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// One file is bad; names the file and, when known, the line.
    #[error("{}{}: {}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default(), reason)]
    BadFile {
        file: PathBuf,
        line: Option<usize>,
        reason: String,
    },
    /// The folder or a file in it could not be read.
    #[error("reading {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Where a calendar came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CalendarSource {
    /// The `*.toml` files of the calendar folder.
    Folder,
    /// The folder does not exist: the calendars compiled into the binary (2026).
    Shipped,
}

/// The calendar in use, as `/readyz`, `GET /api/v1/calendar` and the reload answer show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CalendarStatus {
    /// The years with an official calendar, ascending.
    pub years: Vec<i32>,
    /// This county year and the next (deadlines from December reach January) when they have
    /// no calendar: deadlines in them count weekends only. Empty when both are known.
    pub missing_years: Vec<i32>,
    /// Where the calendar was read from.
    pub source: CalendarSource,
}

/// Reads every `*.toml` file of `dir` (in name order) into one calendar. Each file holds one
/// year (`docs/calendar.md`); other files are ignored.
///
/// Errors: [`CalendarError::Unreadable`] when the folder or a file cannot be read (a missing
/// folder included: callers decide about that first); [`CalendarError::BadFile`] naming the
/// file and line for a file that does not parse, breaks a rule of
/// [`WorkingCalendar::add_year`], or repeats another file's year.
pub fn load_dir(dir: &Path) -> Result<WorkingCalendar, CalendarError> {
    let unreadable = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CalendarError::Unreadable { path, source }
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable(dir))? {
        let path = entry.map_err(unreadable(dir))?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut calendar = WorkingCalendar::default();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(unreadable(&file))?;
        calendar
            .add_year(&text)
            .map_err(|YearError { line, reason }| CalendarError::BadFile {
                file: file.clone(),
                line,
                reason,
            })?;
    }
    Ok(calendar)
}

/// Loads the calendar of `dir`: its files, or the shipped calendars when the folder does not
/// exist. Errors: as [`load_dir`].
pub fn load(dir: &Path) -> Result<(WorkingCalendar, CalendarSource), CalendarError> {
    if dir.exists() {
        Ok((load_dir(dir)?, CalendarSource::Folder))
    } else {
        Ok((WorkingCalendar::shipped(), CalendarSource::Shipped))
    }
}

struct Current {
    calendar: Arc<WorkingCalendar>,
    source: CalendarSource,
}

struct Inner {
    dir: PathBuf,
    current: RwLock<Current>,
    /// The county day of the last warnings and the missing years warned about that day.
    warned: Mutex<(Option<NaiveDate>, BTreeSet<i32>)>,
}

/// The shared, swappable calendar: cheap to clone, every clone sees the same calendar.
/// Readers take [`CalendarHandle::current`] once per computation, so a reload never changes a
/// calendar under a computation in progress.
#[derive(Clone)]
pub struct CalendarHandle(Arc<Inner>);

impl CalendarHandle {
    /// Reads the calendar folder `dir` (see [`load`]) and logs which years it holds.
    /// Errors: a bad or unreadable file ([`CalendarError`]); the server then does not start.
    pub fn open(dir: &Path) -> Result<CalendarHandle, CalendarError> {
        let (calendar, source) = load(dir)?;
        log_loaded(dir, &calendar, source);
        Ok(CalendarHandle(Arc::new(Inner {
            dir: dir.to_path_buf(),
            current: RwLock::new(Current {
                calendar: Arc::new(calendar),
                source,
            }),
            warned: Mutex::new((None, BTreeSet::new())),
        })))
    }

    /// The calendar folder this handle reads.
    pub fn dir(&self) -> &Path {
        &self.0.dir
    }

    /// The calendar in use.
    pub fn current(&self) -> Arc<WorkingCalendar> {
        self.read().calendar.clone()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Current> {
        self.0.current.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Reads the folder again without using it yet (for a caller that records the change
    /// first, then calls [`Self::install`]). Errors: as [`load`].
    pub fn load(&self) -> Result<(WorkingCalendar, CalendarSource), CalendarError> {
        load(&self.0.dir)
    }

    /// Puts `calendar` in use from now on, and logs its years.
    pub fn install(&self, calendar: WorkingCalendar, source: CalendarSource) {
        log_loaded(&self.0.dir, &calendar, source);
        let mut current = self.0.current.write().unwrap_or_else(|e| e.into_inner());
        *current = Current {
            calendar: Arc::new(calendar),
            source,
        };
    }

    /// Reads the folder again and puts the result in use; on error the calendar in use stays
    /// and the reason is logged. Returns the years now loaded. Used on SIGHUP.
    pub fn reload(&self) -> Result<Vec<i32>, CalendarError> {
        match self.load() {
            Ok((calendar, source)) => {
                let years = calendar.years();
                self.install(calendar, source);
                Ok(years)
            }
            Err(e) => {
                tracing::error!(error = %e, "calendar not reloaded: the calendar in use stays");
                Err(e)
            }
        }
    }

    /// The status on county date `today`: the years loaded and the missing ones.
    pub fn status(&self, today: NaiveDate) -> CalendarStatus {
        let current = self.read();
        CalendarStatus {
            years: current.calendar.years(),
            missing_years: current.calendar.missing_years(today),
            source: current.source,
        }
    }

    /// Logs a warning for each year missing on county date `today` (see
    /// [`WorkingCalendar::missing_years`]), at most once per county day per year, however
    /// often it is called (each submission and readiness probe calls it). `today` comes from
    /// the injected clock. Returns the years warned about by this call.
    pub fn warn_missing(&self, today: NaiveDate) -> Vec<i32> {
        let missing = self.current().missing_years(today);
        if missing.is_empty() {
            return missing;
        }
        let mut now_warned = Vec::new();
        let mut warned = self.0.warned.lock().unwrap_or_else(|e| e.into_inner());
        if warned.0 != Some(today) {
            *warned = (Some(today), BTreeSet::new());
        }
        for year in missing {
            if warned.1.insert(year) {
                tracing::warn!(
                    year,
                    dir = %self.0.dir.display(),
                    "no official holiday calendar for {year}: deadlines in it count weekends only; \
                     add {year}.toml to the calendar folder and reload (docs/calendar.md)"
                );
                now_warned.push(year);
            }
        }
        now_warned
    }
}

fn log_loaded(dir: &Path, calendar: &WorkingCalendar, source: CalendarSource) {
    match source {
        CalendarSource::Folder => tracing::info!(
            dir = %dir.display(),
            years = ?calendar.years(),
            "working-day calendar loaded"
        ),
        CalendarSource::Shipped => tracing::warn!(
            dir = %dir.display(),
            years = ?calendar.years(),
            "calendar folder not found: using the calendars shipped with Probity"
        ),
    }
}

/// Reloads `calendar` on every SIGHUP from now on, until the returned task is aborted. The
/// signal is registered before this returns, so a SIGHUP right after start is not lost (nor
/// fatal). A bad file is logged and the calendar in use stays. Unix only; `None` (logged) when
/// the signal cannot be registered. Call within the tokio runtime.
#[cfg(unix)]
pub fn reload_on_sighup(calendar: CalendarHandle) -> Option<tokio::task::JoinHandle<()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP: reload the calendar through the API");
            return None;
        }
    };
    Some(tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading the working-day calendar");
            let _ = calendar.reload();
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const Y2027: &str = "year = 2027\nholidays = [\"2027-01-01\"]\nmakeup_workdays = []\n";

    #[test]
    fn a_missing_folder_falls_back_to_the_shipped_calendar() {
        let dir = tempfile::tempdir().unwrap();
        let handle = CalendarHandle::open(&dir.path().join("none")).unwrap();
        let status = handle.status("2026-12-01".parse().unwrap());
        assert_eq!(status.years, vec![2026]);
        assert_eq!(status.missing_years, vec![2027]);
        assert_eq!(status.source, CalendarSource::Shipped);
    }

    #[test]
    fn reload_picks_up_a_new_year_and_keeps_the_old_calendar_on_a_bad_file() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "2026.toml",
            include_str!("../../config/calendar/2026.toml"),
        );
        write(dir.path(), "README.txt", "not a calendar");
        let handle = CalendarHandle::open(dir.path()).unwrap();
        let before = handle.current();
        assert_eq!(before.years(), vec![2026]);

        write(dir.path(), "2027.toml", Y2027);
        assert_eq!(handle.reload().unwrap(), vec![2026, 2027]);
        assert!(!handle
            .current()
            .is_working_day("2027-01-01".parse().unwrap()));
        assert_eq!(
            before.years(),
            vec![2026],
            "a calendar taken stays as it was"
        );

        write(
            dir.path(),
            "2028.toml",
            "year = 2028\nholidays = [\n\"2028-13-01\"]\n",
        );
        let e = handle.reload().unwrap_err();
        let text = e.to_string();
        assert!(text.contains("2028.toml:3"), "{text}");
        assert_eq!(handle.current().years(), vec![2026, 2027]);
    }

    #[test]
    fn a_missing_year_is_warned_once_per_county_day() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "2026.toml",
            include_str!("../../config/calendar/2026.toml"),
        );
        let handle = CalendarHandle::open(dir.path()).unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(handle.warn_missing(day("2026-12-28")), vec![2027]);
        assert_eq!(handle.warn_missing(day("2026-12-28")), Vec::<i32>::new());
        assert_eq!(
            handle.clone().warn_missing(day("2026-12-28")),
            Vec::<i32>::new()
        );
        assert_eq!(handle.warn_missing(day("2026-12-29")), vec![2027]);
        assert_eq!(handle.warn_missing(day("2027-01-04")), vec![2027, 2028]);
        write(dir.path(), "2027.toml", Y2027);
        handle.reload().unwrap();
        assert_eq!(handle.warn_missing(day("2027-01-05")), vec![2028]);
        assert_eq!(handle.warn_missing(day("2027-01-05")), Vec::<i32>::new());
    }

    #[test]
    fn two_files_of_one_year_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "2027.toml", Y2027);
        write(dir.path(), "2027-copy.toml", Y2027);
        let e = load_dir(dir.path()).unwrap_err();
        assert!(e.to_string().contains("already loaded"), "{e}");
    }
}
