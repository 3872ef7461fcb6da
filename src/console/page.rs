//! What every console page shares: the layout's data ([`Shell`]: title, navigation by role,
//! the signed-in name, the sign-out form's token, a notice), refusals shown on a page
//! ([`Refusal`]: the API's `code` in Chinese, and a message per field), and whole-page errors
//! ([`PageError`]: 403, 404, … as a Chinese page, never problem+json).
//!
//! Templates: `templates/console/base.html` is the layout; each page extends it and has a
//! `shell: Shell` field.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;

use super::session::Desk;
use super::zh;
use crate::domain::permissions::Permission;
use crate::error::ApiError;

/// One link of the console's navigation.
#[derive(Debug, Clone)]
pub struct NavLink {
    pub href: &'static str,
    pub label: &'static str,
    /// The link of the area the page belongs to (`aria-current="page"`).
    pub current: bool,
}

/// The areas of the console, each shown to the roles whose permissions reach it.
const AREAS: [(&str, &str, Option<&[Permission]>); 6] = [
    ("/staff", "工作台", None),
    (
        "/staff/intake",
        "待受理",
        Some(&[Permission::TriageReports]),
    ),
    ("/staff/cases", "案件", Some(&[Permission::ReadCases])),
    (
        "/staff/suspensions",
        "暂停与发放核查",
        Some(&[Permission::ReadBenefitStatus]),
    ),
    (
        "/staff/officials",
        "责任追究",
        Some(&[Permission::ReadCases, Permission::ReadClawbacks]),
    ),
    ("/staff/admin", "管理", Some(&[Permission::Administer])),
];

/// The layout's data for one page.
#[derive(Debug, Clone, Default)]
pub struct Shell {
    /// The page's title (also the `<h1>` unless the page writes its own).
    pub title: String,
    /// The signed-in staff member's display name; empty on the sign-in pages.
    pub user_name: String,
    /// The areas this user may open.
    pub nav: Vec<NavLink>,
    /// The CSRF token for every form of the page (the sign-out form included).
    pub csrf: String,
    /// A one-line confirmation after a successful action (`?done=…`), shown at the top.
    pub notice: Option<String>,
    /// What was refused, shown at the top with the field messages beside their fields.
    pub refusal: Option<Refusal>,
}

impl Shell {
    /// The shell of a page titled `title` in the area whose link is `area` (e.g.
    /// `/staff/cases`), for `desk`.
    pub fn new(desk: &Desk, area: &str, title: impl Into<String>) -> Shell {
        let nav = AREAS
            .iter()
            .filter(|(_, _, needs)| needs.is_none_or(|ps| ps.iter().any(|p| desk.can(*p))))
            .map(|(href, label, _)| NavLink {
                href,
                label,
                current: *href == area,
            })
            .collect();
        Shell {
            title: title.into(),
            user_name: desk.display_name.clone(),
            nav,
            csrf: desk.csrf_token.clone(),
            notice: None,
            refusal: None,
        }
    }

    /// The same shell with a notice (after a redirect with `?done=`).
    pub fn with_notice(mut self, notice: Option<String>) -> Shell {
        self.notice = notice;
        self
    }

    /// The same shell showing `refusal`.
    pub fn with_refusal(mut self, refusal: Option<Refusal>) -> Shell {
        self.refusal = refusal;
        self
    }

    /// The Chinese message for field `name` of the refusal, or "" (for templates:
    /// `{{ shell.field_error("reason") }}`).
    pub fn field_error(&self, name: &str) -> &str {
        self.refusal
            .as_ref()
            .and_then(|r| r.field(name))
            .unwrap_or("")
    }
}

/// One refused field: its name as the API names it, and the message in Chinese.
#[derive(Debug, Clone)]
pub struct FieldMessage {
    pub field: String,
    pub message: String,
}

/// An action the capability refused, as a page shows it.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// The API's status for the same refusal (the page is answered with it).
    pub status: StatusCode,
    /// The API's stable `code` (shown small, for staff to quote).
    pub code: &'static str,
    /// What was refused and why, in Chinese.
    pub message: String,
    pub fields: Vec<FieldMessage>,
}

impl Refusal {
    /// The refusal the API would answer with `e`, in Chinese. A server failure is logged here
    /// and said without detail.
    pub fn from_api(e: &ApiError) -> Refusal {
        if e.status.is_server_error() {
            tracing::error!(code = e.code.as_str(), error = %e, "console action failed");
        }
        Refusal {
            status: e.status,
            code: e.code.as_str(),
            message: zh::problem(e.code).to_string(),
            fields: e
                .errors
                .iter()
                .map(|v| FieldMessage {
                    field: v.field.clone(),
                    message: if v.message_zh.is_empty() {
                        crate::domain::violation::general_zh(v.code).to_string()
                    } else {
                        v.message_zh.clone()
                    },
                })
                .collect(),
        }
    }

    /// The message for field `name`, if it was refused.
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|f| f.field == name)
            .map(|f| f.message.as_str())
    }
}

/// An HTML answer.
pub fn html(status: StatusCode, body: String) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

/// `page` rendered with `status`; a template failure is logged and answered 500 in Chinese.
pub fn render<T: Template>(status: StatusCode, page: &T) -> HttpResponse {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => PageError::unexpected(&e).error_response(),
    }
}

/// `page` rendered 200, or with the refusal's status when the shell shows one.
pub fn show<T: Template>(shell: &Shell, page: &T) -> HttpResponse {
    let status = shell
        .refusal
        .as_ref()
        .map(|r| r.status)
        .unwrap_or(StatusCode::OK);
    render(status, page)
}

/// 303 to `location` (after a successful POST: the page it leads to says what was done).
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    code: &'a str,
}

/// A request the console answers with a whole error page, in Chinese.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub title: &'static str,
    pub message: String,
    pub code: &'static str,
    /// Where to send the browser instead of showing a page (sign in first).
    pub redirect: Option<String>,
}

impl PageError {
    /// 403: the user's roles do not allow this page or action.
    pub fn forbidden() -> PageError {
        PageError {
            status: StatusCode::FORBIDDEN,
            title: "没有权限",
            message: "您的角色不能查看此页面或进行此操作。如需权限，请联系系统管理员。".into(),
            code: crate::error::ErrorCode::Forbidden.as_str(),
            redirect: None,
        }
    }

    /// 404 in Chinese.
    pub fn not_found() -> PageError {
        PageError {
            status: StatusCode::NOT_FOUND,
            title: "找不到",
            message: "找不到要查看的内容：链接可能有误，或者内容已不存在。".into(),
            code: crate::error::ErrorCode::NotFound.as_str(),
            redirect: None,
        }
    }

    /// 403 for a POST that failed the CSRF checks.
    pub fn csrf() -> PageError {
        PageError {
            status: StatusCode::FORBIDDEN,
            title: "页面已过期，请重新打开",
            message:
                "为了安全，这次提交没有被接受：页面已经过期，或者提交不是从本系统的页面发出的。\
                      请返回，刷新页面后再提交。"
                    .into(),
            code: "csrf",
            redirect: None,
        }
    }

    /// 400: the form body could not be read.
    pub fn bad_form() -> PageError {
        PageError {
            status: StatusCode::BAD_REQUEST,
            title: "提交有误",
            message: "提交的表单无法读取，请返回后重试。".into(),
            code: crate::error::ErrorCode::BadBody.as_str(),
            redirect: None,
        }
    }

    /// 413: the form body is too large.
    pub fn too_large() -> PageError {
        PageError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            title: "内容太多",
            message: "提交的内容太多，请删减后再提交。".into(),
            code: crate::error::ErrorCode::PayloadTooLarge.as_str(),
            redirect: None,
        }
    }

    /// 303 to the sign-in page, coming back to `next` (a `/staff` path) afterwards.
    pub fn sign_in(next: Option<&str>, expired: bool) -> PageError {
        let mut location = String::from("/staff/login");
        let mut sep = '?';
        if expired {
            location.push_str("?expired=1");
            sep = '&';
        }
        if let Some(next) = next.filter(|n| safe_next(n)) {
            location.push(sep);
            location.push_str("next=");
            location.push_str(
                &url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>(),
            );
        }
        PageError {
            status: StatusCode::SEE_OTHER,
            title: "请先登录",
            message: String::new(),
            code: crate::error::ErrorCode::Unauthorized.as_str(),
            redirect: Some(location),
        }
    }

    /// 303 to `location`.
    pub fn redirect(location: &str) -> PageError {
        PageError {
            status: StatusCode::SEE_OTHER,
            title: "",
            message: String::new(),
            code: "",
            redirect: Some(location.to_string()),
        }
    }

    /// A server failure: logged, said without detail.
    pub fn unexpected(e: &dyn std::fmt::Display) -> PageError {
        tracing::error!(error = %e, "console page failed");
        PageError {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            title: "出错了",
            message: "服务器出错了，这次操作没有完成。请稍后再试。".into(),
            code: crate::error::ErrorCode::InternalError.as_str(),
            redirect: None,
        }
    }
}

/// Whether `path` belongs to the console (`/staff`, `/staff/…`): its errors are answered with
/// Chinese pages, never problem+json.
pub fn is_console_path(path: &str) -> bool {
    path == "/staff" || path.starts_with("/staff/")
}

impl PageError {
    /// The Chinese page for an error answered around a console handler rather than by it: a
    /// query or path its extractor refused (`code` given), a method the path does not take, a
    /// panic. Used by `http::middleware::problem_json_errors` for console paths.
    ///
    /// Takes the status (and the API's code when known); returns the page, never a redirect.
    pub fn for_status(status: StatusCode, code: Option<crate::error::ErrorCode>) -> PageError {
        use crate::error::ErrorCode;
        match status {
            StatusCode::FORBIDDEN => PageError::forbidden(),
            StatusCode::NOT_FOUND => PageError::not_found(),
            StatusCode::PAYLOAD_TOO_LARGE => PageError::too_large(),
            StatusCode::METHOD_NOT_ALLOWED => PageError {
                status,
                title: "访问方式有误",
                message: "这个地址不接受这种访问方式。请从系统页面上的链接或按钮进入。".into(),
                code: ErrorCode::MethodNotAllowed.as_str(),
                redirect: None,
            },
            s if s.is_server_error() => PageError {
                status,
                title: "出错了",
                message: "服务器出错了，这次操作没有完成。请稍后再试。".into(),
                code: ErrorCode::InternalError.as_str(),
                redirect: None,
            },
            _ => {
                let code = code.unwrap_or(ErrorCode::BadRequest);
                PageError {
                    status,
                    title: "链接或提交有误",
                    message: zh::problem(code).to_string(),
                    code: code.as_str(),
                    redirect: None,
                }
            }
        }
    }
}

impl std::fmt::Display for PageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status, self.code)
    }
}

impl From<ApiError> for PageError {
    /// The API's refusal as a whole page (for reads; actions show a [`Refusal`] on their page).
    fn from(e: ApiError) -> PageError {
        match e.status {
            StatusCode::FORBIDDEN => PageError::forbidden(),
            StatusCode::NOT_FOUND => PageError::not_found(),
            s if s.is_server_error() => PageError::unexpected(&e),
            status => PageError {
                status,
                title: "没有完成",
                message: zh::problem(e.code).to_string(),
                code: e.code.as_str(),
                redirect: None,
            },
        }
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(location) = &self.redirect {
            return see_other(location);
        }
        let page = ErrorPage {
            title: self.title,
            message: &self.message,
            code: self.code,
        };
        match page.render() {
            Ok(body) => html(self.status, body),
            Err(_) => html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><html lang=\"zh-CN\"><meta charset=\"utf-8\"><title>出错了</title>\
                 <p>服务器出错了，请稍后再试。</p></html>"
                    .into(),
            ),
        }
    }
}

/// A `next` that stays inside the console: a `/staff` path, never `//host` or a scheme.
pub fn safe_next(next: &str) -> bool {
    (next == "/staff" || next.starts_with("/staff/") || next.starts_with("/staff?"))
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
}

/// The notice for `?done=<key>` after a successful action, from the page's own list.
pub fn notice(done: Option<&str>, known: &[(&str, &str)]) -> Option<String> {
    let done = done?;
    known
        .iter()
        .find(|(k, _)| *k == done)
        .map(|(_, text)| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_inside_the_console() {
        assert!(safe_next("/staff"));
        assert!(safe_next("/staff/cases?status=filed"));
        assert!(!safe_next("//evil.example/staff"));
        assert!(!safe_next("https://evil.example/staff"));
        assert!(!safe_next("/staff//evil.example"));
        assert!(!safe_next("/staffing"));
        assert!(!safe_next("/report"));
    }
}
