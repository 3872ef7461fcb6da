//! The database layer: one diesel `MultiConnection` over PostgreSQL and SQLite, an r2d2 pool,
//! embedded migrations for each backend, and the write-transaction helper.
//!
//! Backend-specific SQL (row locks, `SKIP LOCKED`, `ON CONFLICT`, `BEGIN IMMEDIATE`, the
//! migrations lock) lives in one module, [`dialect`], behind named functions; everything else is
//! portable diesel.

pub mod dialect;
pub mod models;
pub mod schema;
pub mod text;

use std::path::Path;
use std::sync::{Arc, Barrier, OnceLock};
use std::time::Duration;

use anyhow::{anyhow, Context};
use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection, R2D2Connection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use scheduled_thread_pool::ScheduledThreadPool;

use crate::error::ApiError;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgresql(diesel::PgConnection),
    Sqlite(diesel::SqliteConnection),
}

pub type DbPool = Pool<ConnectionManager>;
pub type PooledConn = PooledConnection<ConnectionManager>;

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Postgres => "postgresql",
            Backend::Sqlite => "sqlite",
        }
    }
}

/// A parsed database location: the backend is chosen from the URL by us, never by trial.
#[derive(Debug, Clone)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// What is handed to the driver: the URL for PostgreSQL, the file path for SQLite.
    target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> anyhow::Result<DatabaseUrl> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url::Url::parse(url)
                .map_err(|e| anyhow!("database URL {} is malformed: {e}", mask_url(url)))?;
            return Ok(DatabaseUrl {
                backend: Backend::Postgres,
                target: url.to_string(),
            });
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.is_empty() {
            return Err(anyhow!("database URL is empty"));
        }
        if let Some((scheme, _)) = path.split_once("://") {
            return Err(anyhow!(
                "database URL {} has an unsupported scheme {scheme:?}: use postgres://… or a SQLite file path",
                mask_url(url)
            ));
        }
        Ok(DatabaseUrl {
            backend: Backend::Sqlite,
            target: path.to_string(),
        })
    }

    /// The URL with any password replaced by `***`, safe to log.
    pub fn masked(&self) -> String {
        mask_url(&self.target)
    }
}

/// Replaces the password in a URL with `***` (also inside `password=` query parameters).
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.has_host() => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = parsed
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") {
                        "***".to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                parsed.query_pairs_mut().clear().extend_pairs(pairs);
            }
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// r2d2 manager that opens the backend named by the URL and sets SQLite's PRAGMAs on every
/// new connection.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

/// SQLite settings for a web server. `synchronous=FULL` makes each commit durable before the
/// response is sent: a report that got its 201 survives a power cut a millisecond later.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
PRAGMA foreign_keys = ON;";

/// A pooled connection and when it was last found alive (at its opening, or by a ping).
/// Derefs to the [`DbConnection`] it holds, so a pooled connection is used as one.
pub struct PoolConnection {
    conn: DbConnection,
    checked: std::time::Instant,
}

impl std::ops::Deref for PoolConnection {
    type Target = DbConnection;

    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for PoolConnection {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// How long a PostgreSQL connection found alive is trusted before the next checkout pings it.
const PING_AFTER: Duration = Duration::from_secs(1);

impl ManageConnection for ConnectionManager {
    type Connection = PoolConnection;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<PoolConnection, r2d2::Error> {
        let conn = match self.url.backend {
            Backend::Postgres => diesel::PgConnection::establish(&self.url.target)
                .map(DbConnection::Postgresql)
                .map_err(r2d2::Error::ConnectionError)?,
            Backend::Sqlite => {
                let mut conn = diesel::SqliteConnection::establish(&self.url.target)
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                DbConnection::Sqlite(conn)
            }
        };
        Ok(PoolConnection {
            conn,
            checked: std::time::Instant::now(),
        })
    }

    /// Checked at every checkout. A PostgreSQL connection is pinged (`SELECT 1`, a round trip)
    /// when it was last found alive more than [`PING_AFTER`] ago: a busy connection is pinged
    /// about once a second instead of before every request (issue 12, the benefit-status
    /// path), and after a server restart each connection fails at most the requests of that
    /// second before its ping finds it dead and the pool replaces it. A SQLite connection is a
    /// handle on a local file with no server to lose, and is not pinged.
    fn is_valid(&self, conn: &mut PoolConnection) -> Result<(), r2d2::Error> {
        match &mut conn.conn {
            DbConnection::Sqlite(_) => Ok(()),
            DbConnection::Postgresql(_) if conn.checked.elapsed() < PING_AFTER => Ok(()),
            DbConnection::Postgresql(_) => {
                conn.conn.ping().map_err(r2d2::Error::QueryError)?;
                conn.checked = std::time::Instant::now();
                Ok(())
            }
        }
    }

    fn has_broken(&self, conn: &mut PoolConnection) -> bool {
        std::thread::panicking() || conn.conn.is_broken()
    }
}

/// Opens the pool. The first connection is made directly so that a wrong or unreachable URL
/// fails with a message naming the (masked) URL and the driver's reason.
pub fn connect(url: &str, pool_size: u32, timeout: Duration) -> anyhow::Result<(DbPool, Backend)> {
    let url = DatabaseUrl::parse(url)?;
    if url.backend == Backend::Sqlite {
        if let Some(dir) = Path::new(&url.target).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating the database folder {}", dir.display()))?;
            }
        }
    }
    let manager = ConnectionManager { url: url.clone() };
    let first = manager
        .connect()
        .map_err(|e| anyhow!("cannot open database {}: {}", url.masked(), e))?;
    drop(first);
    let pool = Pool::builder()
        .max_size(pool_size.max(1))
        .min_idle(Some(1))
        .connection_timeout(timeout)
        .thread_pool(pool_threads())
        .build(manager)
        .with_context(|| format!("opening a connection pool to {}", url.masked()))?;
    Ok((pool, url.backend))
}

/// How many threads open (and replenish) pooled connections in the background.
const POOL_THREADS: usize = 3;

/// The threads every pool in this process opens its connections on. r2d2 would otherwise give
/// each pool three threads of its own, which nothing can wait for: after a command finished,
/// one could still be inside `PQconnectdb` (r2d2 replenishes `min_idle` in the background)
/// while `exit` ran OpenSSL's `atexit` cleanup under it — the SIGSEGV/SIGABRT of issue 7.
static THREADS: OnceLock<Arc<ScheduledThreadPool>> = OnceLock::new();

fn pool_threads() -> Arc<ScheduledThreadPool> {
    THREADS
        .get_or_init(|| {
            Arc::new(
                ScheduledThreadPool::builder()
                    .num_threads(POOL_THREADS)
                    .thread_name_pattern("probity-db-{}")
                    .build(),
            )
        })
        .clone()
}

/// Waits until no pool thread is opening or closing a connection; call it after every pool
/// has been dropped and before the process exits.
///
/// Takes nothing and returns when each of the pool threads has finished the job it was running
/// (all of them meet at a barrier, so none can be inside libpq). Jobs that r2d2 scheduled for
/// later belong to dropped pools and do nothing when they run. Without it, `exit` can run the
/// C libraries' exit handlers (OpenSSL's cleanup) while libpq still uses them on another
/// thread. Never fails; if no pool was ever opened it returns at once.
pub fn quiesce() {
    let Some(threads) = THREADS.get() else {
        return;
    };
    let barrier = Arc::new(Barrier::new(POOL_THREADS + 1));
    for _ in 0..POOL_THREADS {
        let barrier = barrier.clone();
        threads.execute(move || {
            barrier.wait();
        });
    }
    barrier.wait();
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgresql(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }

    fn ping(&mut self) -> QueryResult<()> {
        self.batch_execute("SELECT 1")
    }
}

/// Applies pending embedded migrations for the connection's backend and returns their names.
/// On PostgreSQL an advisory lock keeps several starting instances from migrating at once.
pub fn run_migrations(conn: &mut DbConnection) -> anyhow::Result<Vec<String>> {
    dialect::lock_migrations(conn)?;
    let applied = match conn {
        DbConnection::Postgresql(c) => c
            .run_pending_migrations(POSTGRES_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
        DbConnection::Sqlite(c) => c
            .run_pending_migrations(SQLITE_MIGRATIONS)
            .map(|v| v.iter().map(|m| m.to_string()).collect::<Vec<_>>()),
    };
    dialect::unlock_migrations(conn)?;
    applied.map_err(|e| anyhow!("applying migrations failed: {e}"))
}

/// True when the database lacks migrations this binary carries.
pub fn has_pending_migrations(conn: &mut DbConnection) -> anyhow::Result<bool> {
    let pending = match conn {
        DbConnection::Postgresql(c) => c.has_pending_migration(POSTGRES_MIGRATIONS),
        DbConnection::Sqlite(c) => c.has_pending_migration(SQLITE_MIGRATIONS),
    };
    pending.map_err(|e| anyhow!("reading migration state failed: {e}"))
}

/// Runs `f` in a write transaction: `BEGIN IMMEDIATE` on SQLite, so the write lock is taken up
/// front (waiting on `busy_timeout`) instead of failing with "database is locked" half-way;
/// an ordinary transaction on PostgreSQL. Commits on `Ok`, rolls back on `Err`.
pub fn write_tx<T, E, F>(conn: &mut DbConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConnection) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    dialect::begin_write(conn)?;
    let outcome = f(conn);
    let finish = match (conn, outcome.is_ok()) {
        (DbConnection::Sqlite(c), true) => AnsiTransactionManager::commit_transaction(c),
        (DbConnection::Sqlite(c), false) => AnsiTransactionManager::rollback_transaction(c),
        (DbConnection::Postgresql(c), true) => AnsiTransactionManager::commit_transaction(c),
        (DbConnection::Postgresql(c), false) => AnsiTransactionManager::rollback_transaction(c),
    };
    match outcome {
        Ok(value) => {
            finish?;
            Ok(value)
        }
        Err(e) => Err(e),
    }
}

/// Runs blocking database work on the blocking pool with a pooled connection.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, ApiError>
where
    F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    let pool = pool.clone();
    tokio::task::spawn_blocking(move || {
        let mut conn = pool.get().map_err(ApiError::database_unavailable)?;
        f(&mut conn)
    })
    .await
    .map_err(|e| ApiError::unexpected(anyhow!("database task failed: {e}")))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_is_chosen_from_the_url() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@h/db").unwrap().backend,
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://h/db").unwrap().backend,
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("data/probity.db").unwrap().backend,
            Backend::Sqlite
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap().target,
            "data/x.db"
        );
        let err = DatabaseUrl::parse("mysql://root:secret@h/db").unwrap_err();
        assert!(err.to_string().contains("unsupported scheme"), "{err}");
        assert!(!err.to_string().contains("secret"), "{err}");
    }

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_url("postgres://probity:hunter2@db.local:5432/probity"),
            "postgres://probity:***@db.local:5432/probity"
        );
        assert!(!mask_url("postgres://h/db?password=hunter2").contains("hunter2"));
        assert_eq!(mask_url("data/probity.db"), "data/probity.db");
    }
}
