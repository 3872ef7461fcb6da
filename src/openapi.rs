//! The OpenAPI document. Paths are collected from the handlers mounted through
//! utoipa-actix-web, so an endpoint is documented by being mounted.

use utoipa::OpenApi;

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
    tags(
        (name = "health", description = "Liveness and readiness"),
        (name = "audit", description = "The hash-chained audit log"),
    )
)]
pub struct ApiDoc;
