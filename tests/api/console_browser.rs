//! The staff half of a case in a real headless Chromium with JavaScript disabled (issue 13,
//! "Done when"): an intake officer accepts a report; a supervisor assigns it; the investigator
//! asks the reporter a question and the reporter answers on `/follow-up`; the investigator asks
//! for filing and a supervisor approves; the case page shows the accountability investigation and
//! the suspended village; a clawback with three signers and a recovery; both investigations
//! concluded; the remediation item verified and the suspension lifted; feedback sent and the case
//! closed. Every step goes through the console's forms. Screenshots at 1280 px (and the case
//! page and queue at 768 px) go to `PROBITY_SCREENSHOTS_DIR` (docs/screenshots for
//! docs/console.md). SQLite only, like the reporter's browser test.

use diesel::prelude::*;
use fantoccini::{Client, Locator};
use probity::db::schema::{cases, investigations, reports, suspensions};
use probity::db::Backend;

use crate::helpers::{app, TestApp, PASSWORD};
use crate::lifecycle::{Life, TOWNSHIP, VILLAGE};
use crate::web::{
    browser_tools, by_id, connect_with, main_text, shot_in, type_into, Driver, Window,
};

pub const BROWSER_TRIAL: &str = "sqlite::console_browser::the_staff_half_of_a_case_in_a_browser";

const WIDE: u32 = 1280;
const TALL: u32 = 900;
const TABLET: u32 = 768;

/// The trial, listed like the reporter's (run in CI, where `.ci/run` installs Chromium).
pub fn trials() -> Vec<libtest_mimic::Trial> {
    use libtest_mimic::{Failed, Trial};
    match browser_tools() {
        Ok(_) => vec![Trial::test(BROWSER_TRIAL, || {
            crate::run(Backend::Sqlite, |b| {
                Box::pin(the_staff_half_of_a_case_in_a_browser(b))
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

async fn the_staff_half_of_a_case_in_a_browser(backend: Backend) {
    let tools = browser_tools().expect("checked when the trial was listed");
    let life = Life::on(app(backend)).await;
    let scratch = tempfile::tempdir().unwrap();
    let profile = scratch.path().join("profile");
    let driver = Driver::start(&tools).await;
    let c = connect_with(
        &driver,
        &tools,
        &profile,
        Window {
            width: WIDE,
            height: TALL,
            javascript: false,
            scale: 1,
        },
    )
    .await;
    let walk = std::panic::AssertUnwindSafe(walk(&c, &life));
    let outcome = futures_util::FutureExt::catch_unwind(walk).await;
    let _ = c.close().await;
    drop(driver);
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

// ---------- browser steps ----------

/// Clicks the element `css` (a submit button) and waits for the next page: the old document
/// goes stale, then the new one has `main`.
async fn press(c: &Client, css: &str) {
    let old_page = c.find(Locator::Css("html")).await.unwrap();
    let button = match c.find(Locator::Css(css)).await {
        Ok(b) => b,
        Err(e) => {
            let url = c.current_url().await.map(|u| u.to_string());
            panic!("no {css} on {url:?}: {e}\n{}", main_text(c).await)
        }
    };
    button.click().await.unwrap();
    let left = crate::helpers::eventually(std::time::Duration::from_secs(15), || {
        let old_page = old_page.clone();
        async move { old_page.tag_name().await.is_err().then_some(()) }
    })
    .await;
    assert!(left.is_some(), "pressing {css} loaded no new page");
    c.wait()
        .at_most(std::time::Duration::from_secs(10))
        .for_element(Locator::Css("main"))
        .await
        .unwrap_or_else(|e| panic!("after {css}: no page: {e}"));
}

/// Sets the value of the form control `css` (a select's option, a date), as a user choosing it.
async fn choose(c: &Client, css: &str, value: &str) {
    let element = match c.find(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => panic!("no {css}: {e}\n{}", main_text(c).await),
    };
    if element.tag_name().await.unwrap() == "select" {
        let option = element
            .find(Locator::Css(&format!("option[value='{value}']")))
            .await
            .unwrap_or_else(|e| panic!("no option {value} in {css}: {e}"));
        option.click().await.unwrap();
    } else {
        // Date inputs take typed dates in the browser's locale format; set the value instead.
        c.execute(
            "arguments[0].value = arguments[1];",
            vec![serde_json::to_value(&element).unwrap(), value.into()],
        )
        .await
        .unwrap();
    }
}

/// Types `text` into the control `css`.
async fn fill(c: &Client, css: &str, text: &str) {
    let element = match c.find(Locator::Css(css)).await {
        Ok(e) => e,
        Err(e) => panic!("no {css}: {e}\n{}", main_text(c).await),
    };
    element.clear().await.unwrap();
    element.send_keys(text).await.unwrap();
}

async fn sign_in(c: &Client, app: &TestApp, username: &str) {
    c.goto(&app.url("/staff/login")).await.unwrap();
    type_into(c, "username", username).await;
    type_into(c, "password", PASSWORD).await;
    press(c, "#login-form button[type='submit']").await;
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/staff",
        "{username}"
    );
}

async fn sign_out(c: &Client) {
    press(c, "form[action='/staff/sign-out'] button[type='submit']").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/staff/login");
}

async fn shot(c: &Client, name: &str) {
    shot_in(c, &format!("console-{name}"), WIDE, TALL).await;
}

async fn shot_tablet(c: &Client, name: &str) {
    c.set_window_size(TABLET, TALL).await.unwrap();
    shot_in(c, &format!("console-{name}-768"), TABLET, TALL).await;
    c.set_window_size(WIDE, TALL).await.unwrap();
}

async fn says(c: &Client, expected: &str) {
    let text = main_text(c).await;
    assert!(
        text.contains(expected),
        "the page should say {expected}:\n{text}"
    );
}

// ---------- database reads ----------

async fn case_of(app: &TestApp, report: &str) -> String {
    let report = report.to_string();
    app.db(move |conn| {
        reports::table
            .find(report)
            .select(reports::case_id)
            .first::<Option<String>>(conn)
            .unwrap()
            .expect("accepted")
    })
    .await
}

async fn case_status(app: &TestApp, case: &str) -> String {
    let case = case.to_string();
    app.db(move |conn| {
        cases::table
            .find(case)
            .select(cases::status)
            .first::<String>(conn)
            .unwrap()
    })
    .await
}

async fn suspension_lifted(app: &TestApp) -> Vec<bool> {
    app.db(|conn| {
        suspensions::table
            .filter(suspensions::village_code.eq(VILLAGE))
            .select(suspensions::lifted_at.is_not_null())
            .load::<bool>(conn)
            .unwrap()
    })
    .await
}

async fn open_investigations(app: &TestApp, case: &str) -> i64 {
    let case = case.to_string();
    app.db(move |conn| {
        investigations::table
            .filter(investigations::case_id.eq(case))
            .filter(investigations::status.ne("concluded"))
            .count()
            .get_result(conn)
            .unwrap()
    })
    .await
}

// ---------- the walk ----------

async fn walk(c: &Client, life: &Life) {
    let app = &life.w.app;
    let (report, code) = life.w.report(TOWNSHIP, VILLAGE, "张某某").await;
    let page_of = |case: &str| app.url(&format!("/staff/cases/{case}"));

    // 1. The intake officer accepts the report, naming the village's secretary.
    sign_in(c, app, "intake").await;
    shot(c, "desk-intake").await;
    c.goto(&app.url("/staff/intake")).await.unwrap();
    shot(c, "intake").await;
    press(c, &format!("a[href='/staff/reports/{report}']")).await;
    says(c, "分办").await;
    choose(c, "#accept-level", "village").await;
    c.find(Locator::Css(&format!(
        "input[name='accused_official_ids'][value='{}']",
        life.village_official
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    shot(c, "report").await;
    press(c, "#form-accept button[type='submit']").await;
    says(c, "举报已受理").await;
    let case = case_of(app, &report).await;
    assert_eq!(case_status(app, &case).await, "registered");
    sign_out(c).await;
    shot(c, "login").await;

    // 2. A supervisor assigns it to investigator ina.
    sign_in(c, app, "super").await;
    shot(c, "desk-supervisor").await;
    c.goto(&app.url("/staff/cases")).await.unwrap();
    shot(c, "queue").await;
    shot_tablet(c, "queue").await;
    c.goto(&page_of(&case)).await.unwrap();
    choose(c, "#assignee", &life.ina.0).await;
    press(c, "#assign-form button[type='submit']").await;
    sign_out(c).await;

    // 3. The investigator asks the reporter a question…
    sign_in(c, app, "ina").await;
    c.goto(&page_of(&case)).await.unwrap();
    choose(c, "#message-kind", "question").await;
    fill(
        c,
        "#message-body",
        "请问您反映的亲属关系，有没有户口簿或评议名单可以证明？",
    )
    .await;
    press(c, "#reply button[type='submit']").await;
    says(c, "有没有户口簿").await;
    sign_out(c).await;
    // …and the reporter answers on /follow-up, where no staff name appears.
    c.goto(&app.url("/follow-up")).await.unwrap();
    type_into(c, "receipt_code", &code).await;
    press(c, "form[action='/follow-up'] button[type='submit']").await;
    says(c, "有没有户口簿").await;
    let reporter_view = main_text(c).await;
    assert!(!reporter_view.contains("测试 ina"), "{reporter_view}");
    fill(c, "#reply", "评议名单在村委会公告栏贴过，我拍了照片。").await;
    press(
        c,
        "form[action='/follow-up/messages'] button[type='submit']",
    )
    .await;
    press(
        c,
        "form[action='/follow-up/sign-out'] button[type='submit']",
    )
    .await;

    // 4. The investigator reads the answer and asks for filing; a supervisor approves.
    sign_in(c, app, "ina").await;
    c.goto(&page_of(&case)).await.unwrap();
    says(c, "评议名单在村委会公告栏贴过").await;
    choose(c, "#disposition", "file").await;
    press(c, "#disposition-form button[type='submit']").await;
    assert_eq!(case_status(app, &case).await, "filing_requested");
    sign_out(c).await;
    sign_in(c, app, "super").await;
    c.goto(&page_of(&case)).await.unwrap();
    fill(
        c,
        "#filing-reason",
        "经初步核实，反映的问题基本属实，需立案审查。",
    )
    .await;
    press(c, "#filing-form button[value='approve']").await;
    assert_eq!(case_status(app, &case).await, "filed");

    // 5. The case page shows the accountability investigation and the suspended village.
    c.goto(&page_of(&case)).await.unwrap();
    let investigations_text = by_id(c, "investigations").await.text().await.unwrap();
    assert!(
        investigations_text.contains("一案双查") || investigations_text.contains("责任"),
        "{investigations_text}"
    );
    let remediation_text = by_id(c, "remediation").await.text().await.unwrap();
    assert!(remediation_text.contains("暂停"), "{remediation_text}");
    assert_eq!(suspension_lifted(app).await, vec![false]);
    shot(c, "case-filed").await;
    shot_tablet(c, "case-filed").await;

    // 6. A clawback with three signers, and a recovery paid by the village signer.
    let form = "#clawback-record-form";
    fill(c, "#cb-name", "王某").await;
    fill(c, "#cb-id-number", "11010519491231002X").await;
    choose(c, "#cb-village", VILLAGE).await;
    choose(c, "#cb-programme", "dibao").await;
    choose(c, "#cb-from", "2025-01-01").await;
    choose(c, "#cb-to", "2025-12-31").await;
    fill(c, "#cb-amount", "3,600.00").await;
    choose(c, "#cb-due", "2027-03-31").await;
    let signers = [
        (&life.village_official, "village_deliberation", "2025-03-02"),
        (&life.leaders[0], "township_review", "2025-03-10"),
        (&life.county_official, "county_approval", "2025-03-20"),
    ];
    for (n, (official, stage, on)) in signers.iter().enumerate() {
        let row = n + 1;
        choose(c, &format!("#cb-s{row}-official"), official).await;
        choose(c, &format!("#cb-s{row}-stage"), stage).await;
        choose(c, &format!("#cb-s{row}-date"), on).await;
    }
    press(c, &format!("{form} button[type='submit']")).await;
    says(c, "¥3,600.00").await;
    let recovery = "form:has(input[name='form'][value='recovery'])";
    fill(
        c,
        &format!("{recovery} input[name='amount_yuan']"),
        "1,200.50",
    )
    .await;
    choose(
        c,
        &format!("{recovery} input[name='paid_on']"),
        "2026-11-30",
    )
    .await;
    choose(
        c,
        &format!("{recovery} select[name='payer']"),
        &format!("signer:{}", life.village_official),
    )
    .await;
    fill(c, &format!("{recovery} input[name='reference']"), "HK-0001").await;
    press(c, &format!("{recovery} button[type='submit']")).await;
    says(c, "¥1,200.50").await;
    shot(c, "case-clawback").await;

    // 7. Both investigations concluded: the primary with a sanction of the village secretary,
    // the accountability investigation with one of the township's leaders.
    let conclude = "#investigations form[action$='/conclude']";
    choose(
        c,
        &format!("{conclude} select[name='outcome']"),
        "substantiated",
    )
    .await;
    fill(
        c,
        &format!("{conclude} textarea[name='findings']"),
        "经查，村支书将低保名额给予亲属，评议未公示，属实。",
    )
    .await;
    choose(
        c,
        &format!("{conclude} select[name='s_official']"),
        &life.village_official,
    )
    .await;
    choose(
        c,
        &format!("{conclude} select[name='s_kind']"),
        "party:serious_warning",
    )
    .await;
    choose(
        c,
        &format!("{conclude} input[name='s_decided_on']"),
        "2026-11-27",
    )
    .await;
    fill(
        c,
        &format!("{conclude} input[name='s_document']"),
        "寻纪发〔2026〕12号",
    )
    .await;
    press(c, &format!("{conclude} button[type='submit']")).await;
    assert_eq!(open_investigations(app, &case).await, 1);
    choose(
        c,
        &format!("{conclude} select[name='outcome']"),
        "duty_not_fulfilled",
    )
    .await;
    fill(
        c,
        &format!("{conclude} textarea[name='findings']"),
        "乡镇对低保评议疏于监督。",
    )
    .await;
    choose(
        c,
        &format!("{conclude} select[name='s_official']"),
        &life.leaders[0],
    )
    .await;
    choose(
        c,
        &format!("{conclude} select[name='s_kind']"),
        "organisational:criticism_education",
    )
    .await;
    choose(
        c,
        &format!("{conclude} input[name='s_decided_on']"),
        "2026-11-27",
    )
    .await;
    fill(
        c,
        &format!("{conclude} input[name='s_document']"),
        "长宁镇〔2026〕8号",
    )
    .await;
    press(c, &format!("{conclude} button[type='submit']")).await;
    assert_eq!(open_investigations(app, &case).await, 0);
    assert_eq!(case_status(app, &case).await, "concluded");

    // 8. The remediation item: added, its evidence submitted, verified; the suspension lifts.
    fill(c, "#rm-description", "重新评议低保对象并张榜公示").await;
    fill(c, "#rm-unit", "长宁镇人民政府").await;
    choose(c, "#rm-due", "2027-01-31").await;
    press(c, "#remediation-add-form button[type='submit']").await;
    let submit = "form:has(input[name='form'][value='submit'])";
    fill(
        c,
        &format!("{submit} textarea[name='evidence']"),
        "已重新评议，公示7天无异议，公示照片存档。",
    )
    .await;
    press(c, &format!("{submit} button[type='submit']")).await;
    press(
        c,
        "form:has(input[name='form'][value='verify']) button[type='submit']",
    )
    .await;
    assert_eq!(suspension_lifted(app).await, vec![true]);
    shot(c, "case-remediation").await;

    // 9. Feedback to the reporter, and the case is closed.
    choose(c, "#message-kind", "feedback").await;
    fill(
        c,
        "#message-body",
        "您反映的问题经查属实，已严肃处理，违规享受的低保资金正在追回。",
    )
    .await;
    press(c, "#reply button[type='submit']").await;
    let close_reason = c.find(Locator::Css("#close-reason")).await;
    if close_reason.is_ok() {
        fill(c, "#close-reason", "问题已查实处理，整改已验收。").await;
    }
    press(c, "#close-form button[type='submit']").await;
    assert_eq!(case_status(app, &case).await, "closed");
    shot(c, "case-closed").await;
    shot_tablet(c, "case-closed").await;
    sign_out(c).await;
}
