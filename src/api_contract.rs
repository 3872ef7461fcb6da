//! The error answers every API operation declares, added to the OpenAPI document by one rule
//! set instead of by hand on each handler (issue 8, item 5).
//!
//! [`Contract`] walks every operation of the generated document and adds, where the handler did
//! not already declare them, the `application/problem+json` answers (schema `Problem`, from
//! `crate::error`) that follow from facts the document itself shows:
//!
//! | fact about the operation                       | statuses added          |
//! |------------------------------------------------|-------------------------|
//! | has a request body                             | 400, 413, 415, 422      |
//! | has parameters (path, query or header)         | 400, 422                |
//! | has path parameters                            | 404                     |
//! | has a security requirement (not public)        | 401                     |
//! | secured by a staff token or an API key         | 403 (roles, key scopes) |
//! | touches the database (all but a short list)    | 503 with `Retry-After`  |
//! | listed as rate-limited                         | 429 with `Retry-After`  |
//! | listed with a special answer (409 conflicts…)  | that status             |
//!
//! The lists (public, rate-limited, database-free, special answers) are a [`Contract`] value
//! written where the routes are wired (`crate::routes::CONTRACT`), so a new endpoint gets the
//! generic answers by being mounted and needs a line there only for what cannot be derived.
//! An operation that neither declares `security(...)` on its handler nor is listed as public is
//! left without a security requirement, which the API test `openapi` rejects: no endpoint can
//! silently go undeclared.

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr};

use crate::error::PROBLEM_JSON;

/// One operation, written `"METHOD /path"` exactly as in the document, e.g.
/// `"POST /api/v1/auth/login"`.
pub type OperationKey = &'static str;

/// The facts about operations that cannot be read off the document.
pub struct Contract {
    /// Operations anyone may call: they get an explicit empty security requirement (`[]`).
    pub public: &'static [OperationKey],
    /// Operations with a rate limit or sign-in throttle: 429 with `Retry-After`.
    pub rate_limited: &'static [OperationKey],
    /// Operations that answer without the database (no 503).
    pub without_database: &'static [OperationKey],
    /// Answers specific to one operation: `(operation, status, description)`.
    pub special: &'static [(OperationKey, u16, &'static str)],
}

/// The description of each generic answer; what the stable `code`s are and when they happen.
pub fn generic_description(status: u16) -> &'static str {
    match status {
        400 => "`malformed_json`, `bad_body`, `bad_multipart`, `invalid_query`: the request could not be read",
        401 => "`unauthorized` and the sign-in codes: credentials missing, malformed, expired or revoked (`WWW-Authenticate: Bearer`)",
        403 => "`forbidden`: the credentials are valid but their roles or scopes do not allow this",
        404 => "`not_found`: no resource has this identifier",
        409 => "a conflict with the current state",
        413 => "`payload_too_large`: the body or one of its parts is larger than accepted",
        415 => "`unsupported_media_type`: the body is not sent with an accepted content type",
        422 => "`validation_failed` (per-field `errors`), `invalid_body`, control characters in text input",
        429 => "too many requests; `Retry-After` says when to try again",
        503 => "`database_unavailable` or `server_busy`; `Retry-After` says when to try again",
        _ => "error",
    }
}

impl Contract {
    /// Adds the answers and security requirements described in the module docs to `api`.
    /// Answers a handler declared itself are kept as they are.
    pub fn apply(&self, api: &mut OpenApi) {
        for (path, item) in api.paths.paths.iter_mut() {
            let ops = [
                ("GET", &mut item.get),
                ("PUT", &mut item.put),
                ("POST", &mut item.post),
                ("DELETE", &mut item.delete),
                ("PATCH", &mut item.patch),
            ];
            for (method, op) in ops {
                if let Some(op) = op.as_mut() {
                    self.apply_to(&format!("{method} {path}"), op);
                }
            }
        }
    }

    /// The statuses [`Contract::apply`] promises for one operation, derived from its declared
    /// body, parameters and security and from this contract's lists. Used by `apply` and by
    /// the test that holds every operation to it.
    pub fn promised_statuses(&self, key: &str, op: &Operation) -> Vec<(u16, &'static str)> {
        let mut out: Vec<(u16, &'static str)> = Vec::new();
        let mut add = |status: u16| out.push((status, generic_description(status)));
        let params = op.parameters.as_deref().unwrap_or_default();
        let has_params = !params.is_empty();
        let has_path_params = params
            .iter()
            .any(|p| matches!(p.parameter_in, ParameterIn::Path));
        if op.request_body.is_some() || has_params {
            add(400);
            add(422);
        }
        if op.request_body.is_some() {
            add(413);
            add(415);
        }
        if has_path_params {
            add(404);
        }
        let schemes = security_schemes(op);
        if !schemes.is_empty() {
            add(401);
        }
        if schemes.iter().any(|s| s == "bearer" || s == "api_key") {
            add(403);
        }
        if !self.without_database.contains(&key) {
            add(503);
        }
        if self.rate_limited.contains(&key) {
            add(429);
        }
        for (k, status, description) in self.special {
            if *k == key {
                out.push((*status, description));
            }
        }
        out
    }

    fn apply_to(&self, key: &str, op: &mut Operation) {
        if op.security.is_none() && self.public.contains(&key) {
            op.security = Some(Vec::new());
        }
        for (status, description) in self.promised_statuses(key, op) {
            op.responses
                .responses
                .entry(status.to_string())
                .or_insert_with(|| RefOr::T(problem_response(status, description)));
        }
        // A handler's own 429 or 503 also names the `Retry-After` header every such answer sends.
        for status in ["429", "503"] {
            if let Some(RefOr::T(response)) = op.responses.responses.get_mut(status) {
                response
                    .headers
                    .entry("Retry-After".into())
                    .or_insert_with(retry_after);
            }
        }
    }

    /// Entries of the lists that name no operation of `api` (a renamed or removed route).
    pub fn stale_entries(&self, api: &OpenApi) -> Vec<&'static str> {
        let mut keys = Vec::new();
        for (path, item) in &api.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                if op.is_some() {
                    keys.push(format!("{method} {path}"));
                }
            }
        }
        let listed = self
            .public
            .iter()
            .chain(self.rate_limited)
            .chain(self.without_database)
            .copied()
            .chain(self.special.iter().map(|(k, _, _)| *k));
        listed
            .filter(|k| !keys.iter().any(|known| known == k))
            .collect()
    }
}

/// The names of the security schemes an operation accepts (empty when public or undeclared).
pub fn security_schemes(op: &Operation) -> Vec<String> {
    op.security
        .iter()
        .flatten()
        .filter_map(|req| serde_json::to_value(req).ok())
        .filter_map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
        .flatten()
        .collect()
}

/// A problem+json answer with the `Problem` schema; 429 and 503 also carry `Retry-After`.
fn problem_response(status: u16, description: &str) -> utoipa::openapi::Response {
    let mut response = ResponseBuilder::new().description(description).content(
        PROBLEM_JSON,
        ContentBuilder::new()
            .schema(Some(Ref::from_schema_name("Problem")))
            .build(),
    );
    if status == 429 || status == 503 {
        response = response.header("Retry-After", retry_after());
    }
    response.build()
}

fn retry_after() -> Header {
    HeaderBuilder::new()
        .schema(Object::with_type(Type::Integer))
        .description(Some("Seconds to wait before trying again"))
        .build()
}
