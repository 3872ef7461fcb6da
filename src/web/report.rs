//! `/report`: the report form and its POST, which answers with the receipt page.
//!
//! The township → village choice is one `<select>` of villages grouped by township
//! (`<optgroup label="乡镇">`). An option's value is `TOWNSHIP:VILLAGE`, so one choice gives
//! both codes and works without JavaScript; validation still checks that the village lies in
//! the township, so a tampered value gets the same clear message as any other mistake.
//!
//! Each rendered form carries an idempotency key (`web-<uuid>`): if the browser sends the same
//! form twice (a double tap, a reload of the receipt page), the second answer is the same
//! receipt, not a second report.

use std::collections::HashMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{web, HttpMessage, HttpRequest, HttpResponse};
use askama::Template;

use super::form::{self, PostedForm, ReadError};
use super::{csrf, zh};
use crate::db;
use crate::divisions;
use crate::domain::report::{
    AccusedPerson, Misconduct, Programme, RawReporter, RawSubmission, DESCRIPTION_MAX,
    DESCRIPTION_MIN,
};
use crate::error::{ApiError, FieldError};
use crate::reports::submit::{self, Idempotency, Receipt, SubmitError};
use crate::reports::ReportsState;

/// Rows for people accused on the form. More can follow in messages.
pub const ACCUSED_ROWS: usize = 3;

/// What the reporter typed, kept to fill the form again. No `Debug`: it holds an ID number.
#[derive(Default, Clone)]
pub struct Values {
    pub programme: String,
    pub misconduct: Vec<String>,
    /// `TOWNSHIP:VILLAGE`
    pub place: String,
    /// (name, position) per row.
    pub accused: Vec<(String, String)>,
    pub description: String,
    pub occurred_from: String,
    pub occurred_to: String,
    /// `true`, `false` or empty.
    pub anonymous: String,
    pub name: String,
    pub id_number: String,
    pub phone: String,
    pub email: String,
    pub address: String,
    pub idempotency_key: String,
}

fn non_empty(s: &str) -> Option<String> {
    let s = form::trim(s);
    (!s.is_empty()).then(|| s.to_string())
}

fn new_idempotency_key() -> String {
    format!("web-{}", uuid::Uuid::new_v4().simple())
}

fn valid_idempotency_key(key: &str) -> bool {
    key.strip_prefix("web-")
        .is_some_and(|k| k.len() == 32 && k.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl Values {
    pub fn blank() -> Values {
        Values {
            accused: vec![(String::new(), String::new()); ACCUSED_ROWS],
            idempotency_key: new_idempotency_key(),
            ..Values::default()
        }
    }

    pub fn from_form(form: &PostedForm) -> Values {
        let names = form.all("accused_name");
        let positions = form.all("accused_position");
        let accused = (0..ACCUSED_ROWS)
            .map(|i| {
                (
                    names.get(i).cloned().unwrap_or_default(),
                    positions.get(i).cloned().unwrap_or_default(),
                )
            })
            .collect();
        let key = form.text("idempotency_key");
        Values {
            programme: form.text("programme"),
            misconduct: form.all("misconduct"),
            place: form.text("place"),
            accused,
            description: form.text("description"),
            occurred_from: form.text("occurred_from"),
            occurred_to: form.text("occurred_to"),
            anonymous: form.text("anonymous"),
            name: form.text("reporter_name"),
            id_number: form.text("reporter_id_number"),
            phone: form.text("reporter_phone"),
            email: form.text("reporter_email"),
            address: form.text("reporter_address"),
            idempotency_key: if valid_idempotency_key(&key) {
                key
            } else {
                new_idempotency_key()
            },
        }
    }

    /// The submission, and for each accused person the form row (0-based) it came from.
    pub fn to_raw(&self) -> (RawSubmission, Vec<usize>) {
        let (township, village) = match form::trim(&self.place).split_once(':') {
            Some((t, v)) => (non_empty(t), non_empty(v)),
            None => (None, non_empty(&self.place)),
        };
        let mut rows = Vec::new();
        let mut accused = Vec::new();
        for (i, (name, position)) in self.accused.iter().enumerate() {
            if non_empty(name).is_some() || non_empty(position).is_some() {
                rows.push(i);
                accused.push(AccusedPerson {
                    name: form::trim(name).to_string(),
                    position: non_empty(position),
                });
            }
        }
        let anonymous = match self.anonymous.as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        };
        let identity = [
            &self.name,
            &self.id_number,
            &self.phone,
            &self.email,
            &self.address,
        ];
        let typed_identity = identity.iter().any(|v| non_empty(v).is_some());
        // A real-name report sends every identity field, so each one gets its own message; an
        // anonymous one sends identity only if some was typed, which validation then refuses
        // (must_be_empty) rather than silently dropping it.
        let reporter = (anonymous == Some(false) || typed_identity).then(|| RawReporter {
            name: non_empty(&self.name),
            id_number: non_empty(&self.id_number),
            phone: non_empty(&self.phone),
            email: non_empty(&self.email),
            address: non_empty(&self.address),
        });
        let raw = RawSubmission {
            programme: non_empty(&self.programme),
            misconduct: Some(
                self.misconduct
                    .iter()
                    .map(|m| form::trim(m).to_string())
                    .collect(),
            ),
            township_code: township,
            village_code: village,
            accused,
            description: Some(self.description.clone()),
            occurred_from: non_empty(&self.occurred_from),
            occurred_to: non_empty(&self.occurred_to),
            anonymous,
            reporter,
            channel: None,
        };
        (raw, rows)
    }

    /// The form as sent, for the idempotency fingerprint (hashed, never stored as is).
    fn canonical(&self) -> Vec<u8> {
        serde_json::json!({
            "programme": self.programme,
            "misconduct": self.misconduct,
            "place": self.place,
            "accused": self.accused,
            "description": self.description,
            "occurred_from": self.occurred_from,
            "occurred_to": self.occurred_to,
            "anonymous": self.anonymous,
            "reporter": [&self.name, &self.id_number, &self.phone, &self.email, &self.address],
        })
        .to_string()
        .into_bytes()
    }
}

/// The form's name for an API field, and the label the error summary uses for it.
fn form_key(field: &str, accused_rows: &[usize]) -> (String, String) {
    let simple = |key: &str, label: &str| (key.to_string(), label.to_string());
    if let Some(rest) = field.strip_prefix("accused[") {
        let index: Option<usize> = rest.split(']').next().and_then(|i| i.parse().ok());
        if let Some(row) = index.and_then(|i| accused_rows.get(i)) {
            return (
                format!("accused-{}", row + 1),
                format!("第{}名被举报人", row + 1),
            );
        }
        return simple("accused", "被举报人");
    }
    match field.split('[').next().unwrap_or(field) {
        "programme" => simple("programme", "举报涉及的工作"),
        "misconduct" => simple("misconduct", "问题类型"),
        "township_code" | "village_code" => simple("place", "发生地点"),
        "accused" => simple("accused", "被举报人"),
        "description" => simple("description", "事情经过"),
        "occurred_from" => simple("occurred_from", "开始日期"),
        "occurred_to" => simple("occurred_to", "结束日期"),
        "anonymous" => simple("anonymous", "匿名或实名"),
        "reporter" => simple("reporter", "实名举报人信息"),
        "reporter.name" => simple("reporter_name", "姓名"),
        "reporter.id_number" => simple("reporter_id_number", "身份证号"),
        "reporter.phone" => simple("reporter_phone", "手机号"),
        "reporter.email" => simple("reporter_email", "邮箱"),
        "reporter.address" => simple("reporter_address", "地址"),
        "files" => simple("files", "证据材料"),
        _ => simple("form", "表单"),
    }
}

/// The order fields appear in on the page, for the summary; and where each one's link goes.
const FIELD_ORDER: &[(&str, &str)] = &[
    ("programme", "programme"),
    ("misconduct", "misconduct"),
    ("place", "place"),
    ("accused", "accused"),
    ("accused-1", "accused-1-name"),
    ("accused-2", "accused-2-name"),
    ("accused-3", "accused-3-name"),
    ("description", "description"),
    ("occurred_from", "occurred_from"),
    ("occurred_to", "occurred_to"),
    ("anonymous", "anonymous"),
    ("reporter", "reporter"),
    ("reporter_name", "reporter_name"),
    ("reporter_id_number", "reporter_id_number"),
    ("reporter_phone", "reporter_phone"),
    ("reporter_email", "reporter_email"),
    ("reporter_address", "reporter_address"),
    ("files", "files"),
];

/// Field errors in Chinese, by form key; the first error of a field wins.
#[derive(Default)]
pub struct Errors {
    by_key: HashMap<String, (String, String)>,
    general: Option<String>,
}

impl Errors {
    pub fn from_fields(errors: &[FieldError], accused_rows: &[usize]) -> Errors {
        let mut out = Errors::default();
        for e in errors {
            let (key, label) = form_key(&e.field, accused_rows);
            let message = e.message_zh.clone();
            if key == "form" {
                out.general.get_or_insert(message);
            } else {
                out.by_key.entry(key).or_insert((label, message));
            }
        }
        out
    }

    pub fn set(&mut self, key: &str, label: &str, message: String) {
        self.by_key
            .insert(key.to_string(), (label.to_string(), message));
    }

    fn get(&self, key: &str) -> Option<String> {
        self.by_key.get(key).map(|(_, m)| m.clone())
    }

    fn summary(&self) -> Vec<SummaryItem> {
        let mut items: Vec<SummaryItem> = FIELD_ORDER
            .iter()
            .filter_map(|(key, anchor)| {
                self.by_key.get(*key).map(|(label, message)| SummaryItem {
                    anchor: anchor.to_string(),
                    text: format!("{label}：{message}"),
                })
            })
            .collect();
        if let Some(general) = &self.general {
            items.push(SummaryItem {
                anchor: "programme".into(),
                text: general.clone(),
            });
        }
        items
    }
}

pub struct Choice {
    pub id: String,
    pub value: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct PlaceGroup {
    pub label: String,
    pub options: Vec<PlaceOption>,
}

pub struct PlaceOption {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct AccusedRow {
    pub n: usize,
    pub name: String,
    pub position: String,
    pub error: Option<String>,
}

pub struct Text {
    pub value: String,
    pub error: Option<String>,
}

pub struct SummaryItem {
    pub anchor: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "web/report.html")]
pub struct ReportPage {
    csrf_token: String,
    idempotency_key: String,
    summary: Vec<SummaryItem>,
    notice: Option<String>,
    files_dropped: bool,
    programmes: Vec<Choice>,
    programme_error: Option<String>,
    misconducts: Vec<Choice>,
    misconduct_error: Option<String>,
    places: Vec<PlaceGroup>,
    place_error: Option<String>,
    accused: Vec<AccusedRow>,
    accused_error: Option<String>,
    description: Text,
    occurred_from: Text,
    occurred_to: Text,
    anonymous_yes: bool,
    anonymous_no: bool,
    anonymous_error: Option<String>,
    reporter_error: Option<String>,
    name: Text,
    id_number: Text,
    phone: Text,
    email: Text,
    address: Text,
    files_error: Option<String>,
    max_files: usize,
    max_mb: u64,
    description_min: usize,
    description_max: usize,
    acknowledge_days: u32,
}

/// Villages grouped by township, for the one `<select>`.
async fn load_places(state: &ReportsState) -> Result<Vec<PlaceGroup>, ApiError> {
    db::run(&state.pool, |conn| {
        let counties = divisions::children(conn, None)?;
        let several = counties.len() > 1;
        let mut groups = Vec::new();
        for county in counties {
            for township in divisions::children(conn, Some(&county.code))? {
                if township.level != "township" {
                    continue;
                }
                let options: Vec<PlaceOption> = divisions::children(conn, Some(&township.code))?
                    .into_iter()
                    .filter(|v| v.level == "village")
                    .map(|v| PlaceOption {
                        value: format!("{}:{}", township.code, v.code),
                        label: v.name,
                        selected: false,
                    })
                    .collect();
                if options.is_empty() {
                    continue;
                }
                groups.push(PlaceGroup {
                    label: if several {
                        format!("{} {}", county.name, township.name)
                    } else {
                        township.name
                    },
                    options,
                });
            }
        }
        Ok(groups)
    })
    .await
}

fn text(value: &str, errors: &Errors, key: &str) -> Text {
    Text {
        value: value.to_string(),
        error: errors.get(key),
    }
}

fn page(
    state: &ReportsState,
    csrf_token: String,
    values: &Values,
    errors: &Errors,
    mut places: Vec<PlaceGroup>,
    files_dropped: bool,
    notice: Option<String>,
) -> ReportPage {
    for group in &mut places {
        for option in &mut group.options {
            option.selected = option.value == values.place;
        }
    }
    let programmes = Programme::ALL
        .iter()
        .map(|p| Choice {
            id: format!("programme-{}", p.as_str()),
            value: p.as_str(),
            label: match p {
                Programme::Dibao => "低保（农村最低生活保障）",
                Programme::HouseRenovation => "农村危旧土坯房改造补助",
                Programme::PovertyIdentification => "扶贫对象识别（建档立卡贫困户认定）",
                Programme::Other => "其他",
            },
            checked: values.programme == p.as_str(),
        })
        .collect();
    let misconducts = Misconduct::ALL
        .iter()
        .map(|m| Choice {
            id: format!("misconduct-{}", m.as_str()),
            value: m.as_str(),
            label: match m {
                Misconduct::Favouritism => "优亲厚友（照顾亲戚朋友）",
                Misconduct::BlackBox => "暗箱操作（不公开、不公示）",
                Misconduct::ImproperProcedure => "程序不到位（没有评议、审核或公示）",
                Misconduct::FalseClaim => "虚报冒领",
                Misconduct::Embezzlement => "贪污挪用",
                Misconduct::Other => "其他问题",
            },
            checked: values.misconduct.iter().any(|v| v == m.as_str()),
        })
        .collect();
    let accused = values
        .accused
        .iter()
        .enumerate()
        .map(|(i, (name, position))| AccusedRow {
            n: i + 1,
            name: name.clone(),
            position: position.clone(),
            error: errors.get(&format!("accused-{}", i + 1)),
        })
        .collect();
    let settings = &state.settings;
    ReportPage {
        csrf_token,
        idempotency_key: values.idempotency_key.clone(),
        summary: errors.summary(),
        notice,
        files_dropped,
        programmes,
        programme_error: errors.get("programme"),
        misconducts,
        misconduct_error: errors.get("misconduct"),
        places,
        place_error: errors.get("place"),
        accused,
        accused_error: errors.get("accused"),
        description: text(&values.description, errors, "description"),
        occurred_from: text(&values.occurred_from, errors, "occurred_from"),
        occurred_to: text(&values.occurred_to, errors, "occurred_to"),
        anonymous_yes: values.anonymous == "true",
        anonymous_no: values.anonymous == "false",
        anonymous_error: errors.get("anonymous"),
        reporter_error: errors.get("reporter"),
        name: text(&values.name, errors, "reporter_name"),
        id_number: text(&values.id_number, errors, "reporter_id_number"),
        phone: text(&values.phone, errors, "reporter_phone"),
        email: text(&values.email, errors, "reporter_email"),
        address: text(&values.address, errors, "reporter_address"),
        files_error: errors.get("files"),
        max_files: settings.max_attachments,
        max_mb: (settings.max_attachment_bytes / (1024 * 1024)).max(1),
        description_min: DESCRIPTION_MIN,
        description_max: DESCRIPTION_MAX,
        acknowledge_days: settings.acknowledge_working_days,
    }
}

/// Renders the form (again) with what was typed, the errors and a fresh CSRF token.
#[allow(clippy::too_many_arguments)]
async fn form_response(
    req: &HttpRequest,
    state: &ReportsState,
    status: StatusCode,
    values: &Values,
    errors: &Errors,
    files_dropped: bool,
    notice: Option<String>,
) -> HttpResponse {
    let places = match load_places(state).await {
        Ok(p) => p,
        Err(e) => return super::server_error(&e, "/report"),
    };
    let (token, cookie) = super::csrf_for(req, state);
    let mut response = super::render(
        status,
        &page(state, token, values, errors, places, files_dropped, notice),
    );
    let _ = response.add_cookie(&cookie);
    response
}

pub async fn form_page(req: HttpRequest, state: web::Data<ReportsState>) -> HttpResponse {
    form_response(
        &req,
        &state,
        StatusCode::OK,
        &Values::blank(),
        &Errors::default(),
        false,
        None,
    )
    .await
}

#[derive(Template)]
#[template(path = "web/receipt.html")]
struct ReceiptPage {
    report_number: String,
    receipt_code: String,
    triage_due: String,
    acknowledge_by: Option<String>,
}

fn receipt_page(receipt: &Receipt) -> HttpResponse {
    super::render(
        StatusCode::OK,
        &ReceiptPage {
            report_number: receipt.report_number.clone(),
            receipt_code: receipt.receipt_code.clone(),
            triage_due: zh::date(receipt.triage_due),
            acknowledge_by: receipt.acknowledge_by.map(zh::date),
        },
    )
}

pub async fn submit_form(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<ReportsState>,
) -> HttpResponse {
    if csrf::check_request(&req).is_err() {
        return super::csrf_refused("/report");
    }
    if let Err(e) = state.submit_limit.check(super::peer(&req)) {
        return super::rate_limited(&e, "/report");
    }
    if req.content_type() != "multipart/form-data" {
        return super::error_page(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "无法读取提交的内容",
            "请从举报页面填写并提交。",
            "/report",
            "打开举报页面",
        );
    }
    let multipart = Multipart::new(req.headers(), payload.into_inner());
    let cookie = csrf::cookie_nonce(&req);
    let posted = match form::read(&state, multipart, cookie.as_deref(), super::now(&state)).await {
        Ok(posted) => posted,
        Err(ReadError::Csrf(_)) => return super::csrf_refused("/report"),
        Err(ReadError::TooMuchText) => {
            return super::error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "提交的内容太长",
                "提交的文字超过了允许的长度，举报没有提交。请删减后重新填写。",
                "/report",
                "重新填写",
            )
        }
        Err(ReadError::Malformed) => {
            return super::error_page(
                StatusCode::BAD_REQUEST,
                "提交中断了",
                "提交的内容没有完整收到，举报没有提交。请检查网络后重新填写提交。",
                "/report",
                "重新填写",
            )
        }
    };
    let values = Values::from_form(&posted);
    if let Some(problem) = &posted.file_problem {
        let mut errors = Errors::default();
        errors.set("files", "证据材料", problem.message_zh());
        return form_response(&req, &state, problem.status(), &values, &errors, true, None).await;
    }
    let files_chosen = posted.files_chosen;
    let files = posted.files;
    let (raw, accused_rows) = values.to_raw();
    let idempotency = Some(Idempotency {
        fingerprint: submit::request_fingerprint(&values.canonical(), &files),
        key: values.idempotency_key.clone(),
    });
    match submit::submit(&state, raw, files, idempotency, None).await {
        Ok(receipt) => receipt_page(&receipt),
        Err(SubmitError::Invalid(violations)) => {
            let errors = Errors::from_fields(&violations, &accused_rows);
            form_response(
                &req,
                &state,
                StatusCode::UNPROCESSABLE_ENTITY,
                &values,
                &errors,
                files_chosen,
                None,
            )
            .await
        }
        Err(SubmitError::IdempotencyKeyReused) => {
            // The same form was already submitted with different content: this is a new report.
            let fresh = Values {
                idempotency_key: new_idempotency_key(),
                ..values
            };
            form_response(
                &req,
                &state,
                StatusCode::CONFLICT,
                &fresh,
                &Errors::default(),
                files_chosen,
                Some(
                    "这个页面上的举报已经提交过了。如果要补充刚才的举报，请用回执码进入“查询进展”补充；\
                     如果要举报另一件事，请核对下面的内容后再次提交，这将作为一件新的举报。"
                        .into(),
                ),
            )
            .await
        }
        Err(e) => super::server_error(&ApiError::from(e), "/report"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Values {
        Values {
            programme: "dibao".into(),
            misconduct: vec!["favouritism".into()],
            place: "360734100:360734100201".into(),
            accused: vec![
                (String::new(), String::new()),
                ("张某某".into(), "村支书".into()),
                (String::new(), "会计".into()),
            ],
            description: "x".repeat(30),
            anonymous: "true".into(),
            idempotency_key: new_idempotency_key(),
            ..Values::default()
        }
    }

    #[test]
    fn one_choice_gives_both_codes_and_blank_rows_are_skipped() {
        let (raw, rows) = values().to_raw();
        assert_eq!(raw.township_code.as_deref(), Some("360734100"));
        assert_eq!(raw.village_code.as_deref(), Some("360734100201"));
        assert_eq!(raw.accused.len(), 2);
        assert_eq!(rows, vec![1, 2]);
        assert!(raw.reporter.is_none());
        assert_eq!(raw.anonymous, Some(true));
    }

    #[test]
    fn errors_land_on_the_row_and_field_the_reporter_sees() {
        let (_, rows) = values().to_raw();
        // The violations as the rules give them: a 51-character name, a village elsewhere, a
        // wrong check digit, an unknown misconduct type.
        let mut raw = values().to_raw().0;
        raw.accused[1].name = "张".repeat(crate::domain::report::NAME_MAX + 1);
        raw.misconduct = Some(vec!["no_such_type".into()]);
        raw.anonymous = Some(false);
        raw.reporter = Some(crate::domain::report::RawReporter {
            name: Some("王某".into()),
            id_number: Some("110105194912310020".into()),
            phone: Some("13800138000".into()),
            email: None,
            address: None,
        });
        let facts = crate::domain::report::DivisionFacts {
            township_exists: true,
            village_parent: Some(Some("360734999".into())),
        };
        let today = "2026-11-29".parse().unwrap();
        let violations = crate::domain::report::validate(&raw, today, &facts).unwrap_err();
        let errors = Errors::from_fields(&violations, &rows);
        assert!(errors.get("accused-3").unwrap().contains("姓名"));
        assert!(errors.get("place").unwrap().contains("不属于"));
        assert!(errors.get("reporter_id_number").unwrap().contains("校验码"));
        assert!(errors.get("misconduct").is_some());
        let summary = errors.summary();
        assert_eq!(summary[0].anchor, "misconduct");
        assert_eq!(summary[1].anchor, "place");
        assert_eq!(summary[2].anchor, "accused-3-name");
        assert_eq!(summary[3].anchor, "reporter_id_number");
    }

    #[test]
    fn identity_typed_on_an_anonymous_report_is_refused_not_dropped() {
        let mut v = values();
        v.id_number = "11010519491231002X".into();
        let (raw, _) = v.to_raw();
        assert!(raw.reporter.is_some());
        v.anonymous = "false".into();
        v.id_number.clear();
        let (raw, _) = v.to_raw();
        let reporter = raw.reporter.expect("real-name sends identity");
        assert!(reporter.name.is_none() && reporter.id_number.is_none());
    }

    #[test]
    fn only_our_own_idempotency_keys_are_kept() {
        assert!(valid_idempotency_key(&new_idempotency_key()));
        assert!(!valid_idempotency_key("web-xyz"));
        assert!(!valid_idempotency_key(&format!("api-{}", "0".repeat(32))));
    }
}
