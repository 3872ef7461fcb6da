//! The console's 暂停与发放核查 and 责任追究 pages (issue 13) on every backend, with the clock
//! frozen on Monday 2026-11-30 10:00 in the county: who may open them; the benefit-status
//! lookup inside and outside a suspension, agreeing with the API; the lists of suspensions in
//! force and lifted, with case links only for who may open the case; the CSV round trip (BOM,
//! header, one row per code, neutralised cells) and its Chinese refusals; an official's page
//! with a sanction and a clawback responsibility seeded through the API.

use diesel::prelude::*;
use probity::db::schema::user_roles;
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::console::{assert_self_contained, Console, Page};
use crate::helpers::{TestApp, PASSWORD};
use crate::triage::{json, world, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        pages_open_for_their_roles_and_refuse_the_others,
        the_lookup_answers_suspended_only_inside_the_period,
        the_lists_show_suspensions_in_force_then_lifted_with_case_links,
        a_csv_of_codes_comes_back_as_a_safe_csv,
        bad_csv_files_are_refused_in_chinese,
        an_official_page_shows_sanctions_and_clawback_responsibility,
        officials_are_searched_by_name_and_township,
    ]
}

const TOWNSHIP: &str = "360734100";
const VILLAGE: &str = "360734100201";
const OTHER_VILLAGE: &str = "360734101201";

// ---------- fixtures ----------

/// A console signed in as an account the world already has (`super`, `inv_a`, …).
async fn desk<'a>(app: &'a TestApp, username: &str) -> Console<'a> {
    let console = Console::anonymous(app);
    let answer = console.login(username, PASSWORD).await;
    assert_eq!(answer.status, 303, "sign-in of {username}: {}", answer.body);
    console
}

/// A case filed in `village` of `township`, naming `accused` officials at triage: (case id,
/// case number, filing answer).
async fn file_case(
    w: &World,
    township: &str,
    village: &str,
    accused: &[&str],
) -> (String, String, Value) {
    let (report, _) = w.report(township, village, "张某明").await;
    let r = w
        .triage(
            &report,
            json!({"action": "accept", "subject_level": "village", "accused_official_ids": accused}),
        )
        .await;
    assert_eq!(r.status(), 201, "accepted");
    let case = json(r).await["case_id"].as_str().unwrap().to_string();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/disposition"),
            &w.inv_a.1,
            &json!({"disposition": "file"}),
        )
        .await;
    assert_eq!(r.status(), 200, "file asked");
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/filing-decision"),
            &w.supervisor,
            &json!({"approve": true, "reason": "经初步核实，需立案审查调查"}),
        )
        .await;
    assert_eq!(r.status(), 200, "filing approved");
    let filed = json(r).await;
    let number = filed["number"].as_str().unwrap().to_string();
    (case, number, filed)
}

/// A remediation item added to `case`: its id.
async fn add_item(w: &World, case: &str, description: &str) -> String {
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/remediation-items"),
            &w.inv_a.1,
            &json!({"description": description, "responsible_unit": "沙坝村村委会", "due_on": "2026-12-31"}),
        )
        .await;
    assert_eq!(r.status(), 201, "item added");
    json(r).await["id"].as_str().unwrap().to_string()
}

/// One item added, submitted and verified: the case's plan complete, its village lifted when
/// no other case holds it.
async fn remediate(w: &World, case: &str) {
    let item = add_item(w, case, "重新评议低保对象并公示").await;
    let r = w
        .app
        .post_as(
            &format!("/api/v1/remediation-items/{item}/submit"),
            &w.inv_a.1,
            &json!({"evidence": "已重新评议并张榜公示"}),
        )
        .await;
    assert_eq!(r.status(), 200, "submitted");
    let r = w
        .app
        .post_as(
            &format!("/api/v1/remediation-items/{item}/verify"),
            &w.supervisor,
            &json!({}),
        )
        .await;
    assert_eq!(r.status(), 200, "verified");
}

/// An official created through the API (admin): its id.
async fn official(w: &World, name: &str, post: &str, level: &str, division: &str) -> String {
    let r = w
        .app
        .post_as(
            "/api/v1/officials",
            &w.admin,
            &json!({"name": name, "post": post, "level": level, "division_code": division}),
        )
        .await;
    assert_eq!(r.status(), 201, "official {name}");
    json(r).await["id"].as_str().unwrap().to_string()
}

/// The lookup's answer section of a page: `Some(true)` suspended, `Some(false)` not, `None`
/// when the page has no answer.
fn verdict(html: &str) -> Option<bool> {
    let at = html.find("id=\"answer\"")?;
    let tag = &html[at..at + html[at..].find('>')?];
    Some(tag.contains("data-suspended=\"true\""))
}

/// The HTML of the element with `id="ID"`, up to its first closing tag of the same name
/// (enough for the tables, lists and sections of these pages, which do not nest their kind).
fn section<'h>(html: &'h str, id: &str) -> &'h str {
    let at = html
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id}"));
    let open = html[..at].rfind('<').unwrap();
    let tag: String = html[open + 1..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric())
        .collect();
    let rest = &html[open..];
    let end = rest.find(&format!("</{tag}>")).unwrap_or(rest.len());
    &rest[..end]
}

/// POSTs a CSV file to the batch form as `console`, with `token` as the CSRF field (first).
async fn upload(
    console: &Console<'_>,
    token: Option<&str>,
    on: &str,
    file: Vec<u8>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    if let Some(token) = token {
        form = form.text("csrf_token", token.to_string());
    }
    form = form.text("on", on.to_string()).part(
        "file",
        reqwest::multipart::Part::bytes(file)
            .file_name("codes.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(console.app.url("/staff/suspensions/batch"))
        .header(
            reqwest::header::COOKIE,
            format!("probity_staff={}", console.cookie("probity_staff").unwrap()),
        )
        .header("sec-fetch-site", "same-origin")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn page_of(response: reqwest::Response) -> Page {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Page {
        status,
        location: None,
        body: response.text().await.unwrap(),
        content_type,
    }
}

// ---------- tests ----------

async fn pages_open_for_their_roles_and_refuse_the_others(backend: Backend) {
    let w = world(backend, true).await;
    let someone = official(&w, "张某明", "村支书", "village", VILLAGE).await;
    let official_page = format!("/staff/officials/{someone}");
    // Every role reads benefit status; readers of cases or clawbacks open 责任追究.
    for (i, (role, reads_officials)) in [
        (Role::Admin, false),
        (Role::Intake, false),
        (Role::Investigator, true),
        (Role::Supervisor, true),
        (Role::Benefits, true),
        (Role::Auditor, true),
    ]
    .into_iter()
    .enumerate()
    {
        let console = Console::sign_in(&w.app, &format!("role{i}"), &[role]).await;
        let page = console.get("/staff/suspensions").await;
        let html = page.ok();
        assert_self_contained("/staff/suspensions", html);
        assert!(
            html.contains("<label for=\"code\">村代码</label>"),
            "{role:?}"
        );
        assert!(
            html.contains("<label for=\"file\">"),
            "{role:?} uploads too"
        );
        assert!(html.contains("href=\"/staff/suspensions\" aria-current=\"page\""));
        for path in ["/staff/officials", official_page.as_str()] {
            let page = console.get(path).await;
            if reads_officials {
                assert_self_contained(path, page.ok());
            } else {
                page.forbidden();
            }
        }
        let csv = console
            .get_response(&format!("{official_page}/responsibility.csv"))
            .await;
        let reads_clawbacks = matches!(
            role,
            Role::Investigator | Role::Supervisor | Role::Benefits | Role::Auditor
        );
        assert_eq!(
            csv.status(),
            if reads_clawbacks { 200 } else { 403 },
            "{role:?}"
        );
    }
    // An account left with no role reads nothing here, and uploads nothing.
    let console = Console::sign_in(&w.app, "nobody", &[Role::Intake]).await;
    let id = console.user_id.clone();
    w.app
        .db(move |conn| {
            diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id)))
                .execute(conn)
                .unwrap()
        })
        .await;
    console.get("/staff/suspensions").await.forbidden();
    let token = console.csrf().await;
    let refused =
        page_of(upload(&console, Some(&token), "", b"village_code\n".to_vec()).await).await;
    refused.forbidden();
    // Unknown officials are a Chinese 404.
    let auditor = desk(&w.app, "auditor").await;
    let missing = auditor.get("/staff/officials/no-such-official").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("找不到"));
}

async fn the_lookup_answers_suspended_only_inside_the_period(backend: Backend) {
    let w = world(backend, true).await;
    let (case, number, _) = file_case(&w, TOWNSHIP, VILLAGE, &[]).await;
    add_item(&w, &case, "重新评议低保对象并公示").await;
    let officer = Console::sign_in(&w.app, "minzheng", &[Role::Benefits]).await;
    let supervisor = desk(&w.app, "super").await;

    // The form's date is today in the county.
    let blank = officer.get("/staff/suspensions").await;
    assert_eq!(
        crate::console::input_value(blank.ok(), "on").as_deref(),
        Some("2026-11-30")
    );
    assert_eq!(verdict(&blank.body), None, "no answer before asking");

    for (code, on, suspended) in [
        (VILLAGE, "2026-11-30", true),
        (VILLAGE, "2026-12-15", true),
        (VILLAGE, "2026-11-29", false),
        (OTHER_VILLAGE, "2026-11-30", false),
        (OTHER_VILLAGE, "2026-11-29", false),
    ] {
        let page = officer
            .get(&format!("/staff/suspensions?code={code}&on={on}"))
            .await;
        let html = page.ok();
        assert_eq!(verdict(html), Some(suspended), "{code} on {on}");
        let answer = section(html, "answer");
        if suspended {
            assert!(answer.contains("暂停实施，不得发放"), "{answer}");
            assert!(answer.contains("2026年11月30日 10:00"), "since: {answer}");
            assert!(answer.contains("全部涉农优惠政策"), "{answer}");
            assert!(answer.contains(&number), "the case that holds it: {answer}");
            assert!(
                !answer.contains("/staff/cases/"),
                "a benefits officer does not open cases"
            );
        } else {
            assert!(answer.contains("未暂停，政策正常实施"), "{answer}");
        }
        // The same as the API says.
        let api = json(
            w.app
                .get_as(
                    &format!("/api/v1/villages/{code}/benefit-status?on={on}"),
                    &w.auditor,
                )
                .await,
        )
        .await;
        assert_eq!(api["suspended"], suspended);
    }

    // Chosen from the township → village list, with full-width digits in a typed code too.
    let chosen = officer
        .get(&format!(
            "/staff/suspensions?village={VILLAGE}&on=2026-11-30"
        ))
        .await;
    assert_eq!(verdict(chosen.ok()), Some(true));
    assert!(chosen
        .body
        .contains(&format!("<option value=\"{VILLAGE}\" selected>")));
    let wide = officer
        .get("/staff/suspensions?code=%EF%BC%93%EF%BC%96%EF%BC%90734100201&on=2026-11-30")
        .await;
    assert_eq!(verdict(wide.ok()), Some(true));

    // A supervisor reads the case, and which remediation remains.
    let page = supervisor
        .get(&format!("/staff/suspensions?code={VILLAGE}&on=2026-11-30"))
        .await;
    let answer = section(page.ok(), "answer");
    assert!(
        answer.contains(&format!("href=\"/staff/cases/{case}\"")),
        "{answer}"
    );
    assert!(answer.contains("重新评议低保对象并公示"), "{answer}");
    assert!(answer.contains("待整改"), "{answer}");

    // Refusals, in Chinese with the API's status, the form kept.
    let unknown = officer
        .get("/staff/suspensions?code=360734100299&on=2026-11-30")
        .await;
    assert_eq!(unknown.status, 404);
    assert!(unknown.body.contains("找不到所选的村"), "{}", unknown.body);
    assert!(unknown
        .body
        .contains("class=\"field-error\" id=\"code-error\""));
    assert_eq!(
        crate::console::input_value(&unknown.body, "code").as_deref(),
        Some("360734100299")
    );
    assert_eq!(verdict(&unknown.body), None);
    let bad_day = officer
        .get(&format!("/staff/suspensions?code={VILLAGE}&on=2026-13-40"))
        .await;
    assert_eq!(bad_day.status, 422);
    assert!(bad_day.body.contains("id=\"on-error\""), "{}", bad_day.body);
    assert!(bad_day.body.contains("日期格式不对"));
    // A cursor not from a previous page.
    let bad_cursor = officer.get("/staff/suspensions?lifted=nonsense").await;
    assert_eq!(bad_cursor.status, 422);
    assert!(bad_cursor.body.contains("正在暂停的村"));
}

async fn the_lists_show_suspensions_in_force_then_lifted_with_case_links(backend: Backend) {
    let w = world(backend, true).await;
    let (held, held_number, _) = file_case(&w, TOWNSHIP, VILLAGE, &[]).await;
    let (lifted, lifted_number, _) = file_case(&w, "360734101", OTHER_VILLAGE, &[]).await;
    remediate(&w, &lifted).await;

    let supervisor = desk(&w.app, "super").await;
    let html = supervisor.get("/staff/suspensions").await;
    let html = html.ok();
    let current = section(html, "current");
    assert!(
        current.contains("长宁镇") && current.contains("城北村"),
        "{current}"
    );
    assert!(current.contains(&format!(
        "<a href=\"/staff/cases/{held}\">{held_number}</a>"
    )));
    assert!(!current.contains("沙坝村"));
    let past = section(html, "lifted");
    assert!(past.contains("晨光镇") && past.contains("沙坝村"), "{past}");
    assert!(past.contains(&format!(
        "<a href=\"/staff/cases/{lifted}\">{lifted_number}</a>"
    )));
    assert!(past.contains("2026年11月30日 10:00"), "lifted on: {past}");
    assert!(
        html.find("id=\"current\"").unwrap() < html.find("id=\"lifted\"").unwrap(),
        "in force first"
    );

    // Numbers, but no links, for those who may not open the case: a benefits officer, and an
    // investigator of another team.
    let officer = Console::sign_in(&w.app, "minzheng", &[Role::Benefits]).await;
    let other_team = desk(&w.app, "inv_b").await;
    for console in [&officer, &other_team] {
        let page = console.get("/staff/suspensions").await;
        let html = page.ok();
        assert!(section(html, "current").contains(&held_number));
        assert!(!html.contains("/staff/cases/"), "{html}");
    }
    let own_team = desk(&w.app, "inv_a").await;
    assert!(own_team
        .get("/staff/suspensions")
        .await
        .ok()
        .contains(&format!("href=\"/staff/cases/{held}\"")));
}

async fn a_csv_of_codes_comes_back_as_a_safe_csv(backend: Backend) {
    let w = world(backend, true).await;
    let (_, number, _) = file_case(&w, TOWNSHIP, VILLAGE, &[]).await;
    let officer = Console::sign_in(&w.app, "minzheng", &[Role::Benefits]).await;
    let token = officer.csrf().await;
    let file = format!(
        "\u{feff}姓名,村代码,备注\r\n王某,{VILLAGE},\"=HYPERLINK(\"\"http://x.example\"\",\"\"点\"\")\"\r\n李某,{OTHER_VILLAGE},+86\r\n赵某,360734100299,\r\n"
    );
    let response = upload(&officer, Some(&token), "2026-11-30", file.into_bytes()).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment; filename=\"benefit-status-2026-11-30.csv\""));
    let bytes = response.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(&bytes[3..]);
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "姓名",
            "村代码",
            "备注",
            "村名称",
            "核查日期",
            "是否暂停",
            "暂停起始",
            "尚待整改的立案案件",
            "说明"
        ]
    );
    assert_eq!(rows.len(), 4, "a header and one row per code: {rows:?}");
    assert_eq!(
        rows[1],
        [
            "王某",
            VILLAGE,
            "'=HYPERLINK(\"http://x.example\",\"点\")",
            "城北村",
            "2026-11-30",
            "是",
            "2026-11-30 10:00",
            number.as_str(),
            "涉农优惠政策暂停实施，不得发放"
        ]
    );
    assert_eq!(rows[2][2], "'+86", "every formula cell is neutralised");
    assert_eq!(&rows[2][3..6], ["沙坝村", "2026-11-30", "否"]);
    assert_eq!(rows[3][1], "360734100299");
    assert_eq!(rows[3][8], "找不到这个村代码");

    // The day before the filing, nothing was suspended.
    let file = format!("village_code\n{VILLAGE}\n").into_bytes();
    let response = upload(&officer, Some(&token), "2026-11-29", file).await;
    let text = String::from_utf8(response.bytes().await.unwrap().to_vec()).unwrap();
    assert!(
        text.contains(&format!("{VILLAGE},城北村,2026-11-29,否")),
        "{text}"
    );

    // CSRF: no token, or another sign-in's token.
    let file = format!("village_code\n{VILLAGE}\n").into_bytes();
    let none = page_of(upload(&officer, None, "", file.clone()).await).await;
    assert_eq!(none.status, 403);
    assert!(none.body.contains("页面已过期"));
    let other = Console::sign_in(&w.app, "other", &[Role::Benefits]).await;
    let theirs = other.csrf().await;
    let wrong = page_of(upload(&officer, Some(&theirs), "", file).await).await;
    assert_eq!(wrong.status, 403);
    assert!(wrong.body.contains("页面已过期"));
    // A large file sent with an expired page still gets the page, not a reset connection.
    let mut large = String::from("village_code\n");
    while large.len() < 2 * 1024 * 1024 {
        large.push_str(VILLAGE);
        large.push('\n');
    }
    let none = page_of(upload(&officer, None, "", large.into_bytes()).await).await;
    assert_eq!(none.status, 403);
    assert!(none.body.contains("页面已过期"));
}

async fn bad_csv_files_are_refused_in_chinese(backend: Backend) {
    let w = world(backend, true).await;
    let officer = Console::sign_in(&w.app, "minzheng", &[Role::Benefits]).await;
    let token = officer.csrf().await;
    let many = {
        let mut f = String::from("村代码\n");
        for _ in 0..10_001 {
            f.push_str(VILLAGE);
            f.push('\n');
        }
        f
    };
    // GBK bytes for 村代码 (Excel's default in Chinese Windows).
    let gbk = b"\xb4\xe5\xb4\xfa\xc2\xeb\n360734100201\n".to_vec();
    for (file, status, says) in [
        (
            format!("{VILLAGE}\n{OTHER_VILLAGE}\n").into_bytes(),
            422,
            "缺少表头",
        ),
        (b"name,note\nx,y\n".to_vec(), 422, "没有村代码这一列"),
        (
            format!("村代码\n{VILLAGE}\nabc\n36073410020\n").into_bytes(),
            422,
            "第 3 行的“abc”不是村代码",
        ),
        (
            b"village_code\n".to_vec(),
            422,
            "请提供 1 至 10000 个村代码",
        ),
        (many.into_bytes(), 422, "一次最多查询 10000 个村代码"),
        (gbk, 422, "UTF-8"),
        (vec![b'1'; 5 * 1024 * 1024], 413, "文件太大"),
        (Vec::new(), 422, "请选择一个 CSV 文件"),
    ] {
        let page = page_of(upload(&officer, Some(&token), "2026-11-30", file).await).await;
        assert_eq!(page.status, status, "{says}: {}", page.body);
        assert!(page.content_type.starts_with("text/html"));
        assert!(page.body.contains(says), "{says}: {}", page.body);
        assert!(page.body.contains("class=\"refusal\""));
        assert!(
            page.body.contains("id=\"file-error\""),
            "beside the file field"
        );
        assert_self_contained("/staff/suspensions/batch", &page.body);
    }
    let bad_day = page_of(
        upload(
            &officer,
            Some(&token),
            "someday",
            format!("村代码\n{VILLAGE}\n").into_bytes(),
        )
        .await,
    )
    .await;
    assert_eq!(bad_day.status, 422);
    assert!(
        bad_day.body.contains("id=\"batch-on-error\""),
        "{}",
        bad_day.body
    );
}

async fn an_official_page_shows_sanctions_and_clawback_responsibility(backend: Backend) {
    let w = world(backend, true).await;
    let secretary = official(&w, "张某明", "村支书", "village", VILLAGE).await;
    let head = official(&w, "王某林", "乡镇长", "township", TOWNSHIP).await;
    let county = official(&w, "陈某国", "县民政局局长", "county", "360734").await;
    let (case, number, filed) = file_case(&w, TOWNSHIP, VILLAGE, &[&secretary]).await;
    let primary = filed["investigations"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/investigations/{primary}/conclude"),
            &w.inv_a.1,
            &json!({
                "outcome": "substantiated",
                "findings": "村支书将低保名额给予亲属三户，评议结果未公示。",
                "sanctions": [{"official_id": secretary, "category": "party",
                    "type": "serious_warning", "decided_on": "2026-11-28",
                    "document_number": "寻纪发〔2026〕12号"}]
            }),
        )
        .await;
    assert_eq!(r.status(), 200, "concluded");
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/clawbacks"),
            &w.inv_a.1,
            &json!({
                "beneficiary": {"name": "王某", "id_number": "11010519491231002X",
                                "village_code": VILLAGE},
                "programme": "house_renovation",
                "grant_period_from": "2025-01-01", "grant_period_to": "2025-12-31",
                "amount_due_fen": 360000,
                "due_on": "2027-03-31",
                "signers": [
                    {"official_id": secretary, "stage": "village_deliberation", "signed_on": "2025-03-02"},
                    {"official_id": head, "stage": "township_review", "signed_on": "2025-03-10"},
                    {"official_id": county, "stage": "county_approval", "signed_on": "2025-03-20"}
                ]
            }),
        )
        .await;
    assert_eq!(r.status(), 201, "clawback recorded");
    let clawback = json(r).await["id"].as_str().unwrap().to_string();
    let r = w
        .app
        .post_as(
            &format!("/api/v1/clawbacks/{clawback}/recoveries"),
            &w.inv_a.1,
            &json!({"amount_fen": 100000, "paid_on": "2026-11-30",
                    "payer": {"kind": "beneficiary"}, "reference": "SK-1"}),
        )
        .await;
    assert_eq!(r.status(), 201, "recovery recorded");
    let api = json(
        w.app
            .get_as(
                &format!("/api/v1/officials/{secretary}/responsibility"),
                &w.auditor,
            )
            .await,
    )
    .await;
    assert_eq!(api["outstanding_fen"], 260000);

    let path = format!("/staff/officials/{secretary}");
    let auditor = desk(&w.app, "auditor").await;
    let page = auditor.get(&path).await;
    let html = page.ok();
    assert_self_contained(&path, html);
    assert!(html.contains("张某明（村支书）"));
    let cases = section(html, "cases");
    assert!(
        cases.contains(&format!("<a href=\"/staff/cases/{case}\">{number}</a>")),
        "{cases}"
    );
    for touch in ["被反映人", "调查对象", "受到处分", "追回事项签字人"] {
        assert!(cases.contains(touch), "{touch}: {cases}");
    }
    let sanctions = section(html, "sanctions");
    assert!(sanctions.contains("党纪处分"), "{sanctions}");
    assert!(sanctions.contains("严重警告"));
    assert!(sanctions.contains("寻纪发〔2026〕12号"));
    assert!(sanctions.contains("2026年11月28日"));
    let totals = section(html, "totals");
    assert!(totals.contains("1 项"), "{totals}");
    for money in ["¥3,600.00", "¥1,000.00", "¥2,600.00"] {
        assert!(totals.contains(money), "{money}: {totals}");
    }
    let claws = section(html, "clawbacks");
    for text in [
        "农村危旧土坯房改造",
        "长宁镇城北村",
        "村评议",
        "部分追回",
        "2027年3月31日",
    ] {
        assert!(claws.contains(text), "{text}: {claws}");
    }
    assert!(claws.contains(&format!("href=\"/staff/cases/{case}\"")));
    // The township head: looked into by the accountability investigation, a signer.
    let head_page = auditor.get(&format!("/staff/officials/{head}")).await;
    let head_cases = section(head_page.ok(), "cases");
    assert!(head_cases.contains("一案双查问责对象"), "{head_cases}");
    assert!(head_cases.contains("追回事项签字人"));
    assert!(head_page.body.contains("乡镇审核"));

    // A benefits officer reads the responsibility, not the cases, and opens no case.
    let officer = Console::sign_in(&w.app, "minzheng", &[Role::Benefits]).await;
    let page = officer.get(&path).await;
    let html = page.ok();
    assert!(!html.contains("id=\"cases\"") && !html.contains("id=\"sanctions\""));
    assert!(!html.contains("寻纪发〔2026〕12号"));
    assert!(section(html, "clawbacks").contains(&number));
    assert!(!html.contains("/staff/cases/"));
    assert!(section(html, "totals").contains("¥2,600.00"));
    let csv = officer
        .get_response(&format!("{path}/responsibility.csv"))
        .await;
    assert_eq!(csv.status(), 200);
    let bytes = csv.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    assert!(String::from_utf8_lossy(&bytes).contains("张某明"));

    // An investigator of another team: no case of team A, no sanction from it; the
    // responsibility county-wide, its case number unlinked.
    let other = desk(&w.app, "inv_b").await;
    let page = other.get(&path).await;
    let html = page.ok();
    assert!(html.contains("id=\"no-cases\""), "{html}");
    assert!(html.contains("id=\"no-sanctions\""));
    assert!(section(html, "clawbacks").contains(&number));
    assert!(!html.contains("/staff/cases/"));
}

async fn officials_are_searched_by_name_and_township(backend: Backend) {
    let w = world(backend, true).await;
    let secretary = official(&w, "张某明", "村支书", "village", VILLAGE).await;
    official(&w, "李某强", "村委会主任", "village", OTHER_VILLAGE).await;
    let head = official(&w, "王某林", "乡镇长", "township", TOWNSHIP).await;
    let county = official(&w, "陈某国", "县民政局局长", "county", "360734").await;

    let supervisor = desk(&w.app, "super").await;
    let all = supervisor.get("/staff/officials").await;
    let html = all.ok();
    assert_self_contained("/staff/officials", html);
    assert!(html.contains("<label for=\"name\">姓名</label>"));
    let table = section(html, "officials");
    for name in ["张某明", "李某强", "王某林", "陈某国"] {
        assert!(table.contains(name), "{name}");
    }
    assert!(table.contains(&format!("href=\"/staff/officials/{secretary}\"")));
    let by_name = supervisor
        .get("/staff/officials?name=%E6%9F%90%E6%98%8E")
        .await;
    let table = section(by_name.ok(), "officials");
    assert!(table.contains("张某明") && !table.contains("李某强"));
    // A township: its own officials and its villages'.
    let by_township = supervisor
        .get(&format!("/staff/officials?division={TOWNSHIP}"))
        .await;
    let table = section(by_township.ok(), "officials");
    assert!(
        table.contains("张某明") && table.contains("王某林"),
        "{table}"
    );
    assert!(!table.contains("李某强") && !table.contains("陈某国"));
    let by_level = supervisor.get("/staff/officials?level=county").await;
    let table = section(by_level.ok(), "officials");
    assert!(table.contains("陈某国") && !table.contains("张某明"));
    let nothing = supervisor
        .get("/staff/officials?name=%E6%97%A0%E6%AD%A4%E4%BA%BA")
        .await;
    assert!(nothing.ok().contains("没有符合条件的干部"));

    // A benefits officer finds the signers of clawbacks only.
    let (case, _, _) = file_case(&w, TOWNSHIP, VILLAGE, &[]).await;
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/clawbacks"),
            &w.inv_a.1,
            &json!({
                "beneficiary": {"name": "王某", "id_number": "11010519491231002X",
                                "village_code": VILLAGE},
                "programme": "dibao",
                "grant_period_from": "2025-01-01", "grant_period_to": "2025-12-31",
                "amount_due_fen": 120000,
                "due_on": "2027-03-31",
                "signers": [
                    {"official_id": secretary, "stage": "village_deliberation", "signed_on": "2025-03-02"},
                    {"official_id": head, "stage": "township_review", "signed_on": "2025-03-10"},
                    {"official_id": county, "stage": "county_approval", "signed_on": "2025-03-20"}
                ]
            }),
        )
        .await;
    assert_eq!(r.status(), 201);
    let officer = Console::sign_in(&w.app, "minzheng", &[Role::Benefits]).await;
    let page = officer.get("/staff/officials").await;
    let html = page.ok();
    assert!(html.contains("id=\"signers-only\""));
    let table = section(html, "officials");
    assert!(table.contains("张某明") && table.contains("王某林") && table.contains("陈某国"));
    assert!(!table.contains("李某强"), "signed nothing");
}
