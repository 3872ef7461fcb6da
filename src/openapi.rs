//! The OpenAPI document. Paths are collected from the handlers mounted through
//! utoipa-actix-web, so an endpoint is documented by being mounted.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Probity API",
        description = "Reports of favouritism and abuse in rural poverty-relief programmes, and \
                       the county discipline inspection commission's handling of them. Errors are \
                       RFC 7807 application/problem+json with a stable `code`.",
        license(name = "MIT OR Apache-2.0"),
    ),
    components(schemas(crate::error::Problem, crate::error::FieldError)),
    modifiers(&SecuritySchemes),
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "auth", description = "Staff sign-in, tokens, TOTP"),
        (name = "users", description = "Staff accounts (admin)"),
        (name = "api-keys", description = "Service API keys for disbursement systems (admin)"),
        (name = "divisions", description = "Administrative divisions (public listing; admin changes and CSV import)"),
        (name = "officials", description = "Officials of the divisions (admin; read by intake and case workers)"),
        (name = "reports", description = "Submitting reports (public) and their evidence"),
        (name = "reporter", description = "The reporter's follow-up with a receipt code"),
        (name = "teams", description = "Teams and the routing rules that send cases to them"),
        (name = "conflicts", description = "Conflict-of-interest declarations of staff"),
        (name = "calendar", description = "The working-day calendar deadlines count on"),
        (name = "custodian", description = "Approved, audited access to a reporter's identity"),
        (name = "cases", description = "Triage of reports, dispositions, filing decisions (一案双查: both investigations and the village suspension), the case view, its timeline and the investigator queue, conclusions of investigations, clawback statements, closing (every blocker) and reopening"),
        (name = "objections", description = "Reporters' objections to the results fed back, each with its own deadline"),
        (name = "clawbacks", description = "Signer-based clawback (谁签字谁追回,谁签字谁负责): wrongly paid benefits, their signers, recoveries, write-offs, each signer's responsibility, the county summary (JSON or CSV)"),
        (name = "remediation", description = "Remediation plans of filed cases: items, evidence, verification (which lifts a village's suspension)"),
        (name = "benefit-status", description = "Village benefit suspension: status now or on a day, batches, the list (service keys with benefit-status:read, and staff)"),
        (name = "webhooks", description = "Webhook subscribers of disbursement systems: suspension.started and suspension.lifted (admin)"),
    )
)]
pub struct ApiDoc;

/// `bearer`: a staff access token (JWT). `api_key`: a service key, as `X-Api-Key` or as a
/// bearer token starting `pk_`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "reporter",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("reporter session from POST /api/v1/reporter/session")
                    .build(),
            ),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Api-Key"))),
        );
    }
}
