//! Assigning a case (issue 9, items 6 and 7) on both backends with a frozen clock: the
//! conflict-of-interest refusal naming the declaration, `not_in_team`, a stale version, the
//! email to the new assignee through the jobs system and the test SMTP listener, and access
//! that follows team membership after a reassignment.

use probity::clock::Clock;
use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::json;

use crate::custodian::{audit_entries, json_of, monday, token, World};
use crate::helpers::{app, assert_problem};
use crate::smtp::{Mode, SmtpServer};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![assignment_respects_team_and_conflicts_and_notifies]
}

async fn assignment_respects_team_and_conflicts_and_notifies(backend: Backend) {
    let smtp = SmtpServer::start(Mode::Accept);
    let clock = Clock::frozen(monday());
    let world = World::start(
        app(backend)
            .clock(clock.clone())
            .mail_to(smtp.port)
            .set("jobs.worker_enabled", "false"),
    )
    .await;
    let app = &world.app;
    let inv = app
        .create_staff("inv", &[Role::Investigator], Some("inv@probity.test"))
        .await;
    let recused = app
        .create_staff(
            "recused",
            &[Role::Investigator],
            Some("recused@probity.test"),
        )
        .await;
    let inv3 = app
        .create_staff("inv3", &[Role::Investigator], Some("inv3@probity.test"))
        .await;
    let outsider = app
        .create_staff("outsider", &[Role::Investigator], None)
        .await;
    let sup = world.supervisor.0.clone();
    world.set_members(&[&sup, &inv, &recused, &inv3]).await;
    let sup_t = world.supervisor.1.clone();
    let inv_t = token(app, "inv").await;

    // `recused` declared the township: it covers the case's village.
    let recused_t = token(app, "recused").await;
    let declared = app
        .post_as(
            "/api/v1/me/conflicts",
            &recused_t,
            &json!({"division_code": "360734100", "reason": "本人曾在该镇任职"}),
        )
        .await;
    assert_eq!(declared.status(), 201);
    let declared = json_of(declared).await;

    let (report, _) = world.submit(false).await;
    let case_id = world.accept(&report).await;
    let path = format!("/api/v1/cases/{case_id}/assign");

    // Only supervisors assign.
    assert_problem(
        app.post_as(&path, &inv_t, &json!({ "assignee_id": inv }))
            .await,
        403,
        "forbidden",
    )
    .await;
    // Outside the team, not an investigator, or no such user: 422 not_in_team.
    for who in [outsider.as_str(), sup.as_str(), "no-such-user"] {
        assert_problem(
            app.post_as(&path, &sup_t, &json!({ "assignee_id": who }))
                .await,
            422,
            "not_in_team",
        )
        .await;
    }
    // A declared conflict: 409 naming the declaration.
    let refused = app
        .post_as(&path, &sup_t, &json!({ "assignee_id": recused }))
        .await;
    assert_eq!(refused.status(), 409);
    let refused = json_of(refused).await;
    assert_eq!(refused["code"], "conflict_of_interest");
    assert_eq!(refused["declaration"]["id"], declared["id"]);
    assert_eq!(refused["declaration"]["division_code"], "360734100");
    assert_eq!(
        refused["declaration"]["declared_at"],
        "2026-11-30T02:00:00Z"
    );
    // A stale version.
    let stale = app
        .post_as(&path, &sup_t, &json!({ "assignee_id": inv, "version": 7 }))
        .await;
    assert_eq!(stale.status(), 409);
    assert_eq!(json_of(stale).await["code"], "version_conflict");
    assert!(
        smtp.received().is_empty(),
        "no email for a refused assignment"
    );

    // Success: the case view, and an email that names the case number only.
    let done = app
        .post_as(&path, &sup_t, &json!({ "assignee_id": inv, "version": 1 }))
        .await;
    assert_eq!(done.status(), 200);
    let done = json_of(done).await;
    assert_eq!(done["assignee_id"], inv.as_str());
    assert_eq!(done["version"], 2);
    let number = done["number"].as_str().unwrap().to_string();
    app.jobs.run_once().await.unwrap();
    let mails: Vec<_> = smtp
        .received()
        .into_iter()
        .filter(|m| m.to.iter().any(|t| t.contains("inv@probity.test")))
        .collect();
    assert_eq!(mails.len(), 1);
    let body = crate::reminders::body_of(&mails[0]);
    assert!(body.contains(&format!("案件 {number} 已分配给您办理")));
    assert!(!body.contains("李某") && !body.contains("张某某"));

    // Reassigned: the previous assignee keeps access while in the team, loses it once out.
    let again = app
        .post_as(&path, &sup_t, &json!({ "assignee_id": inv3 }))
        .await;
    assert_eq!(again.status(), 200);
    let case_path = format!("/api/v1/cases/{case_id}");
    assert_eq!(app.get_as(&case_path, &inv_t).await.status(), 200);
    world.set_members(&[&sup, &recused, &inv3]).await;
    assert_problem(app.get_as(&case_path, &inv_t).await, 403, "forbidden").await;
    app.jobs.run_once().await.unwrap();
    assert!(smtp
        .received()
        .iter()
        .any(|m| m.to.iter().any(|t| t.contains("inv3@probity.test"))));

    let assigned: Vec<_> = audit_entries(app)
        .await
        .into_iter()
        .filter(|e| e.0 == "case.assigned")
        .collect();
    assert_eq!(assigned.len(), 2);
    assert!(assigned.iter().all(|e| e.1 == case_id));
}
