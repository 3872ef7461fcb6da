//! 管理 (administration, issue 13): the administrator's pages, for `Permission::Administer`
//! only (every other role gets the Chinese 403 page, for the pages and for their forms).
//!
//! Each page calls the capability the API's handler calls, with the same checks, audit entries
//! and refusals:
//!
//! - `users`: staff accounts: list, create, roles, deactivate and reactivate, reset password,
//!   name and email (`users::routes::create_account`, `update_account`);
//! - `teams`: teams and their members (`routing::create_team`, `routing::replace_members`);
//! - `rules`: routing rules (`routing::create_rule`, `routing::retire_rule`);
//! - `officials`: officials by division (`divisions::routes::add_official`,
//!   `change_official`);
//! - `divisions`: the divisions CSV import (`divisions::import_csv`);
//! - `api_keys`: service keys, the secret shown once (`auth::api_keys::create_key`, …);
//! - `calendar`: the working-day calendar years and its reload (`calendar::routes::reload`).
//!
//! Every POST reads its form with [`Posted`](super::form::Posted) (CSRF checked), answers 303
//! back to its page with `?done=…` when done, and on a refusal shows the same page again with
//! the API's status, the refusal in Chinese at the top and beside each field, and what was
//! typed (never a password).

mod api_keys;
mod calendar;
mod divisions;
mod officials;
mod rules;
mod teams;
mod users;

use actix_web::web::{self, ServiceConfig};
use actix_web::HttpResponse;
use askama::Template;
use serde::Deserialize;

use super::page::{self, FieldMessage, PageError, Refusal, Shell};
use super::session::Desk;
use super::zh;
use crate::domain::password_policy::MIN_PASSWORD_CHARS;
use crate::domain::permissions::Permission;
use crate::domain::roles::Role;
use crate::domain::violation::general_zh;
use crate::error::{ApiError, ErrorCode, FieldViolation};

/// The area's link in the navigation.
const AREA: &str = "/staff/admin";

/// Mounts the administration pages.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(web::resource("/staff/admin").route(web::get().to(index)));
    users::configure(cfg);
    teams::configure(cfg);
    rules::configure(cfg);
    officials::configure(cfg);
    divisions::configure(cfg);
    api_keys::configure(cfg);
    calendar::configure(cfg);
}

/// `?done=…` after a successful action (and a page's own paging).
#[derive(Debug, Deserialize, Default)]
pub struct DoneQuery {
    pub done: Option<String>,
}

/// The signed-in administrator's desk, or the 403 page.
fn admin(desk: &Desk) -> Result<(), PageError> {
    desk.require(Permission::Administer)
}

/// A role's name in Chinese, as the pages show it.
pub fn role_label(role: &str) -> &'static str {
    match role.parse::<Role>() {
        Ok(Role::Admin) => "系统管理员",
        Ok(Role::Intake) => "受理人员（信访室）",
        Ok(Role::Investigator) => "调查人员（纪检监察室）",
        Ok(Role::Supervisor) => "委领导（审批）",
        Ok(Role::Benefits) => "民生部门（发放核查）",
        Ok(Role::Auditor) => "审计人员",
        Err(_) => "未知角色",
    }
}

/// One checkbox of a roles group: the role's name, its label, and whether it is ticked.
#[derive(Debug, Clone)]
pub struct RoleBox {
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// Every role as a checkbox, ticked when named in `held`.
pub fn role_boxes(held: &[String]) -> Vec<RoleBox> {
    Role::ALL
        .iter()
        .map(|r| RoleBox {
            value: r.as_str(),
            label: role_label(r.as_str()),
            checked: held.iter().any(|h| h == r.as_str()),
        })
        .collect()
}

/// A `<select>` option.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn new(value: impl Into<String>, label: impl Into<String>, current: &str) -> Choice {
        let value = value.into();
        Choice {
            selected: value == current,
            value,
            label: label.into(),
        }
    }
}

/// The Chinese for one refused field of an administration form: the rule's own Chinese when it
/// has one, else what the field and code mean here.
fn field_message(v: &FieldViolation) -> String {
    use ErrorCode::*;
    let field = v.field.as_str();
    // A line of a CSV file (`line 7`): the line, and what is wrong with it.
    if let Some(line) = field.strip_prefix("line ") {
        return format!("第{line}行有误：{}", zh::problem(v.code));
    }
    // The rule's own Chinese, when it gave one.
    if !v.message_zh.is_empty() && v.message_zh != general_zh(v.code) {
        return v.message_zh.clone();
    }
    match (field, v.code) {
        ("password", TooShort) => {
            format!("密码太短：至少要有{MIN_PASSWORD_CHARS}个字符（空格不算）。")
        }
        ("username", Invalid) => "用户名须为3到64个字符，只能用小写字母、数字和“.”“_”“-”。".into(),
        ("display_name", InvalidLength) => "姓名须为1到100个字。".into(),
        ("email", Invalid) => zh::problem(InvalidEmail).into(),
        ("roles", Required) => "请至少选择一个角色。".into(),
        ("scopes", Required) => "请至少选择一个权限范围。".into(),
        // An API key's name (officials' and teams' names say their own limit).
        ("name", InvalidLength) => "名称须为1到100个字。".into(),
        (_, LevelMismatch) => "干部的级别与所选行政区划的级别不一致。".into(),
        _ => zh::problem(v.code).into(),
    }
}

/// The refusal `e` as an administration page shows it: [`Refusal::from_api`] (status, code,
/// the sentence at the top), with each field's message said for this area, and the top
/// sentence of a `self_lockout` saying so.
pub fn refusal(e: &ApiError) -> Refusal {
    let mut refusal = Refusal::from_api(e);
    refusal.fields = e
        .errors
        .iter()
        .map(|v| FieldMessage {
            field: v.field.clone(),
            message: field_message(v),
        })
        .collect();
    if let Some(v) = e.errors.iter().find(|v| v.code == ErrorCode::SelfLockout) {
        refusal.message = zh::problem(v.code).to_string();
    }
    refusal
}

/// The same refusal with the messages of field `from` (or of fields starting with `from` and
/// `[`) also shown beside field `to`: a form whose field the API names differently.
pub fn also_beside(mut refusal: Refusal, from: &str, to: &str) -> Refusal {
    let moved: Vec<FieldMessage> = refusal
        .fields
        .iter()
        .filter(|f| f.field == from || f.field.starts_with(&format!("{from}[")))
        .map(|f| FieldMessage {
            field: to.to_string(),
            message: f.message.clone(),
        })
        .collect();
    refusal.fields.extend(moved);
    refusal
}

/// The same refusal with `message` beside field `field` (a conflict the API does not pin to a
/// field, e.g. a username taken).
pub fn with_field(mut refusal: Refusal, field: &str, message: &str) -> Refusal {
    refusal.fields.push(FieldMessage {
        field: field.to_string(),
        message: message.to_string(),
    });
    refusal
}

/// One link of the index page.
struct Section {
    href: &'static str,
    title: &'static str,
    what: &'static str,
}

const SECTIONS: [Section; 7] = [
    Section {
        href: "/staff/admin/users",
        title: "工作人员账号",
        what: "新建账号，分配角色，停用或恢复账号，重置密码。",
    },
    Section {
        href: "/staff/admin/teams",
        title: "工作组和成员",
        what: "新建工作组（如纪检监察室），增加或移出成员。案件按分办规则交给工作组。",
    },
    Section {
        href: "/staff/admin/rules",
        title: "分办规则",
        what: "按项目、乡镇和被反映人级别，决定受理的案件交给哪个工作组。",
    },
    Section {
        href: "/staff/admin/officials",
        title: "干部名册",
        what: "各村、乡镇和县里的干部：增加、修改，离任时停用。",
    },
    Section {
        href: "/staff/admin/divisions/import",
        title: "导入行政区划",
        what: "上传县、乡镇、村的区划代码 CSV 文件。",
    },
    Section {
        href: "/staff/admin/api-keys",
        title: "服务密钥",
        what: "给民生部门发放系统查询发放状态用的密钥：新建（密钥只显示一次）、吊销。",
    },
    Section {
        href: "/staff/admin/calendar",
        title: "工作日历",
        what: "查看已载入哪些年份的法定工作日历，更新日历文件后重新载入。",
    },
];

#[derive(Template)]
#[template(path = "console/admin/index.html")]
struct IndexPage {
    shell: Shell,
    sections: &'static [Section],
}

/// `GET /staff/admin`: the administration pages, each with a line on what it is for.
///
/// Errors: 403 page unless the user may administer.
async fn index(desk: Desk) -> Result<HttpResponse, PageError> {
    admin(&desk)?;
    let page = IndexPage {
        shell: desk.shell(AREA, "管理"),
        sections: &SECTIONS,
    };
    Ok(page::render(actix_web::http::StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_messages_are_chinese_and_say_what_to_do() {
        let short = FieldViolation::new("password", ErrorCode::TooShort, "too short");
        assert!(field_message(&short).contains(&MIN_PASSWORD_CHARS.to_string()));
        let line = FieldViolation::new("line 5", ErrorCode::NotUnderParent, "x");
        assert_eq!(
            field_message(&line),
            format!("第5行有误：{}", zh::problem(ErrorCode::NotUnderParent))
        );
        let own = FieldViolation::new("x", ErrorCode::Invalid, "x").zh("自己的话");
        assert_eq!(field_message(&own), "自己的话");
    }

    #[test]
    fn self_lockout_is_said_at_the_top() {
        let e = ApiError::validation(vec![FieldViolation::new(
            "active",
            ErrorCode::SelfLockout,
            "no",
        )]);
        let r = refusal(&e);
        assert_eq!(r.message, zh::problem(ErrorCode::SelfLockout));
        assert_eq!(r.status, 422);
        let r = also_beside(r, "active", "roles");
        assert_eq!(r.field("roles"), Some(zh::problem(ErrorCode::SelfLockout)));
    }

    #[test]
    fn every_role_has_a_label() {
        for role in Role::ALL {
            assert_ne!(role_label(role.as_str()), "未知角色");
        }
    }
}
