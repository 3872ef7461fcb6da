//! `/follow-up`: the reporter enters the receipt code and gets a session cookie (HttpOnly,
//! `SameSite=Strict`, `Path=/follow-up`, `Secure` over HTTPS) holding a reporter token scoped to
//! that one report; `/follow-up/report` shows progress, the thread, evidence and objections,
//! with forms to reply, add evidence and (after feedback) object; `/follow-up/sign-out` clears
//! the cookie.
//!
//! A wrong code gets one message whatever was wrong with it (`zh::WRONG_CODE`), after the same
//! work (`follow_up::report_for_code` always hashes), and the attempt counts against the
//! receipt-check rate limit.

use actix_multipart::Multipart;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;

use super::form::{self, ReadError};
use super::report::Text;
use super::{csrf, zh};
use crate::domain::objection::{ObjectionRefused, OBJECTION_MAX};
use crate::error::ApiError;
use crate::objections::{self, ObjectionError};
use crate::reports::follow_up::{self as reporter, FollowUpError, ReporterReportView, MESSAGE_MAX};
use crate::reports::ReportsState;

/// The session cookie. Its path keeps it away from every other page.
pub const SESSION_COOKIE: &str = "probity_reporter";
const PATH: &str = "/follow-up";

/// An `application/x-www-form-urlencoded` body, as sent.
struct Fields(Vec<(String, String)>);

impl Fields {
    fn parse(body: &[u8]) -> Fields {
        Fields(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Both CSRF layers for a urlencoded form.
fn csrf_ok(req: &HttpRequest, state: &ReportsState, fields: &Fields) -> bool {
    csrf::check_request(req).is_ok()
        && csrf::verify(
            &state.csrf_key(),
            fields.get(csrf::FIELD),
            csrf::cookie_nonce(req).as_deref(),
            super::now(state),
        )
        .is_ok()
}

fn session_cookie(token: String, minutes: u64, secure: bool) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, token)
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .max_age(actix_web::cookie::time::Duration::minutes(minutes as i64))
        .finish()
}

fn clear_session(response: &mut HttpResponse, secure: bool) {
    let cookie = Cookie::build(SESSION_COOKIE, "")
        .path(PATH)
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(secure)
        .finish();
    let _ = response.add_removal_cookie(&cookie);
}

/// The report the request's session cookie opens, if it is valid.
fn session(req: &HttpRequest, state: &ReportsState) -> Option<String> {
    req.cookie(SESSION_COOKIE)
        .and_then(|c| state.sessions.verify(c.value(), state.clock.now()))
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// Back to the code page: the session ended (or never began).
fn expired(req: &HttpRequest) -> HttpResponse {
    let mut response = see_other("/follow-up?expired=1");
    if req.cookie(SESSION_COOKIE).is_some() {
        clear_session(&mut response, super::is_https(req));
    }
    response
}

#[derive(Template)]
#[template(path = "web/follow_up_code.html")]
struct CodePage {
    csrf_token: String,
    code: String,
    error: Option<&'static str>,
    notice: Option<String>,
    signed_in: bool,
}

fn code_response(
    req: &HttpRequest,
    state: &ReportsState,
    status: StatusCode,
    code: String,
    error: Option<&'static str>,
    notice: Option<String>,
) -> HttpResponse {
    let (token, cookie) = super::csrf_for(req, state);
    let mut response = super::render(
        status,
        &CodePage {
            csrf_token: token,
            code,
            error,
            notice,
            signed_in: session(req, state).is_some(),
        },
    );
    let _ = response.add_cookie(&cookie);
    response
}

pub async fn code_page(req: HttpRequest, state: web::Data<ReportsState>) -> HttpResponse {
    let query = Fields::parse(req.query_string().as_bytes());
    let notice = if query.get("expired").is_some() {
        Some(format!(
            "为了安全，查询页面{}分钟后会自动退出。请重新输入回执码。",
            state.sessions.minutes
        ))
    } else if query.get("signed_out").is_some() {
        Some("您已退出。如果用的是和别人共用的手机或电脑，请关闭浏览器页面。".to_string())
    } else {
        None
    };
    code_response(&req, &state, StatusCode::OK, String::new(), None, notice)
}

/// What the code field may show again: digits and spaces only, short.
fn echo_code(typed: &str) -> String {
    typed
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == ' ')
        .take(40)
        .collect()
}

pub async fn open(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReportsState>,
) -> HttpResponse {
    let fields = Fields::parse(&body);
    if !csrf_ok(&req, &state, &fields) {
        return super::csrf_refused(PATH);
    }
    if let Err(e) = state.receipt_limit.check(super::peer(&req)) {
        return super::rate_limited(&e, PATH);
    }
    let typed = fields.get("receipt_code").unwrap_or_default();
    match reporter::report_for_code(&state, typed).await {
        Ok(report_id) => {
            let mut response = see_other("/follow-up/report");
            let _ = response.add_cookie(&session_cookie(
                state.sessions.issue(&report_id, state.clock.now()),
                state.sessions.minutes,
                super::is_https(&req),
            ));
            response
        }
        Err(FollowUpError::WrongCode) => code_response(
            &req,
            &state,
            StatusCode::UNPROCESSABLE_ENTITY,
            echo_code(typed),
            Some(zh::WRONG_CODE),
            None,
        ),
        Err(e) => super::server_error(&ApiError::from(e), PATH),
    }
}

struct MessageRow {
    from_reporter: bool,
    who: &'static str,
    body: String,
    at: String,
}

struct EvidenceRow {
    kind: &'static str,
    size: String,
    at: String,
    who: &'static str,
}

struct ObjectionRow {
    body: String,
    at: String,
    status: String,
}

#[derive(Template)]
#[template(path = "web/follow_up_report.html")]
struct ReportView {
    csrf_token: String,
    notice: Option<&'static str>,
    number: String,
    programme: String,
    township: String,
    village: String,
    submitted_at: String,
    anonymous: bool,
    status_zh: String,
    explanation: String,
    /// The reason given when the case was closed without action (予以了结).
    closing_reason: Option<String>,
    /// The outcome in plain Chinese once the case's primary investigation is concluded.
    outcome: Option<String>,
    /// "办理人员已查阅您的身份信息（<time>）" once staff read the identity.
    identity_disclosure: Option<String>,
    deadline: Option<(String, String)>,
    messages: Vec<MessageRow>,
    evidence: Vec<EvidenceRow>,
    /// The reporter's objections, and whether the form to object is shown.
    objections: Vec<ObjectionRow>,
    may_object: bool,
    objection: Text,
    reply: Text,
    message_max: usize,
    objection_max: usize,
    evidence_error: Option<String>,
    max_files: usize,
    max_mb: u64,
    session_minutes: u64,
}

/// What the report page shows again after a refused post: the text typed into the reply or
/// objection form (with its error), or the evidence form's error.
struct Kept {
    reply: Text,
    evidence_error: Option<String>,
    objection: Text,
}

impl Default for Kept {
    fn default() -> Kept {
        Kept {
            reply: no_reply(),
            evidence_error: None,
            objection: no_reply(),
        }
    }
}

/// Renders the report page with a reply kept and errors shown, or sends the reporter back to
/// the code page when the report cannot be shown.
async fn report_response(
    req: &HttpRequest,
    state: &ReportsState,
    report_id: &str,
    status: StatusCode,
    notice: Option<&'static str>,
    kept: Kept,
) -> HttpResponse {
    let Kept {
        reply,
        evidence_error,
        objection,
    } = kept;
    let view: ReporterReportView = match reporter::reporter_view(state, report_id).await {
        Ok(view) => view,
        Err(FollowUpError::ReportGone) => return expired(req),
        Err(e) => return super::server_error(&ApiError::from(e), "/follow-up/report"),
    };
    let who = |from: &str| {
        if from == "reporter" {
            "您"
        } else {
            "县纪委"
        }
    };
    let (csrf_token, cookie) = super::csrf_for(req, state);
    let page = ReportView {
        csrf_token,
        notice,
        number: view.report_number,
        programme: view.programme_zh,
        township: view.township.name,
        village: view.village.name,
        submitted_at: zh::time(view.submitted_at),
        anonymous: view.anonymous,
        status_zh: view.status_zh,
        explanation: view.status_explanation_zh,
        closing_reason: view.closing_reason,
        outcome: view.outcome_zh,
        identity_disclosure: view.identity_disclosure_zh,
        deadline: view
            .next_deadline
            .map(|d| (d.description_zh.to_string(), zh::date(d.due))),
        messages: view
            .messages
            .into_iter()
            .map(|m| MessageRow {
                from_reporter: m.from == "reporter",
                who: match m.kind.as_str() {
                    "acknowledgement" => "县纪委（受理答复）",
                    "feedback" => "县纪委（办理结果反馈）",
                    "question" => "县纪委（询问）",
                    _ => who(m.from),
                },
                body: m.body,
                at: zh::time(m.sent_at),
            })
            .collect(),
        evidence: view
            .evidence
            .into_iter()
            .map(|e| EvidenceRow {
                kind: zh::evidence_kind(&e.content_type),
                size: zh::size(e.size_bytes),
                at: zh::time(e.uploaded_at),
                who: who(e.from),
            })
            .collect(),
        objections: view
            .objections
            .into_iter()
            .map(|o| ObjectionRow {
                body: o.body,
                at: zh::time(o.received_at),
                status: o.status_zh,
            })
            .collect(),
        may_object: view.may_object,
        objection,
        reply,
        message_max: MESSAGE_MAX,
        objection_max: OBJECTION_MAX,
        evidence_error,
        max_files: state.settings.max_attachments,
        max_mb: (state.settings.max_attachment_bytes / (1024 * 1024)).max(1),
        session_minutes: state.sessions.minutes,
    };
    let mut response = super::render(status, &page);
    let _ = response.add_cookie(&cookie);
    response
}

fn no_reply() -> Text {
    Text {
        value: String::new(),
        error: None,
    }
}

pub async fn report_page(req: HttpRequest, state: web::Data<ReportsState>) -> HttpResponse {
    let Some(report_id) = session(&req, &state) else {
        return expired(&req);
    };
    let query = Fields::parse(req.query_string().as_bytes());
    let notice = match query.get("done") {
        Some("message") => Some("留言已发送。"),
        Some("evidence") => Some("证据材料已上传。"),
        Some("objection") => Some("异议已提交。县纪委会在15个工作日内处理。"),
        _ => None,
    };
    report_response(
        &req,
        &state,
        &report_id,
        StatusCode::OK,
        notice,
        Kept::default(),
    )
    .await
}

pub async fn reply(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReportsState>,
) -> HttpResponse {
    let fields = Fields::parse(&body);
    if !csrf_ok(&req, &state, &fields) {
        return super::csrf_refused("/follow-up/report");
    }
    let Some(report_id) = session(&req, &state) else {
        return expired(&req);
    };
    let text = fields.get("body").unwrap_or_default().to_string();
    match reporter::add_message(&state, &report_id, &text).await {
        Ok(_) => see_other("/follow-up/report?done=message#thread"),
        Err(FollowUpError::Invalid(violations)) => {
            let error = violations.first().map(|f| f.message_zh.clone());
            report_response(
                &req,
                &state,
                &report_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Kept {
                    reply: Text { value: text, error },
                    ..Kept::default()
                },
            )
            .await
        }
        Err(e) => super::server_error(&ApiError::from(e), "/follow-up/report"),
    }
}

pub async fn add_evidence(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReportsState>,
) -> HttpResponse {
    if csrf::check_request(&req).is_err() {
        return super::csrf_refused("/follow-up/report");
    }
    // Checked before reading the body: nothing is stored for a request without a session.
    let Some(report_id) = session(&req, &state) else {
        return expired(&req);
    };
    if req.content_type() != "multipart/form-data" {
        return super::error_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "无法读取上传的文件",
            "请从查询页面选择文件后上传。",
            "/follow-up/report",
            "返回",
        );
    }
    let multipart = Multipart::new(req.headers(), payload.into_inner());
    let cookie = csrf::cookie_nonce(&req);
    let posted = match form::read(&state, multipart, cookie.as_deref(), super::now(&state)).await {
        Ok(posted) => posted,
        Err(ReadError::Csrf(_)) => return super::csrf_refused("/follow-up/report"),
        Err(_) => {
            return super::error_page(
                StatusCode::BAD_REQUEST,
                "上传中断了",
                "文件没有完整收到。请检查网络后重新选择文件上传。",
                "/follow-up/report",
                "返回",
            )
        }
    };
    let problem = match (&posted.file_problem, posted.files.is_empty()) {
        (Some(p), _) => Some((p.status(), p.message_zh())),
        (None, true) => Some((
            StatusCode::UNPROCESSABLE_ENTITY,
            crate::domain::report::files_required().message_zh,
        )),
        (None, false) => None,
    };
    if let Some((status, message)) = problem {
        return report_response(
            &req,
            &state,
            &report_id,
            status,
            None,
            Kept {
                evidence_error: Some(message),
                ..Kept::default()
            },
        )
        .await;
    }
    match reporter::add_evidence(&state, &report_id, posted.files).await {
        Ok(_) => see_other("/follow-up/report?done=evidence#evidence"),
        Err(e) => super::server_error(&ApiError::from(e), "/follow-up/report"),
    }
}

/// `POST /follow-up/objections`: the reporter objects to the result fed back
/// (`objections::file_for_reporter`). A refused objection (no feedback yet, or already made)
/// shows the page again with the reason in Chinese.
pub async fn object(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReportsState>,
) -> HttpResponse {
    let fields = Fields::parse(&body);
    if !csrf_ok(&req, &state, &fields) {
        return super::csrf_refused("/follow-up/report");
    }
    let Some(report_id) = session(&req, &state) else {
        return expired(&req);
    };
    let text = fields.get("body").unwrap_or_default().to_string();
    let (status, error) = match objections::file_for_reporter(&state, &report_id, &text).await {
        Ok(_) => return see_other("/follow-up/report?done=objection#objections"),
        Err(ObjectionError::Invalid(violations)) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            violations.first().map(|f| f.message_zh.clone()),
        ),
        Err(ObjectionError::Refused(why)) => (
            StatusCode::CONFLICT,
            Some(
                match why {
                    ObjectionRefused::NoFeedback => "县纪委告知办理结果后，才能对结果提出异议。",
                    ObjectionRefused::AlreadyMade => {
                        "您已对最近一次告知的办理结果提出过异议，正在处理中。"
                    }
                }
                .to_string(),
            ),
        ),
        Err(ObjectionError::ReportGone) => return expired(&req),
        Err(e) => return super::server_error(&ApiError::from(e), "/follow-up/report"),
    };
    report_response(
        &req,
        &state,
        &report_id,
        status,
        None,
        Kept {
            objection: Text { value: text, error },
            ..Kept::default()
        },
    )
    .await
}

pub async fn sign_out(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReportsState>,
) -> HttpResponse {
    let fields = Fields::parse(&body);
    let secure = super::is_https(&req);
    let mut response = if csrf_ok(&req, &state, &fields) {
        see_other("/follow-up?signed_out=1")
    } else {
        super::csrf_refused(PATH)
    };
    // Forgetting the session is always safe, whoever asked.
    clear_session(&mut response, secure);
    response
}
