//! Staff sign-in and access control: Argon2id passwords, HS256 access tokens with a per-user
//! `token_version`, rotating single-use refresh tokens in families, TOTP, service API keys, and
//! in-memory login throttling. See docs/security.md.

pub mod accounts;
pub mod api_keys;
pub mod extract;
pub mod models;
pub mod routes;
pub mod throttle;
pub mod tokens;
pub mod totp;

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::crypto::DataKey;
use crate::domain::login_throttle::ThrottlePolicy;
use crate::domain::roles::Role;
use crate::error::ApiError;
use crate::hashing::{self, HashPool};
use crate::settings::{AuthSettings, Settings};

/// Shared sign-in state, one per server process.
pub struct AuthState {
    pub settings: AuthSettings,
    pub keys: tokens::JwtKeys,
    pub data_key: DataKey,
    pub throttle: throttle::LoginThrottle,
    /// The application's clock: token times, sessions, lockouts, TOTP steps.
    pub clock: Clock,
    /// Service keys verified recently (`auth.api_key_cache_secs`; issue 12's hot path).
    pub key_cache: api_keys::KeyCache,
    /// The process's bounded Argon2 pool: one reused memory block per core, a bounded queue.
    hashing: Arc<HashPool>,
    /// Verified against when the username is unknown, so the answer costs the same work.
    dummy_hash: String,
}

impl AuthState {
    /// The sign-in state for `settings`, hashing on `pool` and reading time from `clock`.
    ///
    /// Errors: a role named in `auth.require_totp_for` is unknown, or the dummy hash fails.
    pub fn new(
        settings: &Settings,
        pool: Arc<HashPool>,
        clock: Clock,
    ) -> anyhow::Result<AuthState> {
        let auth = settings.auth.clone();
        for role in &auth.require_totp_for {
            role.parse::<Role>()?;
        }
        let policy = ThrottlePolicy {
            delay_after: auth.throttle_after_failures,
            lock_after: auth.lock_after_failures,
            base_delay: Duration::from_secs(auth.throttle_base_delay_secs),
            max_delay: Duration::from_secs(auth.throttle_max_delay_secs),
        };
        Ok(AuthState {
            keys: tokens::JwtKeys::new(
                &settings.secrets.key_bytes("jwt_signing_key"),
                &auth.issuer,
                &auth.audience,
            ),
            data_key: DataKey::new(settings.secrets.key_bytes("data_key")),
            throttle: throttle::LoginThrottle::new(
                policy,
                Duration::from_secs(auth.lockout_minutes * 60),
            ),
            dummy_hash: pool.run_blocking(|memory| {
                hashing::password_hash(memory, "probity dummy password for unknown users")
            })?,
            hashing: pool,
            key_cache: api_keys::KeyCache::new(auth.api_key_cache_secs),
            settings: auth,
            clock,
        })
    }

    pub fn requires_totp(&self, roles: &[Role]) -> bool {
        roles.iter().any(|r| {
            self.settings
                .require_totp_for
                .iter()
                .any(|n| n == r.as_str())
        })
    }

    /// A PHC string for `plain`, hashed on the Argon2 pool.
    ///
    /// Errors: 503 `server_busy` when the pool's queue is full; 500 if hashing fails.
    pub async fn hash_password(&self, plain: String) -> Result<String, ApiError> {
        self.hashing
            .run(move |memory| hashing::password_hash(memory, &plain))
            .await?
            .map_err(ApiError::unexpected)
    }

    /// Whether `plain` matches `stored`, verified on the Argon2 pool. With no stored hash
    /// (unknown user) it verifies against a dummy hash and answers false, spending the same work.
    ///
    /// Errors: 503 `server_busy` when the pool's queue is full (nothing was checked).
    pub async fn verify_password(
        &self,
        plain: String,
        stored: Option<String>,
    ) -> Result<bool, ApiError> {
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let ok = self
            .hashing
            .run(move |memory| hashing::password_verify(memory, &plain, &phc))
            .await?;
        Ok(ok && known)
    }
}
