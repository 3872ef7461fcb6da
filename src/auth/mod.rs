//! Staff sign-in and access control: Argon2id passwords, HS256 access tokens with a per-user
//! `token_version`, rotating single-use refresh tokens in families, TOTP, service API keys, and
//! in-memory login throttling. See docs/security.md.

pub mod api_keys;
pub mod extract;
pub mod models;
pub mod passwords;
pub mod routes;
pub mod throttle;
pub mod tokens;
pub mod totp;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::crypto::DataKey;
use crate::domain::login_throttle::ThrottlePolicy;
use crate::domain::roles::Role;
use crate::settings::{AuthSettings, Settings};
use crate::users::password;

/// Shared sign-in state, one per server process.
pub struct AuthState {
    pub settings: AuthSettings,
    pub keys: tokens::JwtKeys,
    pub data_key: DataKey,
    pub throttle: throttle::LoginThrottle,
    /// Caps concurrent Argon2 work at the number of cores: each hash takes 19 MiB and a core.
    hashing: Arc<Semaphore>,
    /// Verified against when the username is unknown, so the answer costs the same work.
    dummy_hash: String,
}

impl AuthState {
    pub fn new(settings: &Settings) -> anyhow::Result<AuthState> {
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
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
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
            hashing: Arc::new(Semaphore::new(cores)),
            dummy_hash: password::hash("probity dummy password for unknown users")?,
            settings: auth,
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

    /// Hashes on the blocking pool, at most one hash per core at a time.
    pub async fn hash_password(&self, plain: String) -> anyhow::Result<String> {
        let _permit = self.hashing.acquire().await?;
        tokio::task::spawn_blocking(move || password::hash(&plain)).await?
    }

    /// Verifies on the blocking pool. With no stored hash (unknown user) it verifies against a
    /// dummy hash and answers false, spending the same work.
    pub async fn verify_password(&self, plain: String, stored: Option<String>) -> bool {
        let Ok(_permit) = self.hashing.acquire().await else {
            return false;
        };
        let known = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy_hash.clone());
        let ok = tokio::task::spawn_blocking(move || password::verify(&plain, &phc))
            .await
            .unwrap_or(false);
        ok && known
    }
}
