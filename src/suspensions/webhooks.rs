//! Webhooks for disbursement systems (issue 12, item 5): push as well as pull.
//!
//! - **Subscribers** (admin): one URL per service API key (the key must carry
//!   `benefit-status:read`), created with a signing secret that is shown once and kept sealed
//!   with the data key. `POST/GET /webhooks`, `GET/PATCH/DELETE /webhooks/{id}`; a removed
//!   subscriber keeps its row (`removed_at`), and its key may then get a new one.
//! - **Deliveries** are jobs (kind `webhook_delivery`, queued by `super::announce`): a POST of
//!   the event's JSON body with
//!   - `Probity-Delivery`: the delivery id (the job's id, the same on every retry: receivers
//!     drop duplicates by it);
//!   - `Probity-Event`: `suspension.started` or `suspension.lifted`;
//!   - `Probity-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`: the HMAC, keyed with the
//!     subscriber's secret (its UTF-8 text), of `<t>.<body>` — the timestamp of this attempt,
//!     a dot, then the exact body bytes.
//!
//!   Any answer but 2xx, a timeout (`webhooks.timeout_secs`) or a refused connection is a
//!   failed attempt, retried with the jobs system's backoff up to `webhooks.max_attempts`, then
//!   `dead`. Redirects are not followed. A subscriber removed, deactivated or whose key was
//!   revoked gets nothing more.
//!
//! docs/suspensions.md shows how a receiver checks a delivery.

use std::sync::Arc;
use std::time::Duration;

use actix_web::{delete, get, patch, post, web, HttpResponse};
use base64::Engine;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use super::models::{WebhookSubscriberChanges, WebhookSubscriberRow};
use super::SuspensionsState;
use crate::audit::{self, Actor};
use crate::auth::extract::Staff;
use crate::crypto::DataKey;
use crate::db::schema::{api_keys, webhook_subscribers};
use crate::db::{self, DbConnection, DbPool};
use crate::domain::ids::{ApiKeyId, UserId, WebhookSubscriberId};
use crate::domain::permissions::{scope_permission, Permission};
use crate::error::{ApiError, ErrorCode, FieldError, Problem};
use crate::http::pagination::Page;
use crate::jobs::{Job, JobContext};

/// The header naming a delivery (stable across retries).
pub const DELIVERY_HEADER: &str = "Probity-Delivery";
/// The header naming the event type.
pub const EVENT_HEADER: &str = "Probity-Event";
/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Probity-Signature";
/// The longest subscriber URL accepted.
const URL_MAX: usize = 2000;

/// The `Probity-Signature` value for `body` sent at `timestamp` (Unix seconds) to a subscriber
/// whose secret is `secret`: `t=<timestamp>,v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

/// A new signing secret: `whsec_` and 32 random bytes, base64url.
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

/// One delivery of one event to one subscriber: the payload of a `webhook_delivery` job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookDelivery {
    pub subscriber_id: String,
    pub event_type: String,
    /// The exact body, as signed and sent on every attempt.
    pub body: String,
}

/// What deliveries need: an HTTP client (rustls, no redirects, the timeout) and the data key
/// that unseals the subscribers' secrets.
pub struct WebhookSender {
    pub client: reqwest::Client,
    pub data_key: DataKey,
}

impl WebhookSender {
    /// A sender whose attempts each take at most `timeout`.
    ///
    /// Errors: the TLS backend cannot be set up.
    pub fn new(data_key: DataKey, timeout: Duration) -> anyhow::Result<WebhookSender> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Probity-Webhooks/1")
            .build()?;
        Ok(WebhookSender { client, data_key })
    }
}

impl Job for WebhookDelivery {
    const KIND: &'static str = "webhook_delivery";
    type State = WebhookSender;

    async fn run(self, sender: Arc<WebhookSender>, ctx: JobContext) -> anyhow::Result<()> {
        let pool = ctx.pool.clone();
        let id = self.subscriber_id.clone();
        let subscriber = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut conn = pool.get()?;
            Ok(current_subscriber(&mut conn, &id)?)
        })
        .await??;
        let Some(subscriber) = subscriber else {
            tracing::info!(subscriber = %self.subscriber_id, "webhook subscriber gone: delivery dropped");
            return Ok(());
        };
        let secret = sender
            .data_key
            .decrypt(&subscriber.secret_sealed, subscriber.id.as_str())
            .map_err(|e| anyhow::anyhow!("the subscriber's secret: {e}"))?;
        let secret = String::from_utf8(secret)?;
        let timestamp = ctx.clock.now().timestamp();
        let response = sender
            .client
            .post(&subscriber.url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/json; charset=utf-8",
            )
            .header(DELIVERY_HEADER, &ctx.id)
            .header(EVENT_HEADER, &self.event_type)
            .header(
                SIGNATURE_HEADER,
                signature(&secret, timestamp, self.body.as_bytes()),
            )
            .body(self.body)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("delivery to the subscriber failed: {e}"))?;
        let status = response.status();
        if !status.is_success() {
            anyhow::bail!("the subscriber answered {status}");
        }
        Ok(())
    }
}

/// Subscriber `id` when it may still receive deliveries: not removed, active, its key not
/// revoked.
fn current_subscriber(
    conn: &mut DbConnection,
    id: &str,
) -> QueryResult<Option<WebhookSubscriberRow>> {
    webhook_subscribers::table
        .inner_join(api_keys::table)
        .filter(webhook_subscribers::id.eq(id))
        .filter(webhook_subscribers::removed_at.is_null())
        .filter(webhook_subscribers::active.eq(true))
        .filter(api_keys::revoked_at.is_null())
        .select(WebhookSubscriberRow::as_select())
        .first(conn)
        .optional()
}

// ---------- administration ----------

/// The body of `POST /webhooks`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct CreateWebhook {
    /// The service API key whose system this is (it must carry `benefit-status:read`).
    pub api_key_id: Option<String>,
    /// Where deliveries are POSTed: `https://…` (`http://` only where `webhooks.allow_http`).
    pub url: Option<String>,
}

/// The body of `PATCH /webhooks/{id}`: each field left out stays as it is.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct UpdateWebhook {
    pub url: Option<String>,
    /// false: no deliveries until true again (events meanwhile are not delivered later).
    pub active: Option<bool>,
    /// true: a new signing secret, in this answer only; the old one stops at once.
    pub rotate_secret: Option<bool>,
}

/// A subscriber, as the administration sees it (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: String,
    pub api_key_id: String,
    pub url: String,
    pub active: bool,
    /// `suspension.started`, `suspension.lifted`.
    pub events: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set when the subscriber was removed (it then receives nothing).
    pub removed_at: Option<DateTime<Utc>>,
}

/// A subscriber with its signing secret: the answer to a create or a secret rotation only.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// The signing secret (`whsec_…`). Shown only now: keep it in the receiving system.
    pub secret: Option<String>,
}

fn view(row: WebhookSubscriberRow) -> WebhookView {
    WebhookView {
        id: row.id.into_string(),
        api_key_id: row.api_key_id.into_string(),
        url: row.url,
        active: row.active,
        events: vec![
            super::announce::STARTED.into(),
            super::announce::LIFTED.into(),
        ],
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        removed_at: row.removed_at.map(|t| t.and_utc()),
    }
}

/// `url` checked: absolute, `https` (or `http` when `allow_http`), a host, no credentials, at
/// most 2,000 characters.
fn check_url(url: Option<&str>, allow_http: bool) -> Result<String, FieldError> {
    let text = url.map(str::trim).unwrap_or_default();
    if text.is_empty() {
        return Err(FieldError::new(
            "url",
            ErrorCode::Required,
            "url is required",
        ));
    }
    if text.chars().count() > URL_MAX {
        return Err(
            FieldError::new("url", ErrorCode::TooLong, "url is at most 2000 characters")
                .limit(URL_MAX),
        );
    }
    let parsed = url::Url::parse(text).map_err(|_| {
        FieldError::new(
            "url",
            ErrorCode::InvalidFormat,
            "url is an absolute URL, https://host/path",
        )
    })?;
    let scheme_ok = parsed.scheme() == "https" || (allow_http && parsed.scheme() == "http");
    if !scheme_ok {
        return Err(FieldError::new(
            "url",
            ErrorCode::NotAllowed,
            if allow_http {
                "url must start with https:// or http://"
            } else {
                "url must start with https://"
            },
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty)
        || !parsed.username().is_empty()
        || parsed.password().is_some()
    {
        return Err(FieldError::new(
            "url",
            ErrorCode::InvalidFormat,
            "url names a host and carries no user name or password",
        ));
    }
    Ok(parsed.to_string())
}

/// Service key `id` may have a subscriber: it exists, is not revoked and reads benefit status.
fn check_key(conn: &mut DbConnection, id: &str) -> Result<Result<(), FieldError>, ApiError> {
    let key: Option<(String, Option<chrono::NaiveDateTime>)> = api_keys::table
        .find(id)
        .select((api_keys::scopes, api_keys::revoked_at))
        .first(conn)
        .optional()?;
    Ok(match key {
        Some((scopes, None)) => {
            if scopes
                .split(',')
                .any(|s| scope_permission(s) == Some(Permission::ReadBenefitStatus))
            {
                Ok(())
            } else {
                Err(FieldError::new(
                    "api_key_id",
                    ErrorCode::NotAllowed,
                    "the key does not carry the benefit-status:read scope",
                ))
            }
        }
        _ => Err(FieldError::new(
            "api_key_id",
            ErrorCode::UnknownApiKey,
            "no service API key has this id, or it is revoked",
        )),
    })
}

fn load(conn: &mut DbConnection, id: &str) -> Result<WebhookSubscriberRow, ApiError> {
    webhook_subscribers::table
        .find(id)
        .select(WebhookSubscriberRow::as_select())
        .first(conn)
        .optional()?
        .ok_or_else(|| ApiError::not_found("No webhook subscriber has this id."))
}

fn key_taken() -> ApiError {
    ApiError::conflict(
        ErrorCode::WebhookExists,
        "This service key has a webhook subscriber already (one URL per key): change its url \
         with PATCH /api/v1/webhooks/{id}, or remove it first.",
    )
}

/// Whether `e` is a unique violation (the one-subscriber-per-key index, under a race).
fn is_unique_violation(e: &ApiError) -> bool {
    e.to_string().contains("unique") || e.to_string().contains("UNIQUE")
}

/// Add a webhook subscriber for a service key (admin): deliveries of `suspension.started` and
/// `suspension.lifted` to `url`, signed with the secret in this answer (shown once).
#[utoipa::path(
    tag = "webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "The subscriber and its signing secret (shown once)", body = WebhookWithSecret),
        (status = 409, description = "`webhook_exists`: the key has a subscriber already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`validation_failed`: `api_key_id` (`unknown_api_key`, `not_allowed`), `url`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/webhooks")]
pub async fn create_webhook(
    staff: Staff,
    body: web::Json<CreateWebhook>,
    pool: web::Data<DbPool>,
    state: web::Data<SuspensionsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let body = body.into_inner();
    let url = check_url(body.url.as_deref(), state.webhooks.allow_http);
    let key_id = body.api_key_id.map(|k| k.trim().to_string());
    let (actor, by) = (staff.actor(), UserId::from(staff.user_id()));
    let now = state.clock.now_naive();
    let data_key = state.data_key.clone();
    let secret = new_secret();
    let shown = secret.clone();
    let created = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let mut errors = Vec::new();
            let key = match key_id.as_deref().filter(|k| !k.is_empty()) {
                None => {
                    errors.push(FieldError::new(
                        "api_key_id",
                        ErrorCode::Required,
                        "api_key_id is required",
                    ));
                    None
                }
                Some(k) => match check_key(conn, k)? {
                    Ok(()) => Some(k.to_string()),
                    Err(e) => {
                        errors.push(e);
                        None
                    }
                },
            };
            let url = url.map_err(|e| errors.push(e)).ok();
            let (Some(key), Some(url)) = (key, url) else {
                return Err(ApiError::validation(errors));
            };
            let taken: i64 = webhook_subscribers::table
                .filter(webhook_subscribers::api_key_id.eq(&key))
                .filter(webhook_subscribers::removed_at.is_null())
                .count()
                .get_result(conn)?;
            if taken > 0 {
                return Err(key_taken());
            }
            let id = WebhookSubscriberId::generate();
            let row = WebhookSubscriberRow {
                secret_sealed: data_key.encrypt(secret.as_bytes(), id.as_str()),
                id: id.clone(),
                api_key_id: ApiKeyId::from(key.as_str()),
                url,
                active: true,
                created_by: by,
                created_at: now,
                updated_at: now,
                removed_at: None,
            };
            diesel::insert_into(webhook_subscribers::table)
                .values(&row)
                .execute(conn)
                .map_err(|e| {
                    let e = ApiError::from(e);
                    if is_unique_violation(&e) {
                        key_taken()
                    } else {
                        e
                    }
                })?;
            audit::record(
                conn,
                now,
                &actor,
                "webhook.created",
                "webhook",
                id.as_str(),
                serde_json::json!({"api_key_id": row.api_key_id, "url": row.url}),
            )?;
            Ok(view(row))
        })
    })
    .await?;
    Ok(HttpResponse::Created().json(WebhookWithSecret {
        webhook: created,
        secret: Some(shown),
    }))
}

/// The webhook subscribers (admin), oldest first; removed ones are left out.
#[utoipa::path(
    tag = "webhooks",
    responses((status = 200, body = Page<WebhookView>)),
    security(("bearer" = []))
)]
#[get("/webhooks")]
pub async fn list_webhooks(
    staff: Staff,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let items = db::run(&pool, |conn| {
        Ok(webhook_subscribers::table
            .filter(webhook_subscribers::removed_at.is_null())
            .order((webhook_subscribers::created_at, webhook_subscribers::id))
            .select(WebhookSubscriberRow::as_select())
            .load(conn)?
            .into_iter()
            .map(view)
            .collect::<Vec<_>>())
    })
    .await?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// One webhook subscriber (admin), removed ones too.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 200, body = WebhookView)),
    security(("bearer" = []))
)]
#[get("/webhooks/{id}")]
pub async fn get_webhook(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let id = id.into_inner();
    let row = db::run(&pool, move |conn| load(conn, &id)).await?;
    Ok(HttpResponse::Ok().json(view(row)))
}

/// Change a webhook subscriber (admin): its `url`, whether it is `active`, or a new signing
/// secret (`rotate_secret: true`, shown in this answer only). A removed subscriber is 404.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path)),
    request_body = UpdateWebhook,
    responses(
        (status = 200, description = "The subscriber; `secret` only when rotated", body = WebhookWithSecret),
        (status = 422, description = "`validation_failed`: `url`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/webhooks/{id}")]
pub async fn update_webhook(
    staff: Staff,
    id: web::Path<String>,
    body: web::Json<UpdateWebhook>,
    pool: web::Data<DbPool>,
    state: web::Data<SuspensionsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let (id, body) = (id.into_inner(), body.into_inner());
    let url = match body.url.as_deref() {
        None => None,
        Some(u) => Some(
            check_url(Some(u), state.webhooks.allow_http)
                .map_err(|e| ApiError::validation(vec![e]))?,
        ),
    };
    let secret = (body.rotate_secret == Some(true)).then(new_secret);
    let shown = secret.clone();
    let actor = staff.actor();
    let now = state.clock.now_naive();
    let data_key = state.data_key.clone();
    let changed = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let row = load(conn, &id)?;
            if row.removed_at.is_some() {
                return Err(ApiError::not_found("This webhook subscriber was removed."));
            }
            let changes = WebhookSubscriberChanges {
                url: url.clone(),
                secret_sealed: secret
                    .as_ref()
                    .map(|s| data_key.encrypt(s.as_bytes(), row.id.as_str())),
                active: body.active,
                updated_at: Some(now),
                removed_at: None,
            };
            diesel::update(webhook_subscribers::table.find(&id))
                .set(&changes)
                .execute(conn)?;
            audit::record(
                conn,
                now,
                &actor,
                "webhook.changed",
                "webhook",
                &id,
                serde_json::json!({
                    "url": url,
                    "active": body.active,
                    "secret_rotated": secret.is_some(),
                }),
            )?;
            load(conn, &id)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(WebhookWithSecret {
        webhook: view(changed),
        secret: shown,
    }))
}

/// Remove a webhook subscriber (admin): it receives nothing more, and its key may get a new
/// one. The row stays, with `removed_at`.
#[utoipa::path(
    tag = "webhooks",
    params(("id" = String, Path)),
    responses((status = 200, description = "The removed subscriber", body = WebhookView)),
    security(("bearer" = []))
)]
#[delete("/webhooks/{id}")]
pub async fn remove_webhook(
    staff: Staff,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    state: web::Data<SuspensionsState>,
) -> Result<HttpResponse, ApiError> {
    staff.require(Permission::Administer)?;
    let id = id.into_inner();
    let actor: Actor = staff.actor();
    let now = state.clock.now_naive();
    let removed = db::run(&pool, move |conn| {
        db::write_tx(conn, |conn| {
            let row = load(conn, &id)?;
            if row.removed_at.is_some() {
                return Err(ApiError::not_found("This webhook subscriber was removed."));
            }
            diesel::update(webhook_subscribers::table.find(&id))
                .set(&WebhookSubscriberChanges {
                    updated_at: Some(now),
                    removed_at: Some(Some(now)),
                    ..Default::default()
                })
                .execute(conn)?;
            audit::record(
                conn,
                now,
                &actor,
                "webhook.removed",
                "webhook",
                &id,
                serde_json::json!({"api_key_id": row.api_key_id}),
            )?;
            load(conn, &id)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(view(removed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Computed independently: printf '1764468000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let sig = signature("whsec_test", 1_764_468_000, br#"{"a":1}"#);
        assert_eq!(
            sig,
            "t=1764468000,v1=f4f6b42679bf16c0284b78a1122092e267086231d1f88e8a76c7416c5a25f585"
        );
        assert_ne!(sig, signature("whsec_other", 1_764_468_000, br#"{"a":1}"#));
        assert_ne!(sig, signature("whsec_test", 1_764_468_001, br#"{"a":1}"#));
    }

    #[test]
    fn urls_are_https_with_a_host_and_no_credentials() {
        assert!(check_url(Some("https://pay.example.cn/hook"), false).is_ok());
        assert_eq!(
            check_url(Some("http://127.0.0.1:9/hook"), false)
                .unwrap_err()
                .code,
            ErrorCode::NotAllowed
        );
        assert!(check_url(Some("http://127.0.0.1:9/hook"), true).is_ok());
        for bad in [
            "pay.example.cn/hook",
            "https://user:pw@pay.example.cn/",
            "ftp://x/",
        ] {
            assert!(check_url(Some(bad), true).is_err(), "{bad}");
        }
        assert_eq!(check_url(None, true).unwrap_err().code, ErrorCode::Required);
    }
}
