//! Reports (举报): public submission, receipt codes, encrypted identity and evidence, and the
//! reporter's follow-up.

pub mod follow_up;
pub mod limits;
pub mod models;
pub mod receipts;
pub mod routes;
pub mod session;
pub mod staff;
pub mod staged;
pub mod storage;
pub mod submit;

use crate::calendar::CalendarHandle;
use crate::clock::Clock;
use crate::crypto::DataKey;
use crate::db::DbPool;
use crate::settings::{ReportSettings, Settings};

/// Everything the reporting endpoints and pages share.
pub struct ReportsState {
    pub pool: DbPool,
    pub settings: ReportSettings,
    pub data_key: DataKey,
    pub receipts: receipts::ReceiptHasher,
    pub store: storage::AttachmentStore,
    /// The shared working-day calendar (swapped on reload): deadlines of new reports.
    pub calendar: CalendarHandle,
    pub sessions: session::ReporterSessions,
    pub submit_limit: limits::RateLimit,
    pub receipt_limit: limits::RateLimit,
    /// `server.json_body_limit`: the largest submission JSON, sent as the body or as the
    /// multipart `report` field.
    pub json_body_limit: usize,
    /// Where "now" comes from (the application's [`Clock`]): received times and deadlines.
    pub clock: Clock,
    csrf_key: [u8; 32],
}

impl ReportsState {
    /// The state for `settings`, using the database `pool`, the process's Argon2 `hashing`
    /// pool for receipt codes, the application's `clock` and its shared `calendar`.
    pub fn new(
        settings: &Settings,
        pool: DbPool,
        hashing: std::sync::Arc<crate::hashing::HashPool>,
        clock: Clock,
        calendar: CalendarHandle,
    ) -> ReportsState {
        let r = settings.reports.clone();
        ReportsState {
            pool,
            data_key: DataKey::new(settings.secrets.key_bytes("data_key")),
            receipts: receipts::ReceiptHasher::new(
                settings.secrets.key_bytes("receipt_salt"),
                hashing,
            ),
            store: storage::AttachmentStore::new(
                &settings.data.dir,
                settings.secrets.key_bytes("data_key"),
            ),
            calendar,
            sessions: session::ReporterSessions::new(
                &settings.secrets.key_bytes("jwt_signing_key"),
                &settings.auth.issuer,
                r.reporter_session_minutes,
            ),
            submit_limit: limits::RateLimit::new(
                "report submissions",
                r.submit_per_source_per_hour,
                r.submit_global_per_minute,
            ),
            receipt_limit: limits::RateLimit::new(
                "receipt code checks",
                r.receipt_checks_per_source_per_hour,
                r.receipt_checks_global_per_minute,
            ),
            json_body_limit: settings.server.json_body_limit,
            clock,
            csrf_key: derive_key(
                &settings.secrets.key_bytes("jwt_signing_key"),
                "probity web csrf v1",
            ),
            settings: r,
        }
    }

    /// The key that signs CSRF tokens on the public forms, derived from the signing secret.
    pub fn csrf_key(&self) -> [u8; 32] {
        self.csrf_key
    }
}

/// Deletes saved idempotent responses whose replay window has ended, so no receipt code
/// outlives it even encrypted. A recurring job (every ten minutes, `startup` registers it): one
/// instance sweeps per period however many run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct SweepExpiredReplays {}

impl crate::jobs::Job for SweepExpiredReplays {
    const KIND: &'static str = "sweep_expired_replays";
    type State = ();

    async fn run(
        self,
        _state: std::sync::Arc<()>,
        ctx: crate::jobs::JobContext,
    ) -> anyhow::Result<()> {
        let now = ctx.clock.now_naive();
        let pool = ctx.pool.clone();
        let deleted = tokio::task::spawn_blocking(move || -> anyhow::Result<usize> {
            let mut conn = pool.get()?;
            Ok(crate::idempotency::sweep(&mut conn, now)?)
        })
        .await??;
        if deleted > 0 {
            tracing::info!(deleted, "expired idempotency responses deleted");
        }
        Ok(())
    }
}

/// A purpose-bound key: SHA-256(purpose ‖ 0x00 ‖ secret).
pub(crate) fn derive_key(secret: &[u8; 32], purpose: &str) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    hasher.update(purpose.as_bytes());
    hasher.update([0u8]);
    hasher.update(secret);
    hasher.finalize().into()
}
