//! 服务密钥: the keys benefit offices' disbursement systems use (`X-Api-Key`) to ask whether
//! a village's benefits are suspended, and to record recoveries (SPEC.md → "Roles and
//! permissions", service key column).
//!
//! - `GET /staff/admin/api-keys`: every key, never its secret (`auth::api_keys::list_keys`).
//! - `POST /staff/admin/api-keys`: a new key (`auth::api_keys::create_key`, as
//!   `POST /api/v1/api-keys`). The answer is a page showing the secret, once: it is not stored
//!   (only its SHA-256), not put in a URL, and the page is sent `Cache-Control: no-store`.
//! - `POST /staff/admin/api-keys/{id}/revoke`: revokes a key at once
//!   (`auth::api_keys::revoke_key`).

use actix_web::http::{header, StatusCode};
use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;

use super::{admin, refusal, DoneQuery, AREA};
use crate::auth::api_keys::{create_key, list_keys, revoke_key, ApiKeyView, CreateApiKey};
use crate::auth::AuthState;
use crate::clock::Clock;
use crate::console::form::Posted;
use crate::console::page::{self, PageError, Refusal, Shell};
use crate::console::session::Desk;
use crate::db::DbPool;
use crate::domain::permissions::SERVICE_SCOPES;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/admin/api-keys")
            .route(web::get().to(list))
            .route(web::post().to(create)),
    )
    .service(web::resource("/staff/admin/api-keys/{id}/revoke").route(web::post().to(revoke)));
}

const NOTICES: [(&str, &str); 1] = [(
    "revoked",
    "密钥已吊销，用它的系统从现在起不能再查询或登记。",
)];

/// What a scope allows, in Chinese.
pub fn scope_label(scope: &str) -> &'static str {
    match scope {
        "benefit-status:read" => "查询发放状态（某村的惠民资金现在或某天是否暂停发放）",
        "recoveries:write" => "登记追回款",
        _ => "未知权限",
    }
}

/// One checkbox of the scopes group.
struct ScopeBox {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

fn scope_boxes(ticked: &[String]) -> Vec<ScopeBox> {
    SERVICE_SCOPES
        .iter()
        .map(|(name, _)| ScopeBox {
            value: name,
            label: scope_label(name),
            checked: ticked.iter().any(|t| t == name),
        })
        .collect()
}

struct KeyRow {
    id: String,
    name: String,
    scopes: String,
    created: String,
    last_used: String,
    revoked: String,
}

impl From<ApiKeyView> for KeyRow {
    fn from(k: ApiKeyView) -> KeyRow {
        KeyRow {
            scopes: k
                .scopes
                .iter()
                .map(|s| scope_label(s))
                .collect::<Vec<_>>()
                .join("；"),
            created: crate::web::zh::time(k.created_at),
            last_used: k.last_used_at.map(crate::web::zh::time).unwrap_or_default(),
            revoked: k.revoked_at.map(crate::web::zh::time).unwrap_or_default(),
            id: k.id,
            name: k.name,
        }
    }
}

#[derive(Template)]
#[template(path = "console/admin/api_keys.html")]
struct ListPage {
    shell: Shell,
    keys: Vec<KeyRow>,
    name: String,
    scopes: Vec<ScopeBox>,
}

async fn list_page(
    desk: &Desk,
    pool: &DbPool,
    notice: Option<String>,
    refused: Option<Refusal>,
    name: String,
    ticked: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let keys = list_keys(&desk.staff, pool).await?;
    let page = ListPage {
        shell: desk
            .shell(AREA, "服务密钥")
            .with_notice(notice)
            .with_refusal(refused),
        keys: keys.into_iter().map(KeyRow::from).collect(),
        name,
        scopes: scope_boxes(&ticked),
    };
    Ok(page::show(&page.shell, &page))
}

/// `GET /staff/admin/api-keys`: the keys, oldest first, and the form for a new one.
async fn list(
    desk: Desk,
    query: web::Query<DoneQuery>,
    pool: web::Data<DbPool>,
) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let notice = page::notice(query.done.as_deref(), &NOTICES);
    list_page(
        &desk,
        &pool,
        notice,
        None,
        String::new(),
        vec![SERVICE_SCOPES[0].0.to_string()],
    )
    .await
}

#[derive(Template)]
#[template(path = "console/admin/api_key_created.html")]
struct CreatedPage {
    shell: Shell,
    key: KeyRow,
    secret: String,
}

/// `POST /staff/admin/api-keys`: `name` and `scopes` (checkboxes). Answers the page with the
/// secret (200, not stored by any cache), or the list with the refusal (422 naming the field).
async fn create(
    posted: Posted,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, form } = posted;
    admin(&desk)?;
    let req = CreateApiKey {
        name: form.text("name"),
        scopes: form.all("scopes"),
    };
    let typed = (req.name.clone(), req.scopes.clone());
    match create_key(&desk.staff, req, &pool, clock.now_naive()).await {
        Ok(created) => {
            let page = CreatedPage {
                shell: desk.shell(AREA, "服务密钥已建立"),
                key: KeyRow::from(created.key),
                secret: created.secret,
            };
            let body = page.render().map_err(|e| PageError::unexpected(&e))?;
            Ok(HttpResponse::Ok()
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(body))
        }
        Err(e) if e.status == StatusCode::FORBIDDEN => Err(PageError::forbidden()),
        Err(e) => list_page(&desk, &pool, None, Some(refusal(&e)), typed.0, typed.1).await,
    }
}

/// `POST /staff/admin/api-keys/{id}/revoke`: 303 back.
///
/// Errors: 403 page; 404 page when no key has the id.
async fn revoke(
    posted: Posted,
    id: web::Path<String>,
    pool: web::Data<DbPool>,
    clock: web::Data<Clock>,
    auth: web::Data<AuthState>,
) -> Result<HttpResponse, PageError> {
    let Posted { desk, .. } = posted;
    admin(&desk)?;
    revoke_key(
        &desk.staff,
        id.into_inner(),
        &pool,
        clock.now_naive(),
        &auth,
    )
    .await?;
    Ok(page::see_other("/staff/admin/api-keys?done=revoked"))
}
