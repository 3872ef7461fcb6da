//! Service API keys for benefit disbursement systems: created by an admin with a name and
//! scopes, shown once as `pk_<id>_<secret>`, kept as a SHA-256 of the secret, revocable.
//!
//! [`KeyCache`] keeps the keys verified recently in memory, so the benefit-status path reads
//! nothing but the status itself (issue 12). A revocation forgets the key at once on this
//! instance; other instances read its row again within `auth.api_key_cache_secs`.

use std::collections::HashMap;
use std::sync::RwLock;

use actix_web::{get, post, web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use utoipa::ToSchema;

use super::extract::{ServiceKey, Staff, API_KEY_PREFIX};
use super::models::{ApiKeyRow, NewApiKey};
use super::tokens::hash_token;
use super::AuthState;
use crate::audit;
use crate::clock::Clock;
use crate::db::schema::api_keys;
use crate::db::{self, DbPool};
use crate::domain::ids::ApiKeyId;
use crate::domain::permissions::{scope_permission, Permission, SERVICE_SCOPES};
use crate::error::ErrorCode;
use crate::error::{ApiError, FieldError, Problem};

/// The most keys the cache holds; when full it starts again empty (a few reads, no harm).
const CACHE_MAX: usize = 10_000;

/// Service keys verified recently, by key id: the SHA-256 (hex) of the secret that was right,
/// the key, when its row was read and when `last_used_at` was last written. Within
/// `auth.api_key_cache_secs` of the read, a request with that key id is checked against the
/// cached hash (in constant time) without reading the database. Negative answers are never
/// cached. A `ttl` of zero turns the cache off.
pub struct KeyCache {
    ttl: chrono::Duration,
    entries: RwLock<HashMap<String, CachedKey>>,
}

struct CachedKey {
    secret_hash: String,
    key: ServiceKey,
    read_at: chrono::NaiveDateTime,
    used_marked_at: chrono::NaiveDateTime,
}

/// What the cache knows about a key presented now.
#[derive(Debug, Clone)]
pub enum KeyLookup {
    /// The secret matches a key verified within the cache time; `mark_used` asks the caller to
    /// write `last_used_at` (once a minute).
    Hit { key: ServiceKey, mark_used: bool },
    /// The key id was verified within the cache time, with another secret: refuse.
    Wrong,
    /// Not cached (or stale): read the row.
    Miss,
}

impl KeyCache {
    /// A cache trusting a verified key for `ttl_secs` seconds (0: never).
    pub fn new(ttl_secs: u64) -> KeyCache {
        KeyCache {
            ttl: chrono::Duration::seconds(ttl_secs.min(86_400) as i64),
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// Checks key `id` presented with a secret whose SHA-256 (hex) is `secret_hash`, at `now`.
    pub fn lookup(&self, id: &str, secret_hash: &str, now: chrono::NaiveDateTime) -> KeyLookup {
        if self.ttl.is_zero() {
            return KeyLookup::Miss;
        }
        let entries = self.entries.read().unwrap_or_else(|e| e.into_inner());
        let Some(entry) = entries.get(id) else {
            return KeyLookup::Miss;
        };
        if now - entry.read_at >= self.ttl || now < entry.read_at {
            return KeyLookup::Miss;
        }
        if !bool::from(entry.secret_hash.as_bytes().ct_eq(secret_hash.as_bytes())) {
            return KeyLookup::Wrong;
        }
        let key = entry.key.clone();
        let due = now - entry.used_marked_at >= chrono::Duration::seconds(60);
        drop(entries);
        if !due {
            return KeyLookup::Hit {
                key,
                mark_used: false,
            };
        }
        // One request a minute writes `last_used_at`: the first to take the write lock.
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        let mark_used = match entries.get_mut(id) {
            Some(e) if now - e.used_marked_at >= chrono::Duration::seconds(60) => {
                e.used_marked_at = now;
                true
            }
            _ => false,
        };
        KeyLookup::Hit { key, mark_used }
    }

    /// Remembers key `id`, just verified from its row at `now` (which also marked it used).
    pub fn store(&self, id: &str, secret_hash: &str, key: ServiceKey, now: chrono::NaiveDateTime) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.write().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= CACHE_MAX && !entries.contains_key(id) {
            entries.clear();
        }
        entries.insert(
            id.to_string(),
            CachedKey {
                secret_hash: secret_hash.to_string(),
                key,
                read_at: now,
                used_marked_at: now,
            },
        );
    }

    /// Forgets key `id` (its revocation): its next use reads the row.
    pub fn forget(&self, id: &str) {
        self.entries
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateApiKey {
    pub name: String,
    /// `benefit-status:read` and optionally `recoveries:write`.
    pub scopes: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKey {
    #[serde(flatten)]
    pub key: ApiKeyView,
    /// The key itself. Shown only now: store it in the disbursement system's secrets.
    pub secret: String,
}

fn view(r: ApiKeyRow) -> ApiKeyView {
    ApiKeyView {
        id: r.id.into_string(),
        name: r.name,
        scopes: r.scopes.split(',').map(str::to_string).collect(),
        created_at: r.created_at.and_utc(),
        revoked_at: r.revoked_at.map(|t| t.and_utc()),
        last_used_at: r.last_used_at.map(|t| t.and_utc()),
    }
}

fn load(conn: &mut db::DbConnection, id: &str) -> QueryResult<Option<ApiKeyView>> {
    api_keys::table
        .find(id)
        .select(ApiKeyRow::as_select())
        .first(conn)
        .optional()
        .map(|r| r.map(view))
}

/// Create a service API key. The secret is in this answer only.
#[utoipa::path(
    tag = "api-keys",
    request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/api-keys")]
pub async fn create(
    staff: Staff,
    body: web::Json<CreateApiKey>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, ApiError> {
    let created = create_key(&staff, body.into_inner(), &pool, clock.now_naive()).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Creates the service key `req` describes on behalf of `staff`, stamped `now`: a name of
/// 1–100 characters (cleaned), at least one known scope (`SERVICE_SCOPES`; duplicates
/// dropped). Stores the SHA-256 of the secret only, records `api_key.created`, and returns the
/// key with its secret, the one time it is ever shown. What `POST /api-keys` does.
///
/// Errors: 403 unless `staff` may administer; 422 `validation_failed` naming `name` or
/// `scopes`; a database error.
pub async fn create_key(
    staff: &Staff,
    req: CreateApiKey,
    pool: &DbPool,
    now: chrono::NaiveDateTime,
) -> Result<CreatedApiKey, ApiError> {
    staff.require(Permission::Administer)?;
    let mut errors = Vec::new();
    let name = crate::domain::text::clean(&req.name);
    if crate::domain::text::check_length(&name, 1, 100).is_some() {
        errors.push(FieldError::new(
            "name",
            ErrorCode::InvalidLength,
            "name must have 1–100 characters",
        ));
    }
    if req.scopes.is_empty() {
        errors.push(FieldError::new(
            "scopes",
            ErrorCode::Required,
            "give at least one scope",
        ));
    }
    let mut scopes: Vec<String> = Vec::new();
    for s in &req.scopes {
        if scope_permission(s).is_none() {
            let known: Vec<&str> = SERVICE_SCOPES.iter().map(|(n, _)| *n).collect();
            errors.push(FieldError::new(
                "scopes",
                ErrorCode::UnknownScope,
                format!("unknown scope {s:?}; scopes are {}", known.join(", ")),
            ));
        } else if !scopes.contains(s) {
            scopes.push(s.clone());
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let mut id_bytes = [0u8; 8];
    let mut secret_bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut id_bytes);
    rand::rngs::OsRng.fill_bytes(&mut secret_bytes);
    let id = hex::encode(id_bytes);
    let secret_part = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(secret_bytes)
        .replace('_', "-");
    let secret = format!("{API_KEY_PREFIX}{id}_{secret_part}");
    let actor = staff.actor();
    let created_by = staff.user_id().to_string();
    let key_id = id.clone();
    let view = db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            diesel::insert_into(api_keys::table)
                .values(NewApiKey {
                    id: ApiKeyId::from(key_id.as_str()),
                    name: &name,
                    secret_hash: hash_token(&secret_part),
                    scopes: scopes.join(","),
                    created_by: &created_by,
                    created_at: now,
                })
                .execute(conn)?;
            audit::record(
                conn,
                now,
                &actor,
                "api_key.created",
                "api_key",
                &key_id,
                serde_json::json!({"name": name, "scopes": scopes}),
            )?;
            load(conn, &key_id)?.ok_or_else(|| ApiError::not_found("key vanished"))
        })
    })
    .await?;
    Ok(CreatedApiKey { key: view, secret })
}

/// List service API keys (never their secrets).
#[utoipa::path(tag = "api-keys", responses((status = 200, body = Vec<ApiKeyView>)), security(("bearer" = [])))]
#[get("/api-keys")]
pub async fn list(staff: Staff, pool: web::Data<DbPool>) -> Result<HttpResponse, ApiError> {
    let keys = list_keys(&staff, &pool).await?;
    Ok(HttpResponse::Ok().json(keys))
}

/// Every service key, oldest first, without secrets (what `GET /api-keys` serves).
///
/// Errors: 403 unless `staff` may administer; a database error.
pub async fn list_keys(staff: &Staff, pool: &DbPool) -> Result<Vec<ApiKeyView>, ApiError> {
    staff.require(Permission::Administer)?;
    db::run(pool, |conn| {
        Ok(api_keys::table
            .order(api_keys::created_at.asc())
            .select(ApiKeyRow::as_select())
            .load(conn)?
            .into_iter()
            .map(view)
            .collect::<Vec<_>>())
    })
    .await
}

/// Revoke a service API key. It stops working at once.
#[utoipa::path(
    tag = "api-keys",
    params(("id" = String, Path)),
    responses((status = 200, body = ApiKeyView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("bearer" = []))
)]
#[post("/api-keys/{id}/revoke")]
pub async fn revoke(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, ApiError> {
    let view = revoke_key(&staff, id.into_inner(), &pool, clock.now_naive(), &auth).await?;
    Ok(HttpResponse::Ok().json(view))
}

/// Revokes the service key `id` on behalf of `staff`, stamped `now`: it stops working at once
/// on this instance (`auth`'s key cache forgets it) and within `auth.api_key_cache_secs` on
/// others. Records `api_key.revoked` the first time; revoking a revoked key changes nothing.
/// Returns the key as shown. What `POST /api-keys/{id}/revoke` does.
///
/// Errors: 403 unless `staff` may administer; 404 when no key has the id; a database error.
pub async fn revoke_key(
    staff: &Staff,
    id: String,
    pool: &DbPool,
    now: chrono::NaiveDateTime,
    auth: &AuthState,
) -> Result<ApiKeyView, ApiError> {
    staff.require(Permission::Administer)?;
    let actor = staff.actor();
    let view = db::run(pool, move |conn| {
        db::write_tx(conn, |conn| {
            let updated = diesel::update(
                api_keys::table
                    .find(&id)
                    .filter(api_keys::revoked_at.is_null()),
            )
            .set(api_keys::revoked_at.eq(Some(now)))
            .execute(conn)?;
            let view =
                load(conn, &id)?.ok_or_else(|| ApiError::not_found("No API key has this id."))?;
            if updated > 0 {
                audit::record(
                    conn,
                    now,
                    &actor,
                    "api_key.revoked",
                    "api_key",
                    &id,
                    serde_json::json!({}),
                )?;
            }
            Ok(view)
        })
    })
    .await?;
    // Revoked: this instance stops trusting the key at once (others within the cache time).
    auth.key_cache.forget(&view.id);
    Ok(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> chrono::NaiveDateTime {
        chrono::DateTime::from_timestamp(1_764_468_000 + secs, 0)
            .unwrap()
            .naive_utc()
    }

    fn key() -> ServiceKey {
        ServiceKey {
            id: "k1".into(),
            name: "民政局发放系统".into(),
            scopes: vec!["benefit-status:read".into()],
        }
    }

    #[test]
    fn a_verified_key_is_trusted_until_the_cache_time_passes() {
        let cache = KeyCache::new(10);
        assert!(matches!(cache.lookup("k1", "aa", at(0)), KeyLookup::Miss));
        cache.store("k1", "aa", key(), at(0));
        assert!(matches!(
            cache.lookup("k1", "aa", at(9)),
            KeyLookup::Hit {
                mark_used: false,
                ..
            }
        ));
        assert!(matches!(cache.lookup("k1", "bb", at(9)), KeyLookup::Wrong));
        assert!(
            matches!(cache.lookup("k1", "aa", at(10)), KeyLookup::Miss),
            "stale"
        );
        assert!(matches!(cache.lookup("k2", "aa", at(1)), KeyLookup::Miss));
        cache.forget("k1");
        assert!(
            matches!(cache.lookup("k1", "aa", at(1)), KeyLookup::Miss),
            "revoked"
        );
        assert!(matches!(
            KeyCache::new(0).lookup("k1", "aa", at(0)),
            KeyLookup::Miss
        ));
    }

    #[test]
    fn last_used_is_written_once_a_minute() {
        let cache = KeyCache::new(3600);
        cache.store("k1", "aa", key(), at(0));
        assert!(matches!(
            cache.lookup("k1", "aa", at(59)),
            KeyLookup::Hit {
                mark_used: false,
                ..
            }
        ));
        assert!(matches!(
            cache.lookup("k1", "aa", at(60)),
            KeyLookup::Hit {
                mark_used: true,
                ..
            }
        ));
        assert!(matches!(
            cache.lookup("k1", "aa", at(61)),
            KeyLookup::Hit {
                mark_used: false,
                ..
            }
        ));
    }
}
