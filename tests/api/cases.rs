//! Cases (issue 9, items 4 and 6): dispositions and filing decisions, invalid transitions with
//! the allowed actions, version conflicts (also concurrent), the case view, team visibility, and
//! the queue's filters, counts and keyset pages while new cases arrive. Frozen clock, both
//! backends.

use diesel::prelude::*;
use probity::db::schema::cases;
use probity::db::Backend;
use serde_json::{json, Value};

use crate::helpers::assert_problem;
use crate::triage::{json, world, World};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        dispositions_and_filing_approval,
        close_without_action_needs_a_reason_the_reporter_sees,
        an_invalid_transition_names_the_status_and_the_allowed_actions,
        a_stale_version_is_refused_and_concurrent_changes_have_one_winner,
        investigators_see_only_their_teams_cases,
        queue_filters_counts_and_pages_while_cases_arrive,
        notes_are_internal_and_the_case_lists_them,
    ]
}

async fn new_case(w: &World) -> (String, String) {
    let (report, code) = w.report("360734100", "360734100201", "张某某").await;
    let case = w.accept(&report).await;
    (case["case_id"].as_str().unwrap().to_string(), code)
}

async fn dispose(w: &World, token: &str, case: &str, body: Value) -> reqwest::Response {
    w.app
        .post_as(&format!("/api/v1/cases/{case}/disposition"), token, &body)
        .await
}

async fn decide(w: &World, token: &str, case: &str, body: Value) -> reqwest::Response {
    w.app
        .post_as(
            &format!("/api/v1/cases/{case}/filing-decision"),
            token,
            &body,
        )
        .await
}

async fn dispositions_and_filing_approval(backend: Backend) {
    let w = world(backend, true).await;
    let (case, _) = new_case(&w).await;
    let inv = w.inv_a.1.clone();

    let r = dispose(
        &w,
        &inv,
        &case,
        json!({"disposition": "preliminary_verification"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let view = json(r).await;
    assert_eq!(view["status"], "preliminary_verification");
    assert_eq!(view["disposition"], "preliminary_verification");
    assert_eq!(view["version"], 2);
    // Today in the county is 2026-11-30; 60 calendar days later.
    assert_eq!(view["deadlines"]["verification_due"], "2027-01-29");

    let r = dispose(&w, &inv, &case, json!({"disposition": "on_hold"})).await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "review_on");
    for bad in ["2026-11-30", "2040-01-01", "next week"] {
        let r = dispose(
            &w,
            &inv,
            &case,
            json!({"disposition": "on_hold", "review_on": bad}),
        )
        .await;
        let p = assert_problem(r, 422, "validation_failed").await;
        assert_eq!(p["errors"][0]["field"], "review_on", "{bad}");
    }
    let r = dispose(
        &w,
        &inv,
        &case,
        // Typed on a phone in Chinese mode: full-width digits and dashes (issue 7, fault 9).
        json!({"disposition": "on_hold", "review_on": "２０２６－１２－１５"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let view = json(r).await;
    assert_eq!(view["status"], "on_hold");
    assert_eq!(view["deadlines"]["review_on"], "2026-12-15");
    assert_eq!(
        view["due_on"], "2026-12-15",
        "the review date is the deadline"
    );

    let r = dispose(
        &w,
        &inv,
        &case,
        json!({"disposition": "file", "version": 3}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["status"], "filing_requested");

    // Only a supervisor decides filing.
    let r = decide(&w, &inv, &case, json!({"approve": true})).await;
    assert_problem(r, 403, "forbidden").await;
    let r = decide(
        &w,
        &w.supervisor,
        &case,
        json!({"approve": false, "reason": "证据不足"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(json(r).await["status"], "preliminary_verification");
    let r = dispose(&w, &inv, &case, json!({"disposition": "file"})).await;
    assert_eq!(r.status(), 200);
    let r = decide(&w, &w.supervisor, &case, json!({"approve": true})).await;
    assert_eq!(r.status(), 200);
    let view = json(r).await;
    assert_eq!(view["status"], "filed");
    // Filing opens the investigations and the suspension (tests/api/lifecycle.rs).
    assert_eq!(view["investigations"].as_array().unwrap().len(), 2);
    assert!(view["suspension_id"].is_string());
    assert_eq!(view["accountability"]["opened"], true);
    assert_eq!(
        view["allowed_actions"],
        json!(["close"]),
        "reopen waits for a concluded primary"
    );
}

async fn close_without_action_needs_a_reason_the_reporter_sees(backend: Backend) {
    let w = world(backend, true).await;
    let (case, code) = new_case(&w).await;
    let r = dispose(
        &w,
        &w.supervisor,
        &case,
        json!({"disposition": "close_without_action"}),
    )
    .await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "reason");
    let r = dispose(
        &w,
        &w.supervisor,
        &case,
        json!({"disposition": "close_without_action", "reason": "经初步了解，反映问题已整改到位"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let view = json(r).await;
    assert_eq!(view["status"], "closed_without_action");
    assert_eq!(view["due_on"], Value::Null);
    let reporter = w.reporter_view(&code).await;
    assert_eq!(reporter["status_zh"], "已予以了结");
    assert_eq!(reporter["closing_reason"], "经初步了解，反映问题已整改到位");
}

async fn an_invalid_transition_names_the_status_and_the_allowed_actions(backend: Backend) {
    let w = world(backend, true).await;
    let (case, _) = new_case(&w).await;
    let r = decide(&w, &w.supervisor, &case, json!({"approve": true})).await;
    let p = assert_problem(r, 409, "invalid_transition").await;
    assert_eq!(
        p["status"], 409,
        "the problem's own status stays the HTTP status"
    );
    let r = dispose(&w, &w.inv_a.1, &case, json!({"disposition": "inquiry"})).await;
    assert_eq!(r.status(), 200);
    let r = dispose(&w, &w.inv_a.1, &case, json!({"disposition": "inquiry"})).await;
    let p = assert_problem(r, 409, "invalid_transition").await;
    assert_eq!(
        p["allowed_actions"],
        json!([
            "preliminary_verification",
            "on_hold",
            "close_without_action",
            "file"
        ])
    );
    assert!(p["detail"].as_str().unwrap().contains("inquiry"));
    assert_eq!(
        p["case_status"], "inquiry",
        "the current status, as a member"
    );
    let r = dispose(&w, &w.inv_a.1, &case, json!({"disposition": "shelve"})).await;
    assert_problem(r, 422, "validation_failed").await;
}

async fn a_stale_version_is_refused_and_concurrent_changes_have_one_winner(backend: Backend) {
    let w = world(backend, true).await;
    let (case, _) = new_case(&w).await;
    let r = dispose(
        &w,
        &w.inv_a.1,
        &case,
        json!({"disposition": "inquiry", "version": 1}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = dispose(
        &w,
        &w.inv_a.1,
        &case,
        json!({"disposition": "preliminary_verification", "version": 1}),
    )
    .await;
    let p = assert_problem(r, 409, "version_conflict").await;
    assert_eq!(p["version"], 2);
    // A stale version is named before the transition is judged: filing from `inquiry` would be
    // allowed, and `inquiry` again would not, but both stale requests hear `version_conflict`.
    for disposition in ["file", "inquiry"] {
        let r = dispose(
            &w,
            &w.inv_a.1,
            &case,
            json!({"disposition": disposition, "version": 1}),
        )
        .await;
        assert_problem(r, 409, "version_conflict").await;
    }

    let body = json!({"disposition": "file", "version": 2});
    let other = json!({"disposition": "on_hold", "review_on": "2027-01-04", "version": 2});
    let (a, b) = tokio::join!(
        dispose(&w, &w.inv_a.1, &case, body),
        dispose(&w, &w.supervisor, &case, other)
    );
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    let case_id = case.clone();
    let version: i32 = w
        .app
        .db(move |conn| {
            cases::table
                .find(case_id)
                .select(cases::version)
                .first(conn)
                .unwrap()
        })
        .await;
    assert_eq!(version, 3, "exactly one change was written");
}

async fn investigators_see_only_their_teams_cases(backend: Backend) {
    let w = world(backend, true).await;
    let (case, _) = new_case(&w).await;
    let path = format!("/api/v1/cases/{case}");
    assert_eq!(w.app.get_as(&path, &w.inv_a.1).await.status(), 200);
    assert_problem(w.app.get_as(&path, &w.inv_b.1).await, 403, "forbidden").await;
    assert_eq!(w.app.get_as(&path, &w.supervisor).await.status(), 200);
    assert_eq!(w.app.get_as(&path, &w.auditor).await.status(), 200);
    assert_problem(w.app.get_as(&path, &w.intake).await, 403, "forbidden").await;
    let r = dispose(&w, &w.inv_b.1, &case, json!({"disposition": "inquiry"})).await;
    assert_problem(r, 403, "forbidden").await;
    // An auditor reads but does not work cases.
    let r = dispose(&w, &w.auditor, &case, json!({"disposition": "inquiry"})).await;
    assert_problem(r, 403, "forbidden").await;

    let mine = json(w.app.get_as("/api/v1/cases", &w.inv_a.1).await).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs = json(w.app.get_as("/api/v1/cases", &w.inv_b.1).await).await;
    assert_eq!(theirs["items"], json!([]));
    assert_eq!(theirs["counts"]["registered"], 0);
    let all = json(w.app.get_as("/api/v1/cases", &w.auditor).await).await;
    assert_eq!(all["counts"]["registered"], 1);
    assert_problem(
        w.app.get_as("/api/v1/cases/nope", &w.supervisor).await,
        404,
        "not_found",
    )
    .await;
}

async fn queue_filters_counts_and_pages_while_cases_arrive(backend: Backend) {
    let w = world(backend, true).await;
    w.rule(json!(null), json!("360734101"), &w.team_b).await;
    let mut first = Vec::new();
    for i in 0..5 {
        let (report, _) = if i % 2 == 0 {
            w.report("360734100", "360734100201", "甲").await
        } else {
            w.report("360734101", "360734101201", "乙").await
        };
        first.push(
            w.accept(&report).await["case_number"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // One in preliminary verification (deadline 2027-01-29), one on hold until 2026-12-03.
    let sup = w.supervisor.clone();
    let numbers_to_ids: Vec<(String, String)> = w
        .app
        .db(|conn| {
            cases::table
                .order(cases::number)
                .select((cases::number, cases::id))
                .load(conn)
                .unwrap()
        })
        .await;
    let id_of = |n: &str| {
        numbers_to_ids
            .iter()
            .find(|(k, _)| k == n)
            .unwrap()
            .1
            .clone()
    };
    let r = dispose(
        &w,
        &sup,
        &id_of(&first[0]),
        json!({"disposition": "preliminary_verification"}),
    )
    .await;
    assert_eq!(r.status(), 200);
    let r = dispose(
        &w,
        &sup,
        &id_of(&first[1]),
        json!({"disposition": "on_hold", "review_on": "2026-12-03"}),
    )
    .await;
    assert_eq!(r.status(), 200);

    // Filters and counts.
    let get = |q: &'static str| {
        let app = &w.app;
        let sup = sup.clone();
        async move { json(app.get_as(&format!("/api/v1/cases{q}"), &sup).await).await }
    };
    let all = get("").await;
    assert_eq!(all["counts"]["registered"], 3);
    assert_eq!(all["counts"]["on_hold"], 1);
    assert_eq!(all["counts"]["preliminary_verification"], 1);
    // Due first: the on-hold review date (2026-12-03) comes before the acknowledgement dates.
    assert_eq!(all["items"][0]["number"], first[1].as_str());
    let held = get("?status=on_hold").await;
    assert_eq!(held["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        held["counts"]["registered"], 3,
        "counts ignore the status filter"
    );
    let in_b = get("?township=360734101").await;
    assert_eq!(in_b["items"].as_array().unwrap().len(), 2);
    // Codes typed on a phone: full-width digits (URL-encoded) and separators are folded.
    assert_eq!(
        get("?township=%EF%BC%93%EF%BC%96%EF%BC%90%EF%BC%97%EF%BC%93%EF%BC%94%EF%BC%91%EF%BC%90%EF%BC%91")
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        get("?township=360734%20101").await["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let team_b = format!("?team={}", w.team_b);
    let team_b = json(w.app.get_as(&format!("/api/v1/cases{team_b}"), &sup).await).await;
    assert_eq!(team_b["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        get("?village=360734100201").await["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(get("?programme=house_renovation").await["items"], json!([]));
    assert_eq!(
        get("?due_before=2026-12-04").await["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        get("?due_before=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-%EF%BC%91%EF%BC%92-%EF%BC%90%EF%BC%94")
            .await["items"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "a full-width date is folded"
    );
    assert_eq!(get("?assignee=me").await["items"], json!([]));
    assert_eq!(get("?overdue=true").await["items"], json!([]));
    // Pages of two in each sort, with new cases accepted between pages: every case that existed
    // at the start appears exactly once, in order.
    for sort in ["due", "received", "updated"] {
        let mut seen: Vec<String> = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/v1/cases?sort={sort}&limit=2&cursor={c}"),
                None => format!("/api/v1/cases?sort={sort}&limit=2"),
            };
            let page = json(w.app.get_as(&path, &sup).await).await;
            for item in page["items"].as_array().unwrap() {
                seen.push(item["number"].as_str().unwrap().to_string());
            }
            pages += 1;
            if pages <= 2 {
                let (report, _) = w.report("360734100", "360734100201", "丙").await;
                w.accept(&report).await;
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        let mut unique = seen.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort}: nothing repeated in {seen:?}"
        );
        for n in &first {
            assert!(seen.contains(n), "{sort}: {n} not skipped in {seen:?}");
        }
    }

    // Four days later the review date has passed.
    w.app.clock.advance(chrono::Duration::days(4));
    let sup_now = {
        let r = w.app.login("super", crate::helpers::PASSWORD).await;
        json(r).await["access_token"].as_str().unwrap().to_string()
    };
    let overdue = json(w.app.get_as("/api/v1/cases?overdue=true", &sup_now).await).await;
    assert_eq!(overdue["items"].as_array().unwrap().len(), 1);
    assert_eq!(overdue["items"][0]["overdue"], true);
    let bad = w
        .app
        .get_as("/api/v1/cases?sort=age&due_before=soon", &sup_now)
        .await;
    let p = assert_problem(bad, 422, "validation_failed").await;
    assert_eq!(p["errors"].as_array().unwrap().len(), 2);
}

async fn notes_are_internal_and_the_case_lists_them(backend: Backend) {
    let w = world(backend, true).await;
    let (case, code) = new_case(&w).await;
    let path = format!("/api/v1/cases/{case}/notes");
    let r = w
        .app
        .post_as(
            &path,
            &w.inv_a.1,
            &json!({"body": "已约谈村会计，待核对名单。"}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let note = json(r).await;
    assert_eq!(note["author_id"], w.inv_a.0.as_str());
    let r = w
        .app
        .post_as(&path, &w.inv_a.1, &json!({"body": "  "}))
        .await;
    let p = assert_problem(r, 422, "validation_failed").await;
    assert_eq!(p["errors"][0]["field"], "body");
    let r = w
        .app
        .post_as(&path, &w.inv_b.1, &json!({"body": "x"}))
        .await;
    assert_problem(r, 403, "forbidden").await;
    let r = w
        .app
        .post_as(&path, &w.auditor, &json!({"body": "x"}))
        .await;
    assert_problem(r, 403, "forbidden").await;

    let view = json(
        w.app
            .get_as(&format!("/api/v1/cases/{case}"), &w.auditor)
            .await,
    )
    .await;
    assert_eq!(view["notes"][0]["body"], "已约谈村会计，待核对名单。");
    assert_eq!(view["notes"][0]["id"], note["id"]);
    assert_eq!(view["evidence"], json!([]));
    let reporter = w.reporter_view(&code).await;
    assert!(
        !reporter.to_string().contains("村会计"),
        "notes never reach the reporter"
    );
}
