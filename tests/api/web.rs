//! The public web pages over HTTP, on every backend: what renders, what the forms accept and
//! refuse, CSRF, rate limits, the follow-up session. And `trials()`: the reporter's whole
//! journey in a real headless Chromium (SQLite only), which also takes the screenshots in
//! docs/screenshots/.

use diesel::prelude::*;
use probity::db::schema::{attachments, report_messages, reports};
use probity::db::Backend;
use probity::domain::roles::Role;
use reqwest::multipart::{Form, Part};
use reqwest::Response;

use crate::helpers::{app, captured_logs, spawn_app, TestApp};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        pages_are_chinese_labelled_and_load_nothing_from_elsewhere,
        a_real_name_report_through_the_form_gets_its_receipt_page,
        an_anonymous_report_with_evidence_and_a_resubmission_gets_the_same_receipt,
        validation_errors_are_chinese_beside_their_fields_and_input_is_kept,
        refused_files_come_back_on_the_form_in_chinese,
        forms_refuse_cross_site_and_tokenless_posts,
        follow_up_opens_with_the_code_shows_the_thread_and_takes_replies,
        a_wrong_code_gets_one_message_whatever_was_wrong,
        bursts_get_a_chinese_429_page,
    ]
}

// ---------- fixtures ----------

/// Townships and villages of the demo county (names from the speech; codes partly
/// illustrative), inserted directly.
const PLACES: &[crate::helpers::DivisionRow] = &[
    ("360734", "寻乌县", "county", None),
    ("360734100", "长宁镇", "township", Some("360734")),
    ("360734106", "桂竹帽镇", "township", Some("360734")),
    ("360734107", "文峰乡", "township", Some("360734")),
    ("360734100201", "城北村", "village", Some("360734100")),
    ("360734106201", "上坪村", "village", Some("360734106")),
    ("360734106202", "焦子坝村", "village", Some("360734106")),
    ("360734107201", "杨梅村", "village", Some("360734107")),
];

pub async fn seed_places(app: &TestApp) {
    app.insert_divisions(PLACES).await;
}

/// A place option: township and village of 上坪村.
pub const SHANGPING: &str = "360734106:360734106201";

/// An 18-character ID number with a correct GB 11643 check digit.
pub fn id_number(first17: &str) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .chars()
        .zip(WEIGHTS)
        .map(|(c, w)| c.to_digit(10).unwrap() * w)
        .sum();
    let check = b"10X98765432"[(sum % 11) as usize] as char;
    format!("{first17}{check}")
}

/// A wrong check digit for the same 17 digits.
pub fn bad_id_number(first17: &str) -> String {
    let good = id_number(first17);
    let last = if good.ends_with('0') { '1' } else { '0' };
    format!("{first17}{last}")
}

/// A valid 1×1 PNG (evidence is parsed to remove metadata, so a broken one is refused).
pub const PNG: &[u8] = &[
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x44, 0x41, 0x54, 0x78, 0xDA, 0x63, 0xF8, 0xCF, 0xC0, 0xF0,
    0x1F, 0x00, 0x05, 0x00, 0x01, 0xFF, 0x56, 0xC7, 0x2F, 0x0D, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
];

/// A minimal valid PDF (with its cross-reference table): evidence is parsed to remove metadata.
pub const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n2 0 obj\n<</Type/Pages/Kids[]/Count 0>>\nendobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000054 00000 n \ntrailer\n<</Size 3/Root 1 0 R>>\nstartxref\n100\n%%EOF\n";

/// The value of the first `<input name="NAME" … value="…">` (or `id`) in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html
        .find(&format!("name=\"{name}\""))
        .or_else(|| html.find(&format!("id=\"{name}\"")))?;
    let tag_start = html[..at].rfind('<')?;
    let tag_end = at + html[at..].find('>')?;
    let tag = &html[tag_start..tag_end];
    let v = tag.find("value=\"")? + 7;
    let end = v + tag[v..].find('"')?;
    Some(unescape(&tag[v..end]))
}

/// The text of the element with `id="ID"` (up to its first `<`).
pub fn text_of(html: &str, id: &str) -> Option<String> {
    let at = html.find(&format!("id=\"{id}\""))?;
    let start = at + html[at..].find('>')? + 1;
    let end = start + html[start..].find('<')?;
    Some(unescape(html[start..end].trim()))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// `name=value` of each `Set-Cookie` naming `name`, with its attributes.
pub fn set_cookie(response: &Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_string)
}

pub fn cookie_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_string()
}

fn content_type(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// A page with a form: its HTML, the CSRF token in it and the cookie that goes with it.
pub struct FormPage {
    pub html: String,
    pub token: String,
    pub cookie: String,
}

impl FormPage {
    /// GETs a page (sending `cookies`) and reads its CSRF token and cookie.
    pub async fn open(app: &TestApp, path: &str, cookies: &[&str]) -> FormPage {
        let mut request = app.client.get(app.url(path));
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        let csrf = set_cookie(&response, "probity_csrf").expect("the page sets the CSRF cookie");
        assert!(csrf.contains("HttpOnly"), "{csrf}");
        assert!(csrf.contains("SameSite=Strict"), "{csrf}");
        let html = response.text().await.unwrap();
        let token = input_value(&html, "csrf_token").expect("the form has a CSRF token");
        FormPage {
            html,
            token,
            cookie: cookie_pair(&csrf),
        }
    }

    pub fn idempotency_key(&self) -> String {
        input_value(&self.html, "idempotency_key").unwrap()
    }
}

/// The report form's fields, as a browser would send them.
#[derive(Clone)]
pub struct Fields(pub Vec<(&'static str, String)>);

impl Fields {
    pub fn real_name(id: &str) -> Fields {
        let mut f = Fields::anonymous();
        f.set("anonymous", "false");
        f.0.extend([
            ("reporter_name", "李某".to_string()),
            ("reporter_id_number", id.to_string()),
            ("reporter_phone", "13800138000".to_string()),
            ("reporter_email", String::new()),
            ("reporter_address", "桂竹帽镇上坪村三组".to_string()),
        ]);
        f
    }

    pub fn anonymous() -> Fields {
        Fields(vec![
            ("programme", "dibao".into()),
            ("misconduct", "favouritism".into()),
            ("misconduct", "black_box".into()),
            ("place", SHANGPING.into()),
            ("accused_name", "张某某".into()),
            ("accused_position", "村支书".into()),
            ("accused_name", String::new()),
            ("accused_position", String::new()),
            ("accused_name", String::new()),
            ("accused_position", String::new()),
            (
                "description",
                "村支书把低保名额给了自己的亲戚，评议会没有公示，群众意见很大。".into(),
            ),
            ("occurred_from", "2026-03-01".into()),
            ("occurred_to", "2026-05-31".into()),
            ("anonymous", "true".into()),
        ])
    }

    pub fn set(&mut self, name: &'static str, value: &str) {
        for (n, v) in self.0.iter_mut() {
            if *n == name {
                *v = value.to_string();
                return;
            }
        }
        self.0.push((name, value.to_string()));
    }

    fn form(&self, page: &FormPage, key: Option<&str>) -> Form {
        let mut form = Form::new().text("csrf_token", page.token.clone()).text(
            "idempotency_key",
            key.map(str::to_string)
                .unwrap_or_else(|| page.idempotency_key()),
        );
        for (name, value) in &self.0 {
            form = form.text(*name, value.clone());
        }
        form
    }
}

/// POSTs the report form with files (name, bytes).
pub async fn post_report(
    app: &TestApp,
    page: &FormPage,
    fields: &Fields,
    files: &[(&str, &[u8])],
    key: Option<&str>,
) -> Response {
    let mut form = fields.form(page, key);
    if files.is_empty() {
        // What a browser sends for an empty file input.
        form = form.part("files", Part::bytes(Vec::new()).file_name(""));
    }
    for (name, bytes) in files {
        form = form.part(
            "files",
            Part::bytes(bytes.to_vec()).file_name(name.to_string()),
        );
    }
    app.client
        .post(app.url("/report"))
        .header("cookie", &page.cookie)
        .header("origin", &app.address)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Reads the report number and receipt code off a receipt page.
pub fn receipt(html: &str) -> (String, String) {
    (
        text_of(html, "report-number").expect("report number on the receipt page"),
        text_of(html, "receipt-code").expect("receipt code on the receipt page"),
    )
}

async fn count_reports(app: &TestApp) -> i64 {
    app.db(|conn| reports::table.count().get_result(conn).unwrap())
        .await
}

// ---------- tests ----------

async fn pages_are_chinese_labelled_and_load_nothing_from_elsewhere(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    for path in ["/", "/report", "/follow-up"] {
        let response = app.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(content_type(&response), "text/html; charset=utf-8");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(csp.contains("default-src 'self'") && csp.contains("form-action 'self'"));
        assert_eq!(response.headers()["cache-control"], "no-store", "{path}");
        let html = response.text().await.unwrap();
        assert!(html.starts_with("<!DOCTYPE html>"), "{path}");
        // Light enough for a poor connection.
        assert!(html.len() < 24_000, "{path} is {} bytes", html.len());
        assert!(html.contains("<html lang=\"zh-CN\">"), "{path}");
        assert!(html.contains("name=\"viewport\""), "{path}");
        assert!(
            html.contains("<link rel=\"stylesheet\" href=\"/static/probity.css\">"),
            "{path}"
        );
        // Nothing from another site: no absolute URLs, no protocol-relative ones, no inline
        // script or handlers (the CSP would block them anyway).
        for needle in [
            "http://", "https://", "=\"//", "<script>", "onclick", "onload",
        ] {
            assert!(!html.contains(needle), "{path} contains {needle}");
        }
    }

    let index = app.get("/").await.text().await.unwrap();
    for words in [
        "县纪委",
        "低保",
        "农村危旧土坯房改造",
        "扶贫对象识别",
        "5个工作日内",
        "15个工作日内",
        "加密保存",
        "不记录您的 IP 地址",
        "回执码是查看您的举报的唯一钥匙",
        "经过领导批准",
    ] {
        assert!(index.contains(words), "the index page says {words}");
    }

    let form = app.get("/report").await.text().await.unwrap();
    // Every visible control has a label pointing at it.
    let mut controls = 0;
    for tag in form.split('<').skip(1) {
        let is_control =
            tag.starts_with("input ") || tag.starts_with("select ") || tag.starts_with("textarea ");
        if !is_control || tag.contains("type=\"hidden\"") {
            continue;
        }
        controls += 1;
        let id = tag
            .split("id=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or_else(|| panic!("a control without an id: <{tag}"));
        assert!(
            form.contains(&format!("<label for=\"{id}\"")),
            "no <label for=\"{id}\">"
        );
    }
    assert!(controls >= 25, "the form has its controls ({controls})");
    for words in [
        "低保",
        "优亲厚友",
        "暗箱操作",
        "程序不到位",
        "匿名举报",
        "实名举报",
        "身份证号",
    ] {
        assert!(form.contains(words), "the form offers {words}");
    }
    // Villages grouped by township; one value carries both codes.
    assert!(form.contains("<optgroup label=\"桂竹帽镇\">"));
    assert!(form.contains(&format!(
        "<option value=\"{SHANGPING}\">桂竹帽镇 上坪村</option>"
    )));
    assert!(form.contains("enctype=\"multipart/form-data\""));
    assert!(form.contains("type=\"file\" name=\"files\" id=\"files\" multiple"));

    let css = app.get("/static/probity.css").await;
    assert_eq!(css.status(), 200);
    assert_eq!(content_type(&css), "text/css; charset=utf-8");
    assert!(css.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let css = css.text().await.unwrap();
    assert!(css.len() < 8_000, "the stylesheet is {} bytes", css.len());
    assert!(css.contains("@media print"));
    assert!(!css.contains("@font-face") && !css.contains("url("));
    let js = app.get("/static/print.js").await;
    assert_eq!(content_type(&js), "text/javascript; charset=utf-8");
}

async fn a_real_name_report_through_the_form_gets_its_receipt_page(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let id = id_number("36073419800101123");
    let response = post_report(&app, &page, &Fields::real_name(&id), &[], None).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers().get("location").is_none(),
        "no redirect: the code never goes into a URL"
    );
    assert_eq!(response.headers()["cache-control"], "no-store");
    let html = response.text().await.unwrap();
    let (number, code) = receipt(&html);
    assert!(number.starts_with("JB-"), "{number}");
    assert_eq!(code.len(), 19, "16 digits in groups of four: {code}");
    assert!(html.contains("请抄写或打印保存"));
    assert!(html.contains("无法找回"));
    assert!(
        html.contains("实名举报，县纪委将在"),
        "acknowledge_by is shown"
    );
    assert!(html.contains("之前决定受理"), "triage_due is shown");
    assert!(html.contains("<script src=\"/static/print.js\" defer></script>"));
    assert!(
        html.contains("data-print hidden"),
        "the JS print button starts hidden"
    );
    assert!(!html.contains(&id), "the receipt never shows the ID number");

    let (programme, place, anonymous, stored_id): (String, String, bool, Option<Vec<u8>>) = app
        .db(|conn| {
            reports::table
                .select((
                    reports::programme,
                    reports::village_code,
                    reports::anonymous,
                    reports::reporter_id_number,
                ))
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!(programme, "dibao");
    assert_eq!(place, "360734106201");
    assert!(!anonymous);
    let sealed = stored_id.expect("the ID number is stored, encrypted");
    assert!(!String::from_utf8_lossy(&sealed).contains(&id));

    // The code opens the report.
    let session = app
        .client
        .post(app.url("/api/v1/reporter/session"))
        .json(&serde_json::json!({ "receipt_code": code }))
        .send()
        .await
        .unwrap();
    assert_eq!(session.status(), 200);
}

async fn an_anonymous_report_with_evidence_and_a_resubmission_gets_the_same_receipt(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let fields = Fields::anonymous();
    let files: &[(&str, &[u8])] = &[("照片.png", PNG), ("名单.pdf", PDF)];
    let first = post_report(&app, &page, &fields, files, None).await;
    assert_eq!(first.status(), 200);
    let first = first.text().await.unwrap();
    let (number, code) = receipt(&first);
    assert!(first.contains("您是匿名举报"));
    assert!(!first.contains("实名举报，县纪委将在"));

    // A double tap or a reload of the receipt sends the same form again: same receipt.
    let again = post_report(&app, &page, &fields, files, None).await;
    assert_eq!(again.status(), 200);
    assert_eq!(receipt(&again.text().await.unwrap()), (number, code));
    assert_eq!(count_reports(&app).await, 1);
    let kinds: Vec<String> = app
        .db(|conn| {
            attachments::table
                .select(attachments::content_type)
                .order(attachments::content_type.asc())
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(kinds, vec!["application/pdf", "image/png"]);
    let (anonymous, name): (bool, Option<Vec<u8>>) = app
        .db(|conn| {
            reports::table
                .select((reports::anonymous, reports::reporter_name))
                .first(conn)
                .unwrap()
        })
        .await;
    assert!(anonymous && name.is_none());

    // The same form with other content is a conflict, explained; nothing is written.
    let mut changed = fields.clone();
    changed.set("programme", "house_renovation");
    let conflict = post_report(&app, &page, &changed, &[], None).await;
    assert_eq!(conflict.status(), 409);
    let html = conflict.text().await.unwrap();
    assert!(html.contains("这个页面上的举报已经提交过了"));
    assert_ne!(
        input_value(&html, "idempotency_key").unwrap(),
        page.idempotency_key()
    );
    assert_eq!(count_reports(&app).await, 1);
}

async fn validation_errors_are_chinese_beside_their_fields_and_input_is_kept(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let bad_id = bad_id_number("36073419791231004");
    let marker = "门口晒谷场边第七户的事情太短";
    let mut fields = Fields::real_name(&bad_id);
    fields.set("description", marker);
    fields.set("reporter_phone", "2380013800");
    fields.set("reporter_email", "not-an-email");
    fields.set("occurred_from", "2026-06-01");
    fields.set("occurred_to", "2026-05-01");
    fields.set("place", "360734100:360734106202");
    fields.0.retain(|(n, _)| *n != "misconduct");
    let response = post_report(&app, &page, &fields, &[("a.png", PNG)], None).await;
    assert_eq!(response.status(), 422);
    assert_eq!(content_type(&response), "text/html; charset=utf-8");
    let html = response.text().await.unwrap();

    // Each message sits in its field's block, just before the control.
    let beside = |id: &str, words: &str| {
        let error = html
            .find(&format!("id=\"{id}-error\">"))
            .unwrap_or_else(|| panic!("no error for {id}"));
        // The control itself, or for a group of boxes its fieldset's first box.
        let block = html.find(&format!("id=\"{id}\"")).unwrap();
        let control = if html[block..].starts_with(&format!("id=\"{id}\" class=")) {
            block + html[block..].find("<input").unwrap()
        } else {
            block
        };
        assert!(
            error < control,
            "{id}: the message comes before its control"
        );
        let between = &html[error..control];
        assert!(
            !between.contains("</div>") && !between.contains("</fieldset>"),
            "{id}: the message sits in its field's own block"
        );
        let message = text_of(&html, &format!("{id}-error")).unwrap();
        assert!(message.contains(words), "{id}: {message}");
    };
    beside("reporter_id_number", "校验码");
    beside("reporter_phone", "11位数字");
    beside("reporter_email", "邮箱地址格式不对");
    beside("description", "至少写20个字");
    beside("occurred_to", "结束日期不能早于开始日期");
    beside("place", "不属于所选的乡镇");
    beside("misconduct", "请至少选择一种问题类型");
    assert!(html.contains("有 7 处需要修改"), "a summary counts them");
    assert!(
        html.contains("刚才选择的文件没有保存"),
        "files must be chosen again"
    );

    // What was typed is still there.
    assert_eq!(input_value(&html, "reporter_id_number").unwrap(), bad_id);
    assert_eq!(input_value(&html, "reporter_phone").unwrap(), "2380013800");
    assert_eq!(input_value(&html, "reporter_name").unwrap(), "李某");
    assert_eq!(input_value(&html, "occurred_from").unwrap(), "2026-06-01");
    assert!(html.contains(&format!(">{marker}</textarea>")));
    assert!(html.contains("id=\"programme-dibao\" value=\"dibao\" checked"));
    assert!(html.contains("id=\"anonymous-false\" value=\"false\" checked"));
    // (A tampered place cannot be kept: it is no option. The reporter chooses again.)
    assert!(!html.contains(" selected>"));
    assert!(!html.contains("misconduct-favouritism\" value=\"favouritism\" checked"));
    assert_eq!(
        input_value(&html, "idempotency_key").unwrap(),
        page.idempotency_key()
    );

    assert_eq!(count_reports(&app).await, 0);
    let files = std::fs::read_dir(app.db.dir().join("attachments"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "the refused report's file was not kept");
    let logs = captured_logs();
    assert!(!logs.contains(&bad_id), "the ID number is never logged");
    assert!(!logs.contains(marker), "the description is never logged");
    assert!(!logs.contains("2380013800"));

    // Identity typed on an anonymous report is refused, not silently dropped.
    let mut anonymous = Fields::anonymous();
    anonymous.set("reporter_id_number", &id_number("36073419800101123"));
    let response = post_report(&app, &page, &anonymous, &[], None).await;
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(text_of(&html, "reporter-error")
        .unwrap()
        .contains("您选择了匿名举报"));
    assert!(html.contains(&format!("<option value=\"{SHANGPING}\" selected>")));

    // A fixed form goes through.
    let mut fixed = Fields::real_name(&id_number("36073419791231004"));
    fixed.set(
        "description",
        &format!("{marker}，补充：评议会没有开，名单也没有公示。"),
    );
    let response = post_report(&app, &page, &fixed, &[], None).await;
    assert_eq!(response.status(), 200);
    assert_eq!(count_reports(&app).await, 1);
}

async fn refused_files_come_back_on_the_form_in_chinese(backend: Backend) {
    let app = app(backend)
        .set("reports.max_attachment_bytes", 1024)
        .spawn()
        .await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let fields = Fields::anonymous();

    let mut big = PNG.to_vec();
    big.resize(4096, 0);
    let response = post_report(&app, &page, &fields, &[("big.png", &big)], None).await;
    assert_eq!(response.status(), 413);
    assert_eq!(content_type(&response), "text/html; charset=utf-8");
    let html = response.text().await.unwrap();
    assert!(text_of(&html, "files-error").unwrap().contains("文件太大"));
    assert!(
        html.contains("村支书把低保名额给了自己的亲戚"),
        "text is kept"
    );

    let response = post_report(
        &app,
        &page,
        &fields,
        &[("a.png", PNG), ("notes.txt", b"just some text")],
        None,
    )
    .await;
    assert_eq!(response.status(), 415);
    let html = response.text().await.unwrap();
    assert!(text_of(&html, "files-error")
        .unwrap()
        .contains("不支持这种文件"));

    assert_eq!(count_reports(&app).await, 0);
    let files = std::fs::read_dir(app.db.dir().join("attachments"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "nothing is left on disk");
}

async fn forms_refuse_cross_site_and_tokenless_posts(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let other = FormPage::open(&app, "/report", &[]).await;
    let fields = Fields::anonymous();

    let refused = |response: Response| async move {
        assert_eq!(response.status(), 403);
        assert_eq!(content_type(&response), "text/html; charset=utf-8");
        let html = response.text().await.unwrap();
        assert!(html.contains("页面已过期，请重新打开"), "{html}");
    };

    // No token at all.
    let form = Form::new()
        .text("programme", "dibao")
        .part("files", Part::bytes(PNG.to_vec()).file_name("a.png"));
    let response = app
        .client
        .post(app.url("/report"))
        .header("cookie", &page.cookie)
        .multipart(form)
        .send()
        .await
        .unwrap();
    refused(response).await;
    // A token without its cookie, and a token with another page's cookie.
    for cookie in [None, Some(other.cookie.clone())] {
        let mut request = app
            .client
            .post(app.url("/report"))
            .multipart(fields.form(&page, None));
        if let Some(c) = cookie {
            request = request.header("cookie", c);
        }
        refused(request.send().await.unwrap()).await;
    }
    // A good token and cookie, sent from another site.
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
        ("origin", "http://evil.example"),
        ("origin", "null"),
    ] {
        let response = app
            .client
            .post(app.url("/report"))
            .header("cookie", &page.cookie)
            .header(name, value)
            .multipart(fields.form(&page, None))
            .send()
            .await
            .unwrap();
        refused(response).await;
    }
    assert_eq!(count_reports(&app).await, 0);
    let files = std::fs::read_dir(app.db.dir().join("attachments"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(files, 0, "no file of a refused post reaches the disk");

    // The same-origin browser post succeeds (Sec-Fetch-Site: same-origin).
    let response = app
        .client
        .post(app.url("/report"))
        .header("cookie", &page.cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(fields.form(&page, None))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    // The follow-up forms too.
    let code_page = FormPage::open(&app, "/follow-up", &[]).await;
    let response = app
        .client
        .post(app.url("/follow-up"))
        .header("cookie", &code_page.cookie)
        .form(&[("receipt_code", "1234 5678 9012 3456")])
        .send()
        .await
        .unwrap();
    refused(response).await;
    let response = app
        .client
        .post(app.url("/follow-up"))
        .header("cookie", &code_page.cookie)
        .header("origin", "http://evil.example")
        .form(&[
            ("csrf_token", code_page.token.as_str()),
            ("receipt_code", "1234 5678 9012 3456"),
        ])
        .send()
        .await
        .unwrap();
    refused(response).await;
    for path in [
        "/follow-up/messages",
        "/follow-up/objections",
        "/follow-up/sign-out",
    ] {
        let response = app
            .client
            .post(app.url(path))
            .header("cookie", &code_page.cookie)
            .form(&[("body", "hello")])
            .send()
            .await
            .unwrap();
        refused(response).await;
    }
}

async fn follow_up_opens_with_the_code_shows_the_thread_and_takes_replies(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let response = post_report(&app, &page, &Fields::anonymous(), &[("a.png", PNG)], None).await;
    let (number, code) = receipt(&response.text().await.unwrap());

    // A staff member writes to the reporter; the page must call them 县纪委, never by name.
    let staff = app
        .create_staff("wang_investigator", &[Role::Investigator], None)
        .await;
    app.db(move |conn| {
        let report_id: String = reports::table.select(reports::id).first(conn).unwrap();
        diesel::insert_into(report_messages::table)
            .values((
                report_messages::id.eq(uuid::Uuid::new_v4().to_string()),
                report_messages::report_id.eq(report_id),
                report_messages::author_kind.eq("staff"),
                report_messages::author_id.eq(Some(staff)),
                report_messages::body.eq("请问评议会是哪一天开的？"),
                report_messages::created_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;

    let code_page = FormPage::open(&app, "/follow-up", &[]).await;
    let response = app
        .client
        .post(app.url("/follow-up"))
        .header("cookie", &code_page.cookie)
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("csrf_token", code_page.token.as_str()),
            ("receipt_code", &code.replace(' ', "")),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/follow-up/report");
    let session = set_cookie(&response, "probity_reporter").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/follow-up", "Max-Age="] {
        assert!(session.contains(attribute), "{session} has {attribute}");
    }
    assert!(!session.contains("Secure"), "plain HTTP: no Secure flag");
    let session = cookie_pair(&session);

    // Over HTTPS (as a proxy reports it) the cookie is Secure.
    let https = app
        .client
        .post(app.url("/follow-up"))
        .header("cookie", &code_page.cookie)
        .header("x-forwarded-proto", "https")
        .form(&[
            ("csrf_token", code_page.token.as_str()),
            ("receipt_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert!(set_cookie(&https, "probity_reporter")
        .unwrap()
        .contains("Secure"));

    let view = FormPage::open(&app, "/follow-up/report", &[&session, &code_page.cookie]).await;
    for words in [
        number.as_str(),
        "已收到，正在登记审查",
        "5个工作日内决定受理",
        "县纪委决定受理或转办的期限",
        "低保",
        "桂竹帽镇 上坪村",
        "匿名举报",
        "请问评议会是哪一天开的？",
        "县纪委 · ",
        "图片，",
    ] {
        assert!(view.html.contains(words), "the report page shows {words}");
    }
    assert!(!view.html.contains("wang_investigator") && !view.html.contains("测试"));

    // Reply.
    let reply = "评议会是三月五日开的，只通知了村干部的亲戚。";
    let response = app
        .client
        .post(app.url("/follow-up/messages"))
        .header("cookie", format!("{session}; {}", view.cookie))
        .form(&[("csrf_token", view.token.as_str()), ("body", reply)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        "/follow-up/report?done=message#thread"
    );
    let after = FormPage::open(
        &app,
        "/follow-up/report?done=message",
        &[&session, &view.cookie],
    )
    .await;
    assert!(after.html.contains("留言已发送"));
    assert!(after
        .html
        .contains(&format!("<p class=\"body\">{reply}</p>")));
    assert!(after.html.contains("您 · "));

    // An empty reply comes back with a Chinese message.
    let response = app
        .client
        .post(app.url("/follow-up/messages"))
        .header("cookie", format!("{session}; {}", view.cookie))
        .form(&[("csrf_token", view.token.as_str()), ("body", "   ")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let html = response.text().await.unwrap();
    assert!(text_of(&html, "reply-error")
        .unwrap()
        .contains("请填写留言内容"));

    // Add evidence.
    let form = Form::new()
        .text("csrf_token", view.token.clone())
        .part("files", Part::bytes(PDF.to_vec()).file_name("补充.pdf"));
    let response = app
        .client
        .post(app.url("/follow-up/evidence"))
        .header("cookie", format!("{session}; {}", view.cookie))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let after = FormPage::open(&app, "/follow-up/report", &[&session, &view.cookie]).await;
    assert!(after.html.contains("PDF文件，"));
    let attachments: i64 = app
        .db(|conn| attachments::table.count().get_result(conn).unwrap())
        .await;
    assert_eq!(attachments, 2);

    // Sign out clears the cookie; without a session the report page sends you back.
    let response = app
        .client
        .post(app.url("/follow-up/sign-out"))
        .header("cookie", format!("{session}; {}", view.cookie))
        .form(&[("csrf_token", view.token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/follow-up?signed_out=1");
    let cleared = set_cookie(&response, "probity_reporter").unwrap();
    assert!(cleared.contains("Max-Age=0") && cleared.contains("Path=/follow-up"));
    let response = app.get("/follow-up/report").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/follow-up?expired=1");
    let forged = app
        .client
        .get(app.url("/follow-up/report"))
        .header("cookie", "probity_reporter=not.a.token")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 303);
}

async fn a_wrong_code_gets_one_message_whatever_was_wrong(backend: Backend) {
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let (_, code) = receipt(
        &post_report(&app, &page, &Fields::anonymous(), &[], None)
            .await
            .text()
            .await
            .unwrap(),
    );
    let mut wrong = code.replace(' ', "");
    let last = wrong.pop().unwrap();
    wrong.push(if last == '0' { '1' } else { '0' });

    let code_page = FormPage::open(&app, "/follow-up", &[]).await;
    let mut messages = Vec::new();
    for typed in ["", "12", "abcd efgh", "0000 0000 0000 0000", wrong.as_str()] {
        let response = app
            .client
            .post(app.url("/follow-up"))
            .header("cookie", &code_page.cookie)
            .form(&[
                ("csrf_token", code_page.token.as_str()),
                ("receipt_code", typed),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 422, "{typed:?}");
        assert!(set_cookie(&response, "probity_reporter").is_none());
        let html = response.text().await.unwrap();
        messages.push(text_of(&html, "receipt_code-error").unwrap());
    }
    assert!(messages[0].contains("回执码不正确"));
    assert!(
        messages.iter().all(|m| m == &messages[0]),
        "one message: {messages:?}"
    );
}

async fn bursts_get_a_chinese_429_page(backend: Backend) {
    let app = app(backend)
        .set("reports.submit_per_source_per_hour", 1)
        .set("reports.receipt_checks_per_source_per_hour", 1)
        .spawn()
        .await;
    seed_places(&app).await;
    let page = FormPage::open(&app, "/report", &[]).await;
    let first = post_report(&app, &page, &Fields::anonymous(), &[], None).await;
    assert_eq!(first.status(), 200);
    let mut fields = Fields::anonymous();
    fields.set("programme", "house_renovation");
    let second = post_report(
        &app,
        &page,
        &fields,
        &[],
        Some("web-0123456789abcdef0123456789abcdef"),
    )
    .await;
    assert_eq!(second.status(), 429);
    assert_eq!(content_type(&second), "text/html; charset=utf-8");
    let wait: u64 = second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1);
    let html = second.text().await.unwrap();
    assert!(html.contains("请求过于频繁，请稍后再试"));
    assert!(html.contains("分钟后再试"));
    assert_eq!(count_reports(&app).await, 1);

    let code_page = FormPage::open(&app, "/follow-up", &[]).await;
    for expected in [422, 429] {
        let response = app
            .client
            .post(app.url("/follow-up"))
            .header("cookie", &code_page.cookie)
            .form(&[
                ("csrf_token", code_page.token.as_str()),
                ("receipt_code", "1111 2222 3333 4444"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), expected);
        if expected == 429 {
            assert!(response.headers().contains_key("retry-after"));
            assert!(response.text().await.unwrap().contains("请求过于频繁"));
        }
    }
}

// ---------- the real browser ----------

const BROWSER_TRIAL: &str = "sqlite::web::a_reporter_in_a_real_browser";

/// Debian's chromium and chromedriver, or why they cannot be used.
pub(crate) struct BrowserTools {
    chromium: std::path::PathBuf,
    chromedriver: std::path::PathBuf,
}

fn find_program(env: &str, candidates: &[&str]) -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        let p = std::path::PathBuf::from(p);
        return p.is_file().then_some(p);
    }
    candidates
        .iter()
        .map(std::path::PathBuf::from)
        .find(|p| p.is_file())
}

pub(crate) fn browser_tools() -> Result<BrowserTools, String> {
    let chromium = find_program(
        "PROBITY_CHROMIUM",
        &["/usr/lib/chromium/chromium", "/usr/bin/chromium"],
    )
    .ok_or("chromium is not installed (Debian package `chromium`)")?;
    let chromedriver = find_program("PROBITY_CHROMEDRIVER", &["/usr/bin/chromedriver"])
        .ok_or("chromedriver is not installed (Debian package `chromium-driver`)")?;
    Ok(BrowserTools {
        chromium,
        chromedriver,
    })
}

/// The browser trial: run when Chromium is installed; otherwise listed as ignored with the
/// reason printed — and under CI (`CI` set), failed, so CI can never skip it silently.
pub fn trials() -> Vec<libtest_mimic::Trial> {
    use libtest_mimic::{Failed, Trial};
    match browser_tools() {
        Ok(_) => vec![Trial::test(BROWSER_TRIAL, || {
            crate::run(Backend::Sqlite, |b| {
                Box::pin(a_reporter_in_a_real_browser(b))
            })
        })],
        Err(why) if std::env::var_os("CI").is_some() => {
            vec![Trial::test(BROWSER_TRIAL, move || {
                Err(Failed::from(format!(
                    "the browser test must run in CI, but {why}; .ci/run installs it"
                )))
            })]
        }
        Err(why) => {
            println!("{BROWSER_TRIAL}: ignored because {why}");
            vec![Trial::test(BROWSER_TRIAL, || Ok(())).with_ignored_flag(true)]
        }
    }
}

/// chromedriver, started on a free loopback port and stopped (by its own handle) when dropped.
pub(crate) struct Driver {
    child: std::process::Child,
    url: String,
}

impl Driver {
    pub(crate) async fn start(tools: &BrowserTools) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
        };
        let status = format!("{}/status", driver.url);
        let ready = crate::helpers::eventually(std::time::Duration::from_secs(20), || {
            let status = status.clone();
            async move {
                let r = reqwest::get(&status).await.ok()?;
                r.status().is_success().then_some(())
            }
        })
        .await;
        assert!(ready.is_some(), "chromedriver did not answer on {status}");
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const PHONE_WIDTH: u32 = 360;
const PHONE_HEIGHT: u32 = 780;

async fn connect(
    driver: &Driver,
    tools: &BrowserTools,
    profile: &std::path::Path,
) -> fantoccini::Client {
    connect_with(
        driver,
        tools,
        profile,
        Window {
            width: PHONE_WIDTH,
            height: PHONE_HEIGHT,
            javascript: true,
            scale: 2,
        },
    )
    .await
}

/// A browser window: its size in CSS pixels, and whether pages may run JavaScript (WebDriver's
/// own commands work either way).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    pub width: u32,
    pub height: u32,
    pub javascript: bool,
    /// Device pixels per CSS pixel of the screenshots.
    pub scale: u32,
}

/// A new Chromium session through `driver`, in `window`.
pub(crate) async fn connect_with(
    driver: &Driver,
    tools: &BrowserTools,
    profile: &std::path::Path,
    window: Window,
) -> fantoccini::Client {
    let mut caps = fantoccini::wd::Capabilities::new();
    caps.insert("browserName".into(), serde_json::json!("chrome"));
    let mut options = serde_json::json!({
        "binary": tools.chromium,
        "args": [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-extensions",
            "--hide-scrollbars",
            "--lang=zh-CN",
            format!("--force-device-scale-factor={}", window.scale),
            format!("--window-size={},{}", window.width, window.height),
            format!("--user-data-dir={}", profile.display()),
        ],
    });
    if !window.javascript {
        options["prefs"] =
            serde_json::json!({"profile.managed_default_content_settings.javascript": 2});
    }
    caps.insert("goog:chromeOptions".into(), options);
    fantoccini::ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session through chromedriver")
}

/// Where screenshots go: `PROBITY_SCREENSHOTS_DIR` (docs/screenshots to refresh the docs),
/// else a scratch folder under target/.
pub(crate) fn screenshot_dir() -> std::path::PathBuf {
    let dir = std::env::var_os("PROBITY_SCREENSHOTS_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A screenshot of the whole page at phone width.
async fn shot(c: &fantoccini::Client, name: &str) {
    shot_in(c, name, PHONE_WIDTH, PHONE_HEIGHT).await
}

/// A screenshot of the whole page at `width`, into `screenshot_dir()/name.png`: the window is
/// made as tall as the page (plus whatever the window has around its viewport), then restored
/// to `height`.
pub(crate) async fn shot_in(c: &fantoccini::Client, name: &str, width: u32, height: u32) {
    let sizes = c
        .execute(
            "return [Math.ceil(document.documentElement.scrollHeight), window.innerHeight];",
            vec![],
        )
        .await
        .unwrap();
    let size = |i: usize| sizes[i].as_u64().unwrap_or(height as u64) as u32;
    let frame = height.saturating_sub(size(1));
    c.set_window_size(width, (size(0) + frame).clamp(height, 9000))
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    c.set_window_size(width, height).await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: a PNG");
    let path = screenshot_dir().join(format!("{name}.png"));
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, png).unwrap();
}

pub(crate) async fn by_id(c: &fantoccini::Client, id: &str) -> fantoccini::elements::Element {
    let found = c
        .wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(fantoccini::Locator::Id(id))
        .await;
    match found {
        Ok(element) => element,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string());
            let page = main_text(c).await;
            panic!("no #{id} on {url:?}: {e}\n{page}")
        }
    }
}

pub(crate) async fn type_into(c: &fantoccini::Client, id: &str, text: &str) {
    let field = by_id(c, id).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

pub(crate) async fn text(c: &fantoccini::Client, id: &str) -> String {
    by_id(c, id).await.text().await.unwrap()
}

pub(crate) async fn main_text(c: &fantoccini::Client) -> String {
    c.find(fantoccini::Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

pub(crate) async fn value(c: &fantoccini::Client, id: &str) -> String {
    by_id(c, id)
        .await
        .prop("value")
        .await
        .unwrap()
        .unwrap_or_default()
}

/// Clicks a form's submit button and waits for the next page: the old page's document goes
/// stale, then the new one has `#ready_id`.
pub(crate) async fn submit(c: &fantoccini::Client, form_action: &str, ready_id: &str) {
    let old_page = c.find(fantoccini::Locator::Css("html")).await.unwrap();
    c.find(fantoccini::Locator::Css(&format!(
        "form[action='{form_action}'] button[type='submit']"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let left = crate::helpers::eventually(std::time::Duration::from_secs(10), || {
        let old_page = old_page.clone();
        async move { old_page.tag_name().await.is_err().then_some(()) }
    })
    .await;
    assert!(
        left.is_some(),
        "submitting {form_action} loaded no new page"
    );
    by_id(c, ready_id).await;
}

pub(crate) async fn attach(c: &fantoccini::Client, id: &str, path: &std::path::Path) {
    by_id(c, id)
        .await
        .send_keys(&path.display().to_string())
        .await
        .unwrap();
}

async fn a_reporter_in_a_real_browser(backend: Backend) {
    let tools = browser_tools().expect("checked when the trial was listed");
    let app = spawn_app(backend).await;
    seed_places(&app).await;
    let scratch = tempfile::tempdir().unwrap();
    let photo = scratch.path().join("现场照片.png");
    std::fs::write(&photo, PNG).unwrap();
    let list = scratch.path().join("名单.pdf");
    std::fs::write(&list, PDF).unwrap();
    let profile = scratch.path().join("profile");

    let driver = Driver::start(&tools).await;
    let c = connect(&driver, &tools, &profile).await;
    let journey = std::panic::AssertUnwindSafe(journey(&c, &app, &photo, &list));
    let outcome = futures_util::FutureExt::catch_unwind(journey).await;
    // The browser quits whatever happened; the driver stops when dropped.
    let _ = c.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn journey(
    c: &fantoccini::Client,
    app: &TestApp,
    photo: &std::path::Path,
    list: &std::path::Path,
) {
    // The index.
    c.goto(&app.url("/")).await.unwrap();
    assert!(main_text(c)
        .await
        .contains("回执码是查看您的举报的唯一钥匙"));
    shot(c, "index").await;

    // A real-name report with mistakes: the page comes back in Chinese, typing kept.
    c.goto(&app.url("/report")).await.unwrap();
    shot(c, "report-form").await;
    for id in [
        "programme-dibao",
        "misconduct-favouritism",
        "misconduct-black_box",
        "anonymous-false",
    ] {
        by_id(c, id).await.click().await.unwrap();
    }
    by_id(c, "place")
        .await
        .select_by_value(SHANGPING)
        .await
        .unwrap();
    type_into(c, "accused-1-name", "张某某").await;
    type_into(c, "accused-1-position", "村支书").await;
    type_into(c, "description", "评议会没有公示。").await;
    c.execute(
        "document.getElementById('occurred_from').value = '2026-03-01';",
        vec![],
    )
    .await
    .unwrap();
    let bad_id = bad_id_number("36073419800101123");
    type_into(c, "reporter_name", "李某").await;
    type_into(c, "reporter_id_number", &bad_id).await;
    type_into(c, "reporter_phone", "13800138000").await;
    attach(c, "files", photo).await;
    submit(c, "/report", "reporter_id_number-error").await;
    assert!(text(c, "reporter_id_number-error").await.contains("校验码"));
    assert!(text(c, "description-error").await.contains("至少写20个字"));
    assert_eq!(value(c, "reporter_id_number").await, bad_id);
    assert_eq!(value(c, "description").await, "评议会没有公示。");
    assert_eq!(value(c, "place").await, SHANGPING);
    assert_eq!(value(c, "occurred_from").await, "2026-03-01");
    assert!(by_id(c, "anonymous-false")
        .await
        .is_selected()
        .await
        .unwrap());
    shot(c, "validation-error").await;

    type_into(
        c,
        "description",
        "村支书把低保名额给了自己的亲戚，评议会没有开，名单也没有公示。",
    )
    .await;
    type_into(c, "reporter_id_number", &id_number("36073419800101123")).await;
    attach(c, "files", photo).await;
    submit(c, "/report", "receipt-code").await;
    let number = text(c, "report-number").await;
    let code = text(c, "receipt-code").await;
    assert!(number.starts_with("JB-"), "{number}");
    assert_eq!(code.replace(' ', "").len(), 16, "{code}");
    assert!(!c
        .current_url()
        .await
        .unwrap()
        .as_str()
        .contains(&code.replace(' ', "")));
    let words = main_text(c).await;
    assert!(words.contains("请抄写或打印保存"));
    assert!(words.contains("实名举报，县纪委将在"));
    // Our own script (allowed by the CSP) shows the print button.
    let print = c
        .find(fantoccini::Locator::Css("[data-print]"))
        .await
        .unwrap();
    assert!(
        print.is_displayed().await.unwrap(),
        "the print button is shown with JS"
    );
    shot(c, "receipt").await;

    // An anonymous report with a PDF.
    c.goto(&app.url("/report")).await.unwrap();
    for id in [
        "programme-house_renovation",
        "misconduct-improper_procedure",
        "anonymous-true",
    ] {
        by_id(c, id).await.click().await.unwrap();
    }
    by_id(c, "place")
        .await
        .select_by_value("360734107:360734107201")
        .await
        .unwrap();
    type_into(
        c,
        "description",
        "危旧土坯房改造补助发给了已经住新楼房的人家，真正住危房的没有评上。",
    )
    .await;
    attach(c, "files", list).await;
    submit(c, "/report", "receipt-code").await;
    let anonymous_number = text(c, "report-number").await;
    assert_ne!(anonymous_number, number);
    let words = main_text(c).await;
    assert!(words.contains("您是匿名举报"));

    // The commission asks the reporter a question (as an investigator would, through the API).
    app.db(|conn| {
        let report_id: String = reports::table
            .filter(reports::anonymous.eq(false))
            .select(reports::id)
            .first(conn)
            .unwrap();
        diesel::insert_into(report_messages::table)
            .values((
                report_messages::id.eq(uuid::Uuid::new_v4().to_string()),
                report_messages::report_id.eq(report_id),
                report_messages::author_kind.eq("staff"),
                report_messages::body.eq("您好，请问评议会是哪一天开的？当时有没有张榜公示？"),
                report_messages::created_at.eq(chrono::Utc::now().naive_utc()),
            ))
            .execute(conn)
            .unwrap();
    })
    .await;

    // Follow up on the first report with its code.
    c.goto(&app.url("/follow-up")).await.unwrap();
    shot(c, "follow-up-code").await;
    type_into(c, "receipt_code", &code).await;
    submit(c, "/follow-up", "thread").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/follow-up/report");
    let words = main_text(c).await;
    for expected in [
        number.as_str(),
        "已收到，正在登记审查",
        "桂竹帽镇 上坪村",
        "实名举报",
        "图片",
    ] {
        assert!(
            words.contains(expected),
            "the follow-up page shows {expected}"
        );
    }
    let reply = "补充：评议会是三月五日开的，只通知了村干部的亲戚。";
    type_into(c, "reply", reply).await;
    submit(c, "/follow-up/messages", "thread").await;
    let thread = c
        .find(fantoccini::Locator::Css(".thread"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        thread.contains(reply),
        "the reply is in the thread: {thread}"
    );
    assert!(thread.contains("县纪委 · ") && thread.contains("请问评议会是哪一天开的"));
    assert!(thread.contains("您 · "));
    attach(c, "evidence-files", list).await;
    submit(c, "/follow-up/evidence", "thread").await;
    let evidence = c
        .find(fantoccini::Locator::Css(".files"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        evidence.contains("图片") && evidence.contains("PDF文件"),
        "{evidence}"
    );
    shot(c, "follow-up").await;

    // Sign out: the report page is closed again.
    submit(c, "/follow-up/sign-out", "receipt_code").await;
    c.goto(&app.url("/follow-up/report")).await.unwrap();
    by_id(c, "receipt_code").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/follow-up");
}
