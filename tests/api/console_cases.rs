//! 案件 in the staff console (issue 13), on every backend with a frozen clock (Monday 30
//! November 2026): the queue (`/staff/cases`) with every filter of the API, its refusals and
//! pagination; `due_within_days`, shared by the API and the console; the case page for each role
//! that may read cases and the Chinese 403 for the others; only the actions the state machine
//! and the user's roles allow, shown and accepted; a filing request and its approval; every
//! closing blocker in words; messages, notes, evidence downloads and CSRF.

use chrono::NaiveDate;
use diesel::prelude::*;
use probity::db::schema::{audit_events, cases};
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::console::{assert_self_contained, Console, Page};
use crate::helpers::{TestApp, PASSWORD};
use crate::triage::{json, world, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        the_queue_and_the_case_page_open_for_case_readers_only,
        the_queue_filters_sorts_counts_and_pages_like_the_api,
        due_within_days_is_one_rule_for_the_api_and_the_console,
        a_bad_filter_is_refused_in_chinese_with_the_apis_status,
        only_the_actions_the_state_and_the_role_allow_are_shown_or_accepted,
        a_filing_request_and_its_approval_through_the_console,
        every_closing_blocker_is_listed_in_words_with_where_to_resolve_it,
        messages_and_notes_through_the_console,
        evidence_downloads_go_through_the_audited_path,
        a_case_form_without_its_token_is_refused,
    ]
}

const CHANGNING: &str = "360734100";
const CHENGBEI: &str = "360734100201";
const CHENGUANG: &str = "360734101";
const SHABA: &str = "360734101201";

/// Signs an existing account of the world in to the console.
async fn desk<'a>(app: &'a TestApp, username: &str) -> Console<'a> {
    let mut console = Console::anonymous(app);
    let answer = console.login(username, PASSWORD).await;
    assert_eq!(answer.status, 303, "sign-in of {username}: {}", answer.body);
    console.username = username.to_string();
    console
}

/// A real-name report of `programme` in `village` of `township`, accepted as a village matter:
/// the case id.
async fn case_in(w: &World, programme: &str, township: &str, village: &str) -> String {
    let body = json!({
        "programme": programme,
        "misconduct": ["favouritism"],
        "township_code": township,
        "village_code": village,
        "accused": [{"name": "张某某", "position": "村支书"}],
        "description": "村支书把低保名额给了自己的亲戚，评议会没有公示，群众意见很大。",
        "anonymous": false,
        "reporter": {"name": "李某", "id_number": "11010519491231002X",
                     "phone": "13800138000", "email": null, "address": null}
    });
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/reports"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let number = json(r).await["report_number"].as_str().unwrap().to_string();
    let report: String = w
        .app
        .db(move |conn| {
            use probity::db::schema::reports;
            reports::table
                .filter(reports::number.eq(number))
                .select(reports::id)
                .first(conn)
                .unwrap()
        })
        .await;
    w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Assigns `case` to `user` through the API (supervisor).
async fn assign_api(w: &World, case: &str, user: &str) {
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{case}/assign"),
            &w.supervisor,
            &json!({ "assignee_id": user }),
        )
        .await;
    assert_eq!(r.status(), 200);
}

async fn case_api(w: &World, case: &str) -> Value {
    json(
        w.app
            .get_as(&format!("/api/v1/cases/{case}"), &w.supervisor)
            .await,
    )
    .await
}

async fn set_due(app: &TestApp, case: &str, due: NaiveDate) {
    let case = case.to_string();
    app.db(move |conn| {
        diesel::update(cases::table.find(case))
            .set(cases::due_on.eq(due))
            .execute(conn)
            .unwrap();
    })
    .await;
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The case numbers listed in the queue's table, in order.
fn listed(html: &str) -> Vec<String> {
    let Some(start) = html.find("id=\"cases\"") else {
        return Vec::new();
    };
    let table = &html[start
        ..html[start..]
            .find("</table>")
            .map_or(html.len(), |e| start + e)];
    table
        .split("<a href=\"/staff/cases/")
        .skip(1)
        .filter_map(|s| s.split('>').nth(1))
        .map(|s| s.split('<').next().unwrap_or_default().to_string())
        .collect()
}

/// The `href` of the link whose text is `text`.
fn link(html: &str, text: &str) -> Option<String> {
    let at = html.find(&format!(">{text}</a>"))?;
    let start = html[..at].rfind("href=\"")? + 6;
    let end = start + html[start..].find('"')?;
    Some(html[start..end].replace("&amp;", "&").replace("&#38;", "&"))
}

async fn number_of(w: &World, case: &str) -> String {
    case_api(w, case).await["number"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The queue with query `q`: the case numbers listed, and the page.
async fn get(c: &Console<'_>, q: &str) -> (Vec<String>, String) {
    let path = format!("/staff/cases{q}");
    let page = c.get(&path).await;
    let html = assert_page(&path, &page);
    (listed(&html), html)
}

fn assert_page(path: &str, page: &Page) -> String {
    let html = page.ok().to_string();
    assert_self_contained(path, &html);
    html
}

async fn the_queue_and_the_case_page_open_for_case_readers_only(backend: Backend) {
    let w = world(backend, true).await;
    let case = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    assign_api(&w, &case, &w.inv_a.0).await;
    let number = number_of(&w, &case).await;
    let page_path = format!("/staff/cases/{case}");
    for who in ["inv_a", "super", "auditor"] {
        let c = desk(&w.app, who).await;
        let html = assert_page("/staff/cases", &c.get("/staff/cases").await);
        assert_eq!(listed(&html), [number.as_str()], "{who}");
        assert!(html.contains("城北村"), "{who}: village names");
        assert!(html.contains("低保"), "{who}: programme in Chinese");
        assert!(html.contains("已受理，待处置"), "{who}: status in Chinese");
        assert!(html.contains("测试 inv_a"), "{who}: the assignee's name");
        assert!(html.contains("<label for=\"f-status\">"), "{who}: labelled");
        let html = assert_page(&page_path, &c.get(&page_path).await);
        assert!(html.contains(&number));
        assert!(
            html.contains("村支书把低保名额给了自己的亲戚"),
            "the report's text"
        );
        assert!(html.contains("id=\"timeline\""));
        assert!(html.contains("收到举报"), "the timeline in Chinese");
        // Never the reporter's identity.
        for secret in ["李某", "11010519491231002X", "13800138000"] {
            assert!(!html.contains(secret), "{who} sees {secret}");
        }
        // The sections of the other modules, in order.
        let order: Vec<usize> = [
            "id=\"summary\"",
            "id=\"reports\"",
            "id=\"messages\"",
            "id=\"notes\"",
            "id=\"investigations\"",
            "id=\"clawbacks\"",
            "id=\"remediation\"",
            "id=\"identity\"",
            "id=\"timeline\"",
        ]
        .iter()
        .map(|a| html.find(a).unwrap_or_else(|| panic!("{a}")))
        .collect();
        assert!(order.windows(2).all(|p| p[0] < p[1]), "{order:?}");
    }
    for (name, role) in [
        ("in.take", Role::Intake),
        ("bene.fits", Role::Benefits),
        ("ad.min", Role::Admin),
    ] {
        let c = Console::sign_in(&w.app, name, &[role]).await;
        c.get("/staff/cases").await.forbidden();
        c.get(&page_path).await.forbidden();
        c.get(&format!("{page_path}?done=note_added"))
            .await
            .forbidden();
    }
    // An investigator of another team: not in the queue, 403 on the page (as the API).
    let b = desk(&w.app, "inv_b").await;
    let html = assert_page("/staff/cases", &b.get("/staff/cases").await);
    assert!(listed(&html).is_empty());
    assert!(html.contains("没有符合条件的案件"));
    b.get(&page_path).await.forbidden();
    let missing = b.get("/staff/cases/no-such-case").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("找不到"));
}

async fn the_queue_filters_sorts_counts_and_pages_like_the_api(backend: Backend) {
    let w = world(backend, true).await;
    let one = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    let two = case_in(&w, "house_renovation", CHENGUANG, SHABA).await;
    let three = case_in(&w, "dibao", CHENGUANG, SHABA).await;
    assign_api(&w, &one, &w.inv_a.0).await;
    assign_api(&w, &three, &w.inv_a.0).await;
    // `one` overdue, `two` due on Wednesday (within 2 working days), `three` later.
    set_due(&w.app, &one, d(2026, 11, 27)).await;
    set_due(&w.app, &two, d(2026, 12, 2)).await;
    set_due(&w.app, &three, d(2026, 12, 21)).await;
    let (n1, n2, n3) = (
        number_of(&w, &one).await,
        number_of(&w, &two).await,
        number_of(&w, &three).await,
    );
    // Move `two` on (a minute later) so the status filter and the `updated` sort have something
    // to tell apart.
    w.app.clock.advance(chrono::Duration::minutes(1));
    let r = w
        .app
        .post_as(
            &format!("/api/v1/cases/{two}/disposition"),
            &w.supervisor,
            &json!({"disposition": "inquiry"}),
        )
        .await;
    assert_eq!(r.status(), 200);
    set_due(&w.app, &two, d(2026, 12, 2)).await;

    let sup = desk(&w.app, "super").await;
    let inv = desk(&w.app, "inv_a").await;
    let (all, html) = get(&sup, "").await;
    assert_eq!(all, [n1.clone(), n2.clone(), n3.clone()], "by deadline");
    // Overdue and due-soon are marked.
    assert!(html.contains("class=\"overdue\""));
    assert!(html.contains("已逾期"));
    assert!(html.contains("class=\"due-soon\""));
    // Counts by status, linked with the other filters kept.
    assert!(html.contains("<span class=\"count\">2</span>已受理，待处置"));
    assert!(html.contains("<span class=\"count\">1</span>谈话函询"));
    let (inquiry, _) = get(&sup, "?status=inquiry").await;
    assert_eq!(inquiry, [n2.as_str()]);
    assert_eq!(
        get(&sup, "?township=360734101").await.0,
        [n2.clone(), n3.clone()]
    );
    assert_eq!(get(&sup, "?village=360734100201").await.0, [n1.as_str()]);
    assert_eq!(
        get(&sup, "?programme=house_renovation").await.0,
        [n2.as_str()]
    );
    assert_eq!(get(&sup, "?overdue=true").await.0, [n1.as_str()]);
    assert_eq!(
        get(&sup, "?overdue=false").await.0,
        [n2.clone(), n3.clone()]
    );
    assert_eq!(
        get(&sup, "?due_before=2026-12-03").await.0,
        [n1.clone(), n2.clone()]
    );
    assert_eq!(get(&sup, "?due_within_days=2").await.0, [n2.as_str()]);
    assert_eq!(
        get(&sup, &format!("?assignee={}", w.inv_a.0)).await.0,
        [n1.clone(), n3.clone()]
    );
    assert_eq!(get(&inv, "?assignee=me").await.0, [n1.clone(), n3.clone()]);
    assert!(get(&sup, "?assignee=me").await.0.is_empty());
    assert_eq!(get(&sup, &format!("?team={}", w.team_a)).await.0.len(), 3);
    assert!(get(&sup, &format!("?team={}", w.team_b)).await.0.is_empty());
    // The blank fields of a submitted form mean "any"; the typed values stay in the form.
    let (narrowed, html) = get(
        &sup,
        "?status=&assignee=&team=&township=360734101&village=&programme=dibao&overdue=&due_within_days=&due_before=&sort=due&limit=",
    )
    .await;
    assert_eq!(narrowed, [n3.as_str()]);
    assert!(html.contains("<option value=\"dibao\" selected>"));
    // The status counts keep the other filters.
    let href = link(&html, "<span class=\"count\">1</span>已受理，待处置").unwrap();
    assert!(href.contains("programme=dibao"), "{href}");
    assert!(href.contains("status=registered"), "{href}");
    // Sorts.
    assert_eq!(
        get(&sup, "?sort=received").await.0,
        [n1.clone(), n2.clone(), n3.clone()]
    );
    assert_eq!(
        get(&sup, "?sort=updated").await.0[0],
        n2,
        "latest change first"
    );
    // Pages: one case a page, "下一页" carries the cursor and the filters.
    let (first, html) = get(&sup, "?limit=1&overdue=false").await;
    assert_eq!(first, [n2.as_str()]);
    let next = link(&html, "下一页").expect("a next page");
    assert!(
        next.contains("overdue=false") && next.contains("cursor="),
        "{next}"
    );
    let page = sup.get(&next).await;
    let html = assert_page(&next, &page);
    assert_eq!(listed(&html), [n3.as_str()]);
    assert!(link(&html, "第一页").is_some());
    // The investigator sees their teams' cases only, as in the API.
    let b = desk(&w.app, "inv_b").await;
    assert!(get(&b, "").await.0.is_empty());
}

async fn due_within_days_is_one_rule_for_the_api_and_the_console(backend: Backend) {
    let w = world(backend, true).await;
    let friday_due = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    let today_due = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    let later = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    let overdue = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    // Monday 30 November: 2 working days reach Wednesday 2 December, 4 reach Friday.
    set_due(&w.app, &friday_due, d(2026, 12, 4)).await;
    set_due(&w.app, &today_due, d(2026, 11, 30)).await;
    set_due(&w.app, &later, d(2026, 12, 7)).await;
    set_due(&w.app, &overdue, d(2026, 11, 29)).await;
    let wr = &w;
    let api = |q: &'static str| async move {
        let page = json(
            wr.app
                .get_as(&format!("/api/v1/cases{q}"), &wr.supervisor)
                .await,
        )
        .await;
        let ids: Vec<String> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_string())
            .collect();
        (ids, page)
    };
    assert_eq!(api("?due_within_days=0").await.0, [today_due.as_str()]);
    assert_eq!(api("?due_within_days=2").await.0, [today_due.as_str()]);
    let (four, page) = api("?due_within_days=4").await;
    assert_eq!(four, [today_due.clone(), friday_due.clone()]);
    assert_eq!(
        page["counts"]["registered"], 2,
        "counted under the same filter"
    );
    assert_eq!(
        api("?due_within_days=5").await.0,
        [today_due.clone(), friday_due.clone(), later.clone()]
    );
    let bad = w
        .app
        .get_as("/api/v1/cases?due_within_days=31", &w.supervisor)
        .await;
    let p = crate::helpers::assert_problem(bad, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "due_within_days");
    // The console's filter is the same.
    let sup = desk(&w.app, "super").await;
    let html = assert_page(
        "/staff/cases?due_within_days=4",
        &sup.get("/staff/cases?due_within_days=4").await,
    );
    let numbers = [
        number_of(&w, &today_due).await,
        number_of(&w, &friday_due).await,
    ];
    assert_eq!(listed(&html), numbers);
    assert!(html.contains("name=\"due_within_days\" value=\"4\""));
    // The OpenAPI document describes it.
    let openapi = json(
        w.app
            .client
            .get(w.app.url("/api/v1/openapi.json"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let params = openapi["paths"]["/api/v1/cases"]["get"]["parameters"].to_string();
    assert!(params.contains("due_within_days"), "{params}");
}

async fn a_bad_filter_is_refused_in_chinese_with_the_apis_status(backend: Backend) {
    let w = world(backend, true).await;
    case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    let sup = desk(&w.app, "super").await;
    // A value of the wrong type: the API's 400 `invalid_query`.
    let page = sup
        .get("/staff/cases?overdue=maybe&village=360734100201")
        .await;
    assert_eq!(page.status, 400, "{}", page.body);
    assert_self_contained("/staff/cases", &page.body);
    assert!(page.body.contains("筛选条件有误"), "{}", page.body);
    assert!(page.body.contains("invalid_query"));
    assert!(page.body.contains("id=\"case-filters\""), "the form stays");
    assert!(page.body.contains("value=\"360734100201\""), "as typed");
    assert!(page.body.contains("maybe（无此选项）"));
    assert!(listed(&page.body).is_empty());
    let api = w
        .app
        .get_as("/api/v1/cases?overdue=maybe", &w.supervisor)
        .await;
    assert_eq!(api.status(), 400);
    // Values the queue does not know: the API's 422, each beside its field.
    let page = sup
        .get("/staff/cases?status=bogus&due_within_days=99&sort=age")
        .await;
    assert_eq!(page.status, 422, "{}", page.body);
    assert!(page.body.contains("有些内容填写有误"));
    assert!(page.body.contains("class=\"field-error\""));
    assert!(page.body.contains("bogus（无此选项）"));
    assert!(page.body.contains("name=\"due_within_days\" value=\"99\""));
    let api = w
        .app
        .get_as(
            "/api/v1/cases?status=bogus&due_within_days=99&sort=age",
            &w.supervisor,
        )
        .await;
    let p = crate::helpers::assert_problem(api, 422, "validation_failed").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 3);
    // A cursor that is not one.
    let page = sup.get("/staff/cases?cursor=nonsense").await;
    assert_eq!(page.status, 422);
    assert!(page.body.contains("从第一页开始"));
}

async fn only_the_actions_the_state_and_the_role_allow_are_shown_or_accepted(backend: Backend) {
    let w = world(backend, true).await;
    let case = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    assign_api(&w, &case, &w.inv_a.0).await;
    let path = format!("/staff/cases/{case}");
    let version = case_api(&w, &case).await["version"].to_string();

    // A registered case: the investigator of its team gives dispositions, nothing else.
    let inv = desk(&w.app, "inv_a").await;
    let html = assert_page(&path, &inv.get(&path).await);
    assert!(html.contains("id=\"disposition-form\""));
    for d in [
        "inquiry",
        "preliminary_verification",
        "on_hold",
        "close_without_action",
        "file",
    ] {
        assert!(html.contains(&format!("<option value=\"{d}\"")), "{d}");
    }
    for absent in [
        "id=\"filing-form\"",
        "id=\"close-form\"",
        "id=\"reopen-form\"",
        "id=\"assign-form\"",
        "id=\"clawback-statement\"",
    ] {
        assert!(!html.contains(absent), "investigator: {absent}");
    }
    assert!(html.contains("id=\"reply\"") && html.contains("id=\"note-form\""));
    // The supervisor also assigns; no filing decision, close or reopen yet.
    let sup = desk(&w.app, "super").await;
    let html = assert_page(&path, &sup.get(&path).await);
    assert!(html.contains("id=\"disposition-form\""));
    assert!(html.contains("id=\"assign-form\""));
    for absent in [
        "id=\"filing-form\"",
        "id=\"close-form\"",
        "id=\"reopen-form\"",
    ] {
        assert!(!html.contains(absent), "supervisor: {absent}");
    }
    // The auditor reads: no case action, only sign-out's form and the identity-access request
    // (which the API lets anyone who can see the case make, for a supervisor to decide).
    let aud = desk(&w.app, "auditor").await;
    let html = assert_page(&path, &aud.get(&path).await);
    let forms = html.matches("<form method=\"post\"").count();
    let identity = usize::from(html.contains("id=\"identity-request-form\""));
    assert_eq!(forms, 1 + identity, "{html}");
    assert!(html.contains("id=\"no-actions\""));

    // Posted anyway: refused as the API refuses.
    let posted = aud
        .post(
            &format!("{path}/disposition"),
            &[("disposition", "inquiry"), ("version", &version)],
        )
        .await;
    posted.forbidden();
    aud.post(&format!("{path}/notes"), &[("body", "审计意见")])
        .await
        .forbidden();
    inv.post(
        &format!("{path}/filing-decision"),
        &[("decision", "approve"), ("version", &version)],
    )
    .await
    .forbidden();
    inv.post(&format!("{path}/close"), &[("reason", "办完了")])
        .await
        .forbidden();
    inv.post(&format!("{path}/assign"), &[("assignee_id", &w.inv_a.0)])
        .await
        .forbidden();
    // A supervisor's close of a registered case: the state machine's 409, in Chinese.
    let refused = sup
        .post(
            &format!("{path}/close"),
            &[
                ("form", "close"),
                ("reason", "办完了"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("案件当前的状态不允许这项操作"));
    assert!(refused.body.contains("invalid_transition"));
    // A disposition the status does not allow (inquiry twice): 409 too.
    let r = inv
        .post(
            &format!("{path}/disposition"),
            &[
                ("form", "disposition"),
                ("disposition", "inquiry"),
                ("version", &version),
            ],
        )
        .await;
    assert!(r.redirect().contains("done=disposition_inquiry"));
    let html = assert_page(&path, &inv.get(&path).await);
    assert!(
        !html.contains("<option value=\"inquiry\""),
        "inquiry is no longer offered"
    );
    let version = case_api(&w, &case).await["version"].to_string();
    let again = inv
        .post(
            &format!("{path}/disposition"),
            &[
                ("form", "disposition"),
                ("disposition", "inquiry"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(again.status, 409);
    // A stale page: the API's version conflict, with the typed reason kept.
    let stale = inv
        .post(
            &format!("{path}/disposition"),
            &[
                ("form", "disposition"),
                ("disposition", "on_hold"),
                ("review_on", "2026-12-20"),
                ("reason", "等待村里的材料"),
                ("version", "1"),
            ],
        )
        .await;
    assert_eq!(stale.status, 409);
    assert!(stale.body.contains("这件事刚刚被别人改过"));
    assert!(stale.body.contains("等待村里的材料"));
    // A missing required field: 422 beside the field, in Chinese.
    let missing = inv
        .post(
            &format!("{path}/disposition"),
            &[
                ("form", "disposition"),
                ("disposition", "on_hold"),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(missing.status, 422, "{}", missing.body);
    assert!(missing.body.contains("class=\"field-error\""));
    assert!(missing.body.contains("<option value=\"on_hold\" selected>"));
    assert_eq!(case_api(&w, &case).await["status"], "inquiry");
}

async fn a_filing_request_and_its_approval_through_the_console(backend: Backend) {
    let w = world(backend, true).await;
    let case = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    let path = format!("/staff/cases/{case}");
    let sup = desk(&w.app, "super").await;
    // Assign through the console: the select lists the team's investigators only.
    let html = assert_page(&path, &sup.get(&path).await);
    assert!(html.contains(&format!("<option value=\"{}\"", w.inv_a.0)));
    assert!(!html.contains(&format!("<option value=\"{}\"", w.inv_b.0)));
    let version = case_api(&w, &case).await["version"].to_string();
    let wrong = sup
        .post(
            &format!("{path}/assign"),
            &[
                ("form", "assign"),
                ("assignee_id", &w.inv_b.0),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("不是本案所属工作组的在岗调查人员"));
    let done = sup
        .post(
            &format!("{path}/assign"),
            &[
                ("form", "assign"),
                ("assignee_id", &w.inv_a.0),
                ("version", &version),
            ],
        )
        .await;
    assert_eq!(
        done.redirect(),
        format!("/staff/cases/{case}?done=case_assigned#actions")
    );
    assert_eq!(case_api(&w, &case).await["assignee_id"], w.inv_a.0.as_str());

    // The investigator asks for filing.
    let inv = desk(&w.app, "inv_a").await;
    let version = case_api(&w, &case).await["version"].to_string();
    let asked = inv
        .post(
            &format!("{path}/disposition"),
            &[
                ("form", "disposition"),
                ("disposition", "file"),
                ("reason", "初核属实，建议立案"),
                ("version", &version),
            ],
        )
        .await;
    let location = asked.redirect().to_string();
    assert_eq!(
        location,
        format!("/staff/cases/{case}?done=disposition_file#actions")
    );
    let html = assert_page(&location, &inv.get(&location).await);
    assert!(html.contains("已提请立案，等待主管领导审批"));
    assert!(html.contains("待审批立案"));
    assert!(!html.contains("id=\"disposition-form\""));
    assert!(
        !html.contains("id=\"filing-form\""),
        "not the investigator's decision"
    );

    // The supervisor approves.
    let html = assert_page(&path, &sup.get(&path).await);
    assert!(html.contains("id=\"filing-form\""));
    assert!(html.contains("value=\"approve\"") && html.contains("value=\"reject\""));
    assert!(!html.contains("id=\"disposition-form\""));
    let version = case_api(&w, &case).await["version"].to_string();
    let approved = sup
        .post(
            &format!("{path}/filing-decision"),
            &[
                ("form", "filing"),
                ("decision", "approve"),
                ("reason", "同意立案"),
                ("version", &version),
            ],
        )
        .await;
    let location = approved.redirect().to_string();
    assert!(location.contains("done=filing_approved"));
    let html = assert_page(&location, &sup.get(&location).await);
    assert!(html.contains("已批准立案"));
    assert!(html.contains("已立案，调查中"));
    assert!(html.contains("批准立案</td>"), "in the timeline");
    let view = case_api(&w, &case).await;
    assert_eq!(view["status"], "filed");
    assert_eq!(view["investigations"].as_array().unwrap().len(), 2);
    let by: Vec<String> = w
        .app
        .db(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("case.filing_approved"))
                .select(audit_events::actor)
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(by.len(), 1);
    assert!(by[0].starts_with("user:"));
    // Approved once: the form is gone and a second decision is the state machine's 409.
    assert!(!html.contains("id=\"filing-form\""));
    let again = sup
        .post(
            &format!("{path}/filing-decision"),
            &[("form", "filing"), ("decision", "reject")],
        )
        .await;
    assert_eq!(again.status, 409);
    // No decision chosen: nothing decided.
    let none = sup
        .post(&format!("{path}/filing-decision"), &[("form", "filing")])
        .await;
    assert_eq!(none.status, 422);
}

async fn every_closing_blocker_is_listed_in_words_with_where_to_resolve_it(backend: Backend) {
    let w = world(backend, true).await;
    let case = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    assign_api(&w, &case, &w.inv_a.0).await;
    let api = |path: String, token: String, body: Value| {
        let app = &w.app;
        async move { app.post_as(&path, &token, &body).await }
    };
    let r = api(
        format!("/api/v1/cases/{case}/disposition"),
        w.inv_a.1.clone(),
        json!({"disposition": "file"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = api(
        format!("/api/v1/cases/{case}/filing-decision"),
        w.supervisor.clone(),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let path = format!("/staff/cases/{case}");
    let sup = desk(&w.app, "super").await;
    let html = assert_page(&path, &sup.get(&path).await);
    assert!(html.contains("尚不能结案"));
    assert!(!html.contains("id=\"close-form\""), "close is not offered");
    // Posted anyway: 409 with every blocker in words and a link to where it is resolved.
    let version = case_api(&w, &case).await["version"].to_string();
    let refused = sup
        .post(
            &format!("{path}/close"),
            &[("form", "close"), ("reason", "办结"), ("version", &version)],
        )
        .await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    let body = &refused.body;
    assert!(body.contains("还有未完成的事项，案件不能办结"));
    assert!(body.contains("对被反映问题的调查（主调查）尚未终结"));
    assert!(body.contains("对上一级领导的责任调查（一案双查）尚未终结"));
    assert!(body.contains("实名举报人还没有收到办理结果反馈"));
    assert!(body.contains("<a href=\"#investigations\">"));
    assert!(body.contains("<a href=\"#reply\">"));

    // The primary finds wrongdoing: the clawback and remediation questions come up.
    let investigations = json(
        w.app
            .get_as(
                &format!("/api/v1/cases/{case}/investigations"),
                &w.supervisor,
            )
            .await,
    )
    .await;
    let primary = investigations["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == "primary")
        .unwrap()
        .clone();
    let r = api(
        format!(
            "/api/v1/investigations/{}/conclude",
            primary["id"].as_str().unwrap()
        ),
        w.inv_a.1.clone(),
        json!({"outcome": "substantiated", "findings": "查实，村支书优亲厚友。",
               "version": primary["version"]}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let html = assert_page(&path, &sup.get(&path).await);
    assert!(!html.contains("对被反映问题的调查（主调查）尚未终结"));
    assert!(html.contains("对上一级领导的责任调查（一案双查）尚未终结"));
    assert!(html.contains("还没有回答是否需要追回资金"));
    assert!(html.contains("<a href=\"#clawbacks\">"));
    assert!(html.contains("村里还没有整改方案"));
    assert!(html.contains("<a href=\"#remediation\">"));
    assert!(html.contains("实名举报人还没有收到办理结果反馈"));
    // A clawback statement answers the clawback question (investigator of the team).
    let inv = desk(&w.app, "inv_a").await;
    let html = assert_page(&path, &inv.get(&path).await);
    assert!(html.contains("id=\"clawback-statement\""));
    let unticked = inv
        .post(
            &format!("{path}/clawback-statement"),
            &[("form", "statement"), ("reason", "经核查无违规发放")],
        )
        .await;
    assert_eq!(unticked.status, 422);
    assert!(unticked.body.contains("经核查无违规发放"), "kept as typed");
    let stated = inv
        .post(
            &format!("{path}/clawback-statement"),
            &[
                ("form", "statement"),
                ("no_improper_payment", "true"),
                ("reason", "经核查无违规发放"),
            ],
        )
        .await;
    assert!(stated.redirect().contains("done=clawback_statement"));
    let html = assert_page(&path, &sup.get(&path).await);
    assert!(!html.contains("还没有回答是否需要追回资金"));
    assert!(!html.contains("id=\"clawback-statement\""));
}

async fn messages_and_notes_through_the_console(backend: Backend) {
    let w = world(backend, true).await;
    let (report, code) = w.report(CHANGNING, CHENGBEI, "张某某").await;
    let case = w.accept(&report).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    assign_api(&w, &case, &w.inv_a.0).await;
    let path = format!("/staff/cases/{case}");
    let inv = desk(&w.app, "inv_a").await;
    let html = assert_page(&path, &inv.get(&path).await);
    for kind in ["question", "acknowledgement", "feedback"] {
        assert!(
            html.contains(&format!("<option value=\"{kind}\"")),
            "{kind}"
        );
    }
    assert!(html.contains("<label for=\"message-kind\">"));
    // A question reaches the reporter.
    let sent = inv
        .post(
            &format!("{path}/messages"),
            &[
                ("form", "message"),
                ("kind", "question"),
                ("body", "请补充评议会的时间和地点。"),
            ],
        )
        .await;
    assert_eq!(
        sent.redirect(),
        format!("/staff/cases/{case}?done=message_sent#messages")
    );
    let reporter = w.reporter_view(&code).await;
    let bodies = reporter["messages"].to_string();
    assert!(bodies.contains("请补充评议会的时间和地点。"), "{bodies}");
    assert!(
        !bodies.contains("inv_a"),
        "staff names never reach the reporter"
    );
    let html = assert_page(&path, &inv.get(&path).await);
    assert!(html.contains("请补充评议会的时间和地点。"));
    assert!(html.contains("询问（请举报人补充说明）"));
    // An empty message: 422 beside the field, the kind kept.
    let empty = inv
        .post(
            &format!("{path}/messages"),
            &[
                ("form", "message"),
                ("kind", "acknowledgement"),
                ("body", " "),
            ],
        )
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("class=\"field-error\""));
    assert!(empty
        .body
        .contains("<option value=\"acknowledgement\" selected>"));
    // Feedback before a result: the API's 409, in Chinese, with the text kept.
    let early = inv
        .post(
            &format!("{path}/messages"),
            &[
                ("form", "message"),
                ("kind", "feedback"),
                ("body", "经查属实。"),
            ],
        )
        .await;
    assert_eq!(early.status, 409);
    assert!(early.body.contains("暂时不能向举报人反馈结果"));
    assert!(early.body.contains("经查属实。</textarea>"));
    // Notes: internal, with their author.
    let noted = inv
        .post(
            &format!("{path}/notes"),
            &[("form", "note"), ("body", "已约谈村会计，待核对名单。")],
        )
        .await;
    assert!(noted.redirect().contains("done=note_added"));
    let html = assert_page(&path, &inv.get(&format!("{path}?done=note_added")).await);
    assert!(html.contains("备注已添加"));
    assert!(html.contains("已约谈村会计，待核对名单。"));
    assert!(html.contains("测试 inv_a"));
    let reporter = w.reporter_view(&code).await.to_string();
    assert!(!reporter.contains("已约谈村会计"));
    let empty = inv
        .post(&format!("{path}/notes"), &[("form", "note"), ("body", "")])
        .await;
    assert_eq!(empty.status, 422);
    assert!(empty.body.contains("class=\"field-error\""));
    // A long history: the latest 40 notes, and a link to every one.
    for i in 0..40 {
        w.app.clock.advance(chrono::Duration::seconds(1));
        let r = w
            .app
            .post_as(
                &format!("/api/v1/cases/{case}/notes"),
                &w.inv_a.1,
                &json!({ "body": format!("第{i}次核查记录。") }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }
    let html = assert_page(&path, &inv.get(&path).await);
    assert!(html.contains("较早的 1 条备注没有显示"));
    assert!(!html.contains("已约谈村会计，待核对名单。"));
    assert!(html.contains("第39次核查记录。"));
    let all = format!("{path}?notes=all");
    let html = assert_page(&all, &inv.get(&all).await);
    assert!(html.contains("已约谈村会计，待核对名单。"));
    assert!(!html.contains("没有显示"));
}

async fn evidence_downloads_go_through_the_audited_path(backend: Backend) {
    let w = world(backend, true).await;
    let report = json!({
        "programme": "dibao",
        "misconduct": ["favouritism"],
        "township_code": CHANGNING,
        "village_code": CHENGBEI,
        "accused": [{"name": "张某某", "position": "村支书"}],
        "description": "村支书把低保名额给了自己的亲戚，评议会没有公示，群众意见很大。",
        "anonymous": true
    });
    let png = crate::evidence::png_sized(600);
    let form = reqwest::multipart::Form::new()
        .text("report", report.to_string())
        .part(
            "files",
            reqwest::multipart::Part::bytes(png.clone()).file_name("photo.png"),
        );
    let r = w
        .app
        .client
        .post(w.app.url("/api/v1/reports"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let report_id: String = w
        .app
        .db(|conn| {
            use probity::db::schema::reports;
            reports::table.select(reports::id).first(conn).unwrap()
        })
        .await;
    let case = w.accept(&report_id).await["case_id"]
        .as_str()
        .unwrap()
        .to_string();
    let path = format!("/staff/cases/{case}");
    let aud = desk(&w.app, "auditor").await;
    let html = assert_page(&path, &aud.get(&path).await);
    let href = link(&html, "下载图片").expect("a download link");
    assert!(href.starts_with(&format!("/staff/cases/{case}/evidence/")));
    let response = aud.get_response(&href).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment;"));
    assert_eq!(response.headers()["content-type"], "image/png");
    let attachment = href.rsplit('/').next().unwrap().to_string();
    // The same audit entry as the API's download, by the auditor.
    let entries: Vec<(String, String, String)> = w
        .app
        .db(|conn| {
            audit_events::table
                .filter(audit_events::action.eq("attachment.downloaded"))
                .select((
                    audit_events::actor,
                    audit_events::entity_id,
                    audit_events::details,
                ))
                .load(conn)
                .unwrap()
        })
        .await;
    assert_eq!(entries.len(), 1);
    assert!(entries[0].0.starts_with("user:"));
    assert_eq!(entries[0].1, report_id);
    assert!(entries[0].2.contains(&attachment));
    // Only a file of a case the user may see, by way of that case.
    let b = desk(&w.app, "inv_b").await;
    b.get(&href).await.forbidden();
    let other = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    let wrong = aud
        .get(&format!("/staff/cases/{other}/evidence/{attachment}"))
        .await;
    assert_eq!(wrong.status, 404);
    let intake = Console::sign_in(&w.app, "xin.fang", &[Role::Intake]).await;
    intake.get(&href).await.forbidden();
}

async fn a_case_form_without_its_token_is_refused(backend: Backend) {
    let w = world(backend, true).await;
    let case = case_in(&w, "dibao", CHANGNING, CHENGBEI).await;
    assign_api(&w, &case, &w.inv_a.0).await;
    let inv = desk(&w.app, "inv_a").await;
    let path = format!("/staff/cases/{case}/disposition");
    let forged = inv
        .post_raw(
            &path,
            &[("disposition", "close_without_action"), ("reason", "x")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("页面已过期"));
    let token = inv.csrf().await;
    let cross = inv
        .post_with(
            &path,
            &[
                ("csrf_token", token.as_str()),
                ("disposition", "close_without_action"),
                ("reason", "x"),
            ],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, 403);
    assert_eq!(case_api(&w, &case).await["status"], "registered");
}
