//! Every route, in one place. Handlers mounted here through utoipa-actix-web appear in the
//! OpenAPI document by being mounted.

use actix_web::dev::ResourceDef;
use actix_web::http::{header, Method, StatusCode};
use actix_web::{web, App, HttpRequest, HttpResponse};
use utoipa::OpenApi;
use utoipa_actix_web::service_config::ServiceConfig;
use utoipa_actix_web::{scope, AppExt};

use crate::api_contract::Contract;
use crate::error::ApiError;
use crate::error::ErrorCode;
use crate::openapi::ApiDoc;
use crate::{
    audit, auth, calendar, cases, clawbacks, conflicts, custodian, divisions, health, objections,
    remediation, reports, routing, suspensions, users,
};

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(
            scope::scope("/api/v1")
                // First: the benefit-status path is the hot one (issue 12), and routes are
                // matched in the order they are registered.
                .configure(suspensions::routes::configure)
                .service(auth::routes::login)
                .service(auth::routes::refresh)
                .service(auth::routes::logout)
                .service(auth::routes::me)
                .service(auth::routes::start_totp)
                .service(auth::routes::confirm_totp)
                .service(auth::routes::change_password)
                .service(users::routes::list_users)
                .service(users::routes::create)
                .service(users::routes::get_user)
                .service(users::routes::update_user)
                .service(auth::api_keys::create)
                .service(auth::api_keys::list)
                .service(auth::api_keys::revoke)
                .service(audit::routes::verify_chain)
                .configure(divisions::routes::configure)
                .configure(reports::routes::configure)
                .configure(routing::routes::configure)
                .configure(conflicts::routes::configure)
                .service(calendar::routes::calendar_status)
                .service(calendar::routes::reload_calendar)
                .configure(cases::routes::configure)
                .configure(custodian::routes::configure)
                .service(cases::assign::assign_case)
                .configure(objections::routes::configure)
                .service(cases::timeline::case_timeline)
                .configure(clawbacks::routes::configure)
                .configure(remediation::routes::configure),
        );
}

/// What the OpenAPI document cannot show about the routes `configure` mounts: which are public,
/// rate-limited or database-free, and answers particular to one operation. Everything else
/// (400/413/415/422 for bodies and parameters, 404 for path parameters, 401/403 for secured
/// operations, 503 for database use) is derived by [`Contract::apply`]; see `crate::api_contract`.
/// A new endpoint needs a line here only if it is public or has such a special answer.
pub const CONTRACT: Contract = Contract {
    public: &[
        "GET /healthz",
        "GET /readyz",
        "POST /api/v1/auth/login",
        "POST /api/v1/auth/refresh",
        "GET /api/v1/divisions",
        "GET /api/v1/divisions/{code}",
        "POST /api/v1/reporter/session",
    ],
    rate_limited: &[
        "POST /api/v1/auth/login",
        "POST /api/v1/reports",
        "POST /api/v1/reporter/session",
    ],
    without_database: &["GET /healthz"],
    special: &[
        (
            "POST /api/v1/reporter/attachments",
            400,
            "`bad_multipart`: the multipart body could not be read",
        ),
        (
            "POST /api/v1/teams",
            409,
            "`team_exists`: a team has this name",
        ),
        (
            "POST /api/v1/routing-rules",
            409,
            "`rule_exists`: an active rule has the same three conditions",
        ),
        (
            "DELETE /api/v1/routing-rules/{id}",
            409,
            "`already_retired`: the rule was retired already",
        ),
        (
            "POST /api/v1/me/conflicts/{id}/withdraw",
            409,
            "`already_retired`: the declaration was withdrawn already",
        ),
        (
            "POST /api/v1/calendar/reload",
            422,
            "`calendar_invalid`: a calendar file is bad (named with its line); the calendar in use stays",
        ),
        (
            "POST /api/v1/identity-requests/{id}/decision",
            409,
            "`already_decided`: the request was approved or denied already",
        ),
        (
            "POST /api/v1/cases/{id}/assign",
            409,
            "`conflict_of_interest` (with `declaration`: `id`, `division_code`, `declared_at`), `version_conflict` (with `version`) or `case_not_open`",
        ),
    ],
};

/// The OpenAPI document of everything `configure` mounts, with the answers and security
/// requirements of [`CONTRACT`] added to every operation.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(configure)
        .split_for_parts();
    CONTRACT.apply(&mut api);
    api
}

/// The documented paths and their methods, so a known path asked with the wrong method gets
/// 405 with `Allow` rather than 404.
pub struct KnownPaths(Vec<(ResourceDef, Vec<Method>)>);

impl KnownPaths {
    pub fn from_openapi(api: &utoipa::openapi::OpenApi) -> KnownPaths {
        let paths = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let mut methods = Vec::new();
                let ops = [
                    (Method::GET, &item.get),
                    (Method::POST, &item.post),
                    (Method::PUT, &item.put),
                    (Method::PATCH, &item.patch),
                    (Method::DELETE, &item.delete),
                ];
                for (method, op) in ops {
                    if op.is_some() {
                        methods.push(method);
                    }
                }
                (ResourceDef::new(path.as_str()), methods)
            })
            .collect();
        KnownPaths(paths)
    }

    fn allowed(&self, path: &str) -> Option<&[Method]> {
        self.0
            .iter()
            .find(|(def, _)| def.is_match(path))
            .map(|(_, methods)| methods.as_slice())
    }
}

/// The default service: 405 for a known path with another method, 404 otherwise.
pub async fn no_route(
    req: HttpRequest,
    known: web::Data<KnownPaths>,
) -> Result<HttpResponse, ApiError> {
    // The staff console answers in Chinese HTML, like its other error pages.
    if req.path() == "/staff" || req.path().starts_with("/staff/") {
        use actix_web::ResponseError;
        return Ok(crate::console::page::PageError::not_found().error_response());
    }
    Err(match known.allowed(req.path()) {
        Some(methods) if !methods.is_empty() => {
            let allow = methods
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", ");
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                ErrorCode::MethodNotAllowed,
                format!(
                    "{} does not accept {}; it accepts {allow}.",
                    req.path(),
                    req.method()
                ),
            )
            .with_header(header::ALLOW, allow)
        }
        _ => ApiError::not_found("No resource lives at this path."),
    })
}
