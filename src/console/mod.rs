//! The staff console (`/staff`, issue 13): server-rendered pages in Simplified Chinese for the
//! commission's staff, usable without JavaScript and loading nothing from elsewhere.
//!
//! **One set of capabilities, two doors.** Console handlers call the same capability functions
//! as the API handlers (`cases::triage::triage`, `clawbacks::record::…`, …): the same
//! validation, permissions, state machine, audit entries and jobs. They never call the API over
//! HTTP and never re-implement a rule. What the API refuses, the console refuses with the same
//! `code`, said in Chinese (`zh::problem`), beside the field or at the top of the page.
//!
//! - `session`: sign-in (password, then a TOTP code where the account has one), TOTP enrolment
//!   for roles that need it, sign-out, the idle timeout, and the [`session::Desk`] extractor
//!   every page takes: who is signed in, with the permissions of their roles.
//! - `form`: urlencoded form bodies, read with their CSRF check ([`form::Posted`]).
//! - `page`: the shared layout, navigation by role, refusals and error pages.
//! - one module per area of the console: `dashboard` (工作台), `intake` (待受理), `cases`
//!   (案件: the queue and the case page), `benefits` (暂停与发放核查), `officials` (责任追究),
//!   `admin` (管理).
//!
//! Cookies: the session cookie `probity_staff` is `HttpOnly`, `SameSite=Strict`, `Path=/staff`,
//! and `Secure` over HTTPS. It holds a random token; the database keeps its SHA-256 only
//! (`staff_sessions.console_token_hash`). See docs/console.md.

pub mod admin;
pub mod benefits;
pub mod cases;
pub mod dashboard;
pub mod form;
pub mod intake;
pub mod officials;
pub mod page;
pub mod session;
pub mod zh;

use actix_web::web::{self, ServiceConfig};

use crate::settings::Settings;

/// The console's own state, one per server process.
pub struct ConsoleState {
    /// A sign-in ends after this many minutes without a request (`console.idle_minutes`).
    pub idle_minutes: u32,
    /// Signs the CSRF tokens of the console's forms (derived from the signing secret).
    csrf_key: [u8; 32],
    /// Signs the five-minute cookie that carries a sign-in from the password page to the TOTP
    /// page (derived from the signing secret).
    pending_key: [u8; 32],
}

impl ConsoleState {
    /// The console's state for `settings`: its keys are derived from `secrets.jwt_signing_key`.
    pub fn new(settings: &Settings) -> ConsoleState {
        let secret = settings.secrets.key_bytes("jwt_signing_key");
        ConsoleState {
            idle_minutes: settings.console.idle_minutes,
            csrf_key: crate::reports::derive_key(&secret, "probity console csrf v1"),
            pending_key: crate::reports::derive_key(&secret, "probity console totp pending v1"),
        }
    }

    pub(crate) fn csrf_key(&self) -> &[u8; 32] {
        &self.csrf_key
    }

    pub(crate) fn pending_key(&self) -> &[u8; 32] {
        &self.pending_key
    }
}

/// Mounts every console page under `/staff`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(
        web::resource("/staff/login")
            .route(web::get().to(session::login_page))
            .route(web::post().to(session::login)),
    )
    .service(
        web::resource("/staff/login/totp")
            .route(web::get().to(session::totp_page))
            .route(web::post().to(session::totp_step)),
    )
    .service(
        web::resource("/staff/totp")
            .route(web::get().to(session::enrolment_page))
            .route(web::post().to(session::enrol)),
    )
    .service(web::resource("/staff/sign-out").route(web::post().to(session::sign_out)))
    .service(web::resource("/staff").route(web::get().to(dashboard::page)));
    intake::configure(cfg);
    cases::configure(cfg);
    benefits::configure(cfg);
    officials::configure(cfg);
    admin::configure(cfg);
}
