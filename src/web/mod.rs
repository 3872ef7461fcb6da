//! The public web pages: server-rendered, Simplified Chinese, no JavaScript needed, nothing
//! loaded from third parties. Templates live in `templates/web/`; the one stylesheet (and the
//! optional print script) are compiled in and served from `/static/`.
//!
//! - `/` — what this is, what happens to a report, how the reporter is protected
//! - `/report` — the form; the POST answers with the receipt page (never a redirect: the code
//!   must not appear in any URL)
//! - `/follow-up` — enter the receipt code; `/follow-up/report` — progress, thread, evidence,
//!   objections, reply, add evidence and object (after feedback); `/follow-up/sign-out`
//! - `/suspensions` — the villages whose benefits are suspended now (issue 12; off with
//!   `benefits.public_page = false`)
//!
//! Every POST form is protected by `csrf`. Nothing here logs what a reporter typed, their
//! address or their browser: handlers log only the failures of the server itself.
//! See docs/reporting.md.

pub mod assets;
pub mod csrf;
pub mod follow_up;
pub mod form;
pub mod report;
pub mod suspensions;
pub mod zh;

use std::net::IpAddr;

use actix_web::cookie::Cookie;
use actix_web::http::{header, StatusCode};
use actix_web::web::{self, ServiceConfig};
use actix_web::{HttpRequest, HttpResponse};
use askama::Template;

use crate::error::ApiError;
use crate::reports::ReportsState;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/").route(web::get().to(index)))
        .service(
            web::resource("/report")
                .route(web::get().to(report::form_page))
                .route(web::post().to(report::submit_form)),
        )
        .service(
            web::resource("/follow-up")
                .route(web::get().to(follow_up::code_page))
                .route(web::post().to(follow_up::open)),
        )
        .service(web::resource("/follow-up/report").route(web::get().to(follow_up::report_page)))
        .service(web::resource("/follow-up/messages").route(web::post().to(follow_up::reply)))
        .service(
            web::resource("/follow-up/evidence").route(web::post().to(follow_up::add_evidence)),
        )
        .service(web::resource("/follow-up/objections").route(web::post().to(follow_up::object)))
        .service(web::resource("/follow-up/sign-out").route(web::post().to(follow_up::sign_out)))
        .service(web::resource("/suspensions").route(web::get().to(suspensions::page)))
        .service(web::resource("/static/probity.css").route(web::get().to(assets::stylesheet)))
        .service(
            web::resource("/static/console.css").route(web::get().to(assets::console_stylesheet)),
        )
        .service(web::resource("/static/print.js").route(web::get().to(assets::print_script)));
}

#[derive(Template)]
#[template(path = "web/index.html")]
struct IndexPage {
    triage_days: u32,
    acknowledge_days: u32,
}

async fn index(state: web::Data<ReportsState>) -> HttpResponse {
    render(
        StatusCode::OK,
        &IndexPage {
            triage_days: state.settings.triage_working_days,
            acknowledge_days: state.settings.acknowledge_working_days,
        },
    )
}

#[derive(Template)]
#[template(path = "web/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    back_href: &'a str,
    back_label: &'a str,
}

/// An HTML answer. `text/html` error answers pass the API's problem+json middleware untouched.
pub(crate) fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

pub(crate) fn render<T: Template>(status: StatusCode, page: &T) -> HttpResponse {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "a page template failed to render");
            html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>出错了</title>\
                 <p>服务器出错了，请稍后再试。</p></html>"
                    .into(),
            )
        }
    }
}

pub(crate) fn error_page(
    status: StatusCode,
    title: &str,
    message: &str,
    back_href: &str,
    back_label: &str,
) -> HttpResponse {
    render(
        status,
        &ErrorPage {
            title,
            message,
            back_href,
            back_label,
        },
    )
}

/// 403 for a POST that failed the CSRF checks. One message for every reason.
pub(crate) fn csrf_refused(back_href: &str) -> HttpResponse {
    error_page(
        StatusCode::FORBIDDEN,
        "页面已过期，请重新打开",
        "为了保护您的安全，这次提交没有被接受：页面打开的时间太久了，或者提交不是从本网站的页面发出的。\
         请返回，重新打开页面后再提交。如果一直出现这个提示，请确认浏览器没有禁用 Cookie。",
        back_href,
        "重新打开页面",
    )
}

/// 429 with the limiter's `Retry-After`.
pub(crate) fn rate_limited(e: &ApiError, back_href: &str) -> HttpResponse {
    let retry_after = e
        .headers
        .iter()
        .find(|(name, _)| name == header::RETRY_AFTER)
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "60".into());
    let minutes = retry_after.parse::<u64>().unwrap_or(60).div_ceil(60).max(1);
    let message = format!(
        "从这里提交的次数太多了。为了防止有人恶意猜测回执码或大量提交，请约 {minutes} 分钟后再试。\
         您已经填写的内容没有提交；如果内容很长，请先复制保存。"
    );
    let mut response = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        "请求过于频繁，请稍后再试",
        &message,
        back_href,
        "返回",
    );
    if let Ok(v) = header::HeaderValue::from_str(&retry_after) {
        response.headers_mut().insert(header::RETRY_AFTER, v);
    }
    response
}

/// A failure of the server itself: logged (never with the reporter's input), and a Chinese page.
pub(crate) fn server_error(e: &ApiError, back_href: &str) -> HttpResponse {
    if e.status.is_server_error() {
        tracing::error!(code = e.code.as_str(), error = %e, "page request failed");
    }
    let (status, message) = if e.status == StatusCode::SERVICE_UNAVAILABLE {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "系统暂时忙，您这次提交的内容没有保存。请稍等一会儿再试。",
        )
    } else if e.status.is_server_error() {
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            "服务器出错了，您这次提交的内容没有保存。请稍后再试。",
        )
    } else {
        (e.status, "请求没有被接受，请返回后重试。")
    };
    error_page(status, "出错了", message, back_href, "返回")
}

/// The source address, for the in-memory rate limiters only: never stored or logged.
pub(crate) fn peer(req: &HttpRequest) -> Option<IpAddr> {
    req.peer_addr().map(|a| a.ip())
}

/// Whether the request came over HTTPS (directly, or as a trusted proxy says).
pub(crate) fn is_https(req: &HttpRequest) -> bool {
    req.connection_info().scheme() == "https"
}

/// Now in Unix seconds by the application's clock (`state.clock`), for CSRF tokens.
pub(crate) fn now(state: &ReportsState) -> i64 {
    state.clock.now().timestamp()
}

/// A CSRF token for a page about to be rendered, and the cookie to send with it.
pub(crate) fn csrf_for(req: &HttpRequest, state: &ReportsState) -> (String, Cookie<'static>) {
    let issued = csrf::issue(
        &state.csrf_key(),
        csrf::cookie_nonce(req).as_deref(),
        now(state),
    );
    (issued.token, csrf::cookie(&issued.nonce, is_https(req)))
}
