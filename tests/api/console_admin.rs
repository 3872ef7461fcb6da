//! The console's 管理 pages (issue 13), on every backend: each page for administrators and the
//! Chinese 403 for every other role; accounts made, refused, deactivated; teams, members and
//! routing rules as the API then sees them; a service key's secret shown once and working;
//! officials; the divisions CSV import with a bad line; the calendar; CSRF refusals.

use probity::db::Backend;
use probity::domain::roles::Role;
use serde_json::{json, Value};

use crate::console::{assert_self_contained, input_value, Console, Page};
use crate::helpers::{spawn_app, DivisionRow, TestApp, PASSWORD};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![
        every_admin_page_opens_for_administrators_and_no_one_else,
        other_roles_cannot_post_admin_forms,
        a_user_made_through_the_form_signs_in_to_the_console,
        weak_passwords_and_taken_usernames_are_refused_beside_their_fields,
        deactivation_ends_the_console_session_and_self_lockout_is_refused,
        roles_and_password_resets_end_sessions,
        teams_members_and_rules_made_here_are_the_apis,
        an_api_key_secret_is_shown_once_and_works,
        officials_are_added_changed_and_retired,
        a_division_import_names_its_bad_line_and_imports_a_good_file,
        the_calendar_shows_its_years_and_reloads,
        forms_without_their_token_are_refused,
    ]
}

const TOWNSHIP: &str = "360734100";
const VILLAGE: &str = "360734100201";

const TREE: &[DivisionRow] = &[
    ("360734", "寻乌县", "county", None),
    ("360734100", "长宁镇", "township", Some("360734")),
    ("360734100201", "城北村", "village", Some("360734100")),
];

/// Every staff role that is not an administrator.
const OTHERS: [Role; 5] = [
    Role::Intake,
    Role::Investigator,
    Role::Supervisor,
    Role::Benefits,
    Role::Auditor,
];

async fn json(response: reqwest::Response) -> Value {
    response.json().await.unwrap()
}

/// An API token of a separate administrator, to look at what the console did.
async fn api_admin(app: &TestApp) -> String {
    app.signed_in("api.admin", &[Role::Admin]).await.1
}

/// The id in a `Location` such as `/staff/admin/users/ID?done=created`.
fn id_in(location: &str, prefix: &str) -> String {
    location
        .strip_prefix(prefix)
        .unwrap()
        .split(['?', '#', '/'])
        .next()
        .unwrap()
        .to_string()
}

/// Asserts a page answered `status` and shows `message` in the refusal at the top.
fn assert_refused(page: &Page, status: u16, message: &str) {
    assert_eq!(page.status, status, "{}", page.body);
    assert!(page.content_type.starts_with("text/html"));
    assert!(page.body.contains("没有完成"), "{}", page.body);
    assert!(
        page.body.contains(message),
        "{message} not in {}",
        page.body
    );
}

/// The text of the `field-error` span beside field `field`.
fn field_error(html: &str, field: &str) -> String {
    crate::web::text_of(html, &format!("{field}-error")).unwrap_or_default()
}

/// Creates a user through the form; returns their id.
async fn create_user(admin: &Console<'_>, username: &str, roles: &[&str]) -> String {
    let mut fields = vec![
        ("username", username),
        ("display_name", "王 新来"),
        ("email", ""),
        ("password", "a long enough password 2026"),
    ];
    for r in roles {
        fields.push(("roles", r));
    }
    let made = admin.post("/staff/admin/users", &fields).await;
    let location = made.redirect().to_string();
    assert!(location.ends_with("?done=created"), "{location}");
    id_in(&location, "/staff/admin/users/")
}

async fn every_admin_page_opens_for_administrators_and_no_one_else(backend: Backend) {
    let app = spawn_app(backend).await;
    app.insert_divisions(TREE).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let desk = admin.get("/staff").await;
    assert!(
        desk.ok().contains("href=\"/staff/admin\""),
        "管理 in the nav"
    );
    let official = admin
        .post(
            "/staff/admin/officials",
            &[
                ("division_code", VILLAGE),
                ("name", "刘 村支书"),
                ("post", "村支书"),
                ("level", "village"),
                ("email", ""),
            ],
        )
        .await;
    assert_eq!(
        official.redirect(),
        format!("/staff/admin/officials?division={VILLAGE}&done=added")
    );
    let official_id = app
        .db(|conn| {
            use diesel::prelude::*;
            use probity::db::schema::officials;
            officials::table
                .select(officials::id)
                .first::<String>(conn)
                .unwrap()
        })
        .await;
    let pages = [
        "/staff/admin".to_string(),
        "/staff/admin/users".to_string(),
        "/staff/admin/users/new".to_string(),
        format!("/staff/admin/users/{}", admin.user_id),
        "/staff/admin/teams".to_string(),
        "/staff/admin/rules".to_string(),
        "/staff/admin/rules?retired=1".to_string(),
        "/staff/admin/officials".to_string(),
        format!("/staff/admin/officials?division={VILLAGE}"),
        format!("/staff/admin/officials/{official_id}"),
        "/staff/admin/divisions/import".to_string(),
        "/staff/admin/api-keys".to_string(),
        "/staff/admin/calendar".to_string(),
    ];
    for path in &pages {
        let page = admin.get(path).await;
        let html = page.ok();
        assert_self_contained(path, html);
        assert!(
            html.contains("aria-current=\"page\">管理</a>"),
            "{path} is in 管理"
        );
        // Every field has its label.
        for id in html.split("<input type=\"text\" id=\"").skip(1) {
            let id = id.split('"').next().unwrap();
            assert!(
                html.contains(&format!("<label for=\"{id}\"")),
                "{path}: no label for {id}"
            );
        }
    }
    let index = admin.get("/staff/admin").await;
    for link in [
        "/staff/admin/users",
        "/staff/admin/teams",
        "/staff/admin/rules",
        "/staff/admin/officials",
        "/staff/admin/divisions/import",
        "/staff/admin/api-keys",
        "/staff/admin/calendar",
    ] {
        assert!(
            index.body.contains(&format!("href=\"{link}\"")),
            "the index links {link}"
        );
    }
    for role in OTHERS {
        let name = format!("not.admin.{}", role.as_str());
        let other = Console::sign_in(&app, &name, &[role]).await;
        let desk = other.get("/staff").await;
        assert!(!desk.ok().contains("href=\"/staff/admin\""), "{role:?}");
        for path in &pages {
            other.get(path).await.forbidden();
        }
    }
}

async fn other_roles_cannot_post_admin_forms(backend: Backend) {
    let app = spawn_app(backend).await;
    app.insert_divisions(TREE).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let supervisor = Console::sign_in(&app, "qian.lead", &[Role::Supervisor]).await;
    let posts: [(&str, Vec<(&str, &str)>); 7] = [
        (
            "/staff/admin/users",
            vec![
                ("username", "sneaky"),
                ("display_name", "偷偷"),
                ("roles", "admin"),
                ("password", "a long enough password 2026"),
            ],
        ),
        (
            "/staff/admin/users/SOMEONE/active",
            vec![("active", "false")],
        ),
        ("/staff/admin/teams", vec![("name", "第九室")]),
        ("/staff/admin/rules", vec![("team_id", "x")]),
        (
            "/staff/admin/api-keys",
            vec![("name", "偷偷"), ("scopes", "benefit-status:read")],
        ),
        ("/staff/admin/calendar/reload", vec![]),
        (
            "/staff/admin/officials",
            vec![
                ("division_code", VILLAGE),
                ("name", "某"),
                ("post", "村支书"),
                ("level", "village"),
            ],
        ),
    ];
    for (path, fields) in &posts {
        supervisor.post(path, fields).await.forbidden();
    }
    // Deactivating the administrator was not accepted either.
    let target = format!("/staff/admin/users/{}/active", admin.user_id);
    supervisor
        .post(&target, &[("active", "false")])
        .await
        .forbidden();
    admin.get("/staff/admin").await.ok();
    let users = admin.get("/staff/admin/users").await;
    assert!(!users.ok().contains("sneaky"));
    let teams = admin.get("/staff/admin/teams").await;
    assert!(!teams.ok().contains("第九室"));
    let keys = admin.get("/staff/admin/api-keys").await;
    assert!(keys.ok().contains("还没有服务密钥"));
}

async fn a_user_made_through_the_form_signs_in_to_the_console(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let form = admin.get("/staff/admin/users/new").await;
    let html = form.ok();
    assert!(html.contains("<label for=\"username\">用户名</label>"));
    assert!(html.contains("name=\"roles\" value=\"investigator\""));
    let id = create_user(&admin, "wang.xin", &["investigator", "intake"]).await;
    let page = admin
        .get(&format!("/staff/admin/users/{id}?done=created"))
        .await;
    let html = page.ok();
    assert!(html.contains("账号已建立"), "{html}");
    assert!(html.contains("调查人员") && html.contains("受理人员"));
    // The new account signs in through the console, with its roles.
    let newcomer = Console::anonymous(&app);
    let signed = newcomer
        .login("wang.xin", "a long enough password 2026")
        .await;
    assert_eq!(signed.redirect(), "/staff");
    let desk = newcomer.get("/staff").await;
    let html = desk.ok();
    assert!(html.contains("王 新来"));
    assert!(html.contains("href=\"/staff/intake\""));
    assert!(!html.contains("href=\"/staff/admin\""));
    // The API sees the same account.
    let token = api_admin(&app).await;
    let user = json(app.get_as(&format!("/api/v1/users/{id}"), &token).await).await;
    assert_eq!(user["username"], "wang.xin");
    assert_eq!(user["roles"], json!(["intake", "investigator"]));
    // And it is listed.
    let list = admin.get("/staff/admin/users").await;
    assert!(list
        .ok()
        .contains(&format!("/staff/admin/users/{id}\">wang.xin</a>")));
}

async fn weak_passwords_and_taken_usernames_are_refused_beside_their_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let weak = admin
        .post(
            "/staff/admin/users",
            &[
                ("username", "zhao.new"),
                ("display_name", "赵 新"),
                ("email", "zhao@example.cn"),
                ("roles", "auditor"),
                ("password", "short"),
            ],
        )
        .await;
    assert_refused(&weak, 422, "有些内容填写有误");
    assert!(
        field_error(&weak.body, "password").contains("至少要有12个字符"),
        "{}",
        weak.body
    );
    assert_eq!(field_error(&weak.body, "username"), "");
    // What was typed stays, except the password.
    assert_eq!(
        input_value(&weak.body, "username").as_deref(),
        Some("zhao.new")
    );
    assert_eq!(
        input_value(&weak.body, "email").as_deref(),
        Some("zhao@example.cn")
    );
    assert!(weak
        .body
        .contains("name=\"roles\" value=\"auditor\" checked"));
    assert!(!weak.body.contains("short"));
    // A common password, and no role at all.
    let common = admin
        .post(
            "/staff/admin/users",
            &[
                ("username", "zhao.new"),
                ("display_name", "赵 新"),
                ("password", "password1234"),
            ],
        )
        .await;
    assert_eq!(common.status, 422);
    assert!(field_error(&common.body, "password").contains("太常见"));
    assert!(field_error(&common.body, "roles").contains("请至少选择一个角色"));
    // A username taken: 409, said in Chinese beside the field.
    let taken = admin
        .post(
            "/staff/admin/users",
            &[
                ("username", "SUN.ADMIN"),
                ("display_name", "另一个"),
                ("roles", "intake"),
                ("password", "a long enough password 2026"),
            ],
        )
        .await;
    assert_refused(&taken, 409, "这个用户名已被使用");
    assert!(field_error(&taken.body, "username").contains("已被使用"));
    assert!(taken.body.contains("username_taken"));
    // Nothing was made.
    let token = api_admin(&app).await;
    let users = json(app.get_as("/api/v1/users", &token).await).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 2);
}

async fn deactivation_ends_the_console_session_and_self_lockout_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let worker = Console::sign_in(&app, "li.work", &[Role::Investigator]).await;
    worker.get("/staff").await.ok();
    let page = admin
        .get(&format!("/staff/admin/users/{}", worker.user_id))
        .await;
    assert!(page.ok().contains(">停用账号</button>"));
    let done = admin
        .post(
            &format!("/staff/admin/users/{}/active", worker.user_id),
            &[("active", "false")],
        )
        .await;
    assert_eq!(
        done.redirect(),
        format!("/staff/admin/users/{}?done=deactivated", worker.user_id)
    );
    // The worker's console session ended at once.
    let after = worker.get("/staff").await;
    assert!(after.redirect().starts_with("/staff/login"), "{after:?}");
    let again = worker.login("li.work", PASSWORD).await;
    assert_eq!(again.status, 401);
    let page = admin
        .get(&format!(
            "/staff/admin/users/{}?done=deactivated",
            worker.user_id
        ))
        .await;
    let html = page.ok();
    assert!(html.contains("账号已停用"));
    assert!(html.contains(">恢复账号</button>"));
    // Reactivated, they sign in again.
    let back = admin
        .post(
            &format!("/staff/admin/users/{}/active", worker.user_id),
            &[("active", "true")],
        )
        .await;
    assert!(back.redirect().ends_with("?done=reactivated"));
    assert_eq!(worker.login("li.work", PASSWORD).await.redirect(), "/staff");
    // An administrator's own page offers no deactivation, and the post is refused.
    let own = admin
        .get(&format!("/staff/admin/users/{}", admin.user_id))
        .await;
    assert!(!own.ok().contains(">停用账号</button>"));
    let refused = admin
        .post(
            &format!("/staff/admin/users/{}/active", admin.user_id),
            &[("active", "false")],
        )
        .await;
    assert_refused(&refused, 422, "这样修改会使您自己无法再管理系统");
    assert!(field_error(&refused.body, "active").contains("无法再管理系统"));
    admin.get("/staff/admin").await.ok();
}

async fn roles_and_password_resets_end_sessions(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let worker = Console::sign_in(&app, "li.work", &[Role::Investigator]).await;
    let roles = admin
        .post(
            &format!("/staff/admin/users/{}/roles", worker.user_id),
            &[("roles", "investigator"), ("roles", "benefits")],
        )
        .await;
    assert!(roles.redirect().ends_with("?done=roles"));
    assert!(worker
        .get("/staff")
        .await
        .redirect()
        .starts_with("/staff/login"));
    assert_eq!(worker.login("li.work", PASSWORD).await.redirect(), "/staff");
    let desk = worker.get("/staff").await;
    assert!(desk.ok().contains("href=\"/staff/suspensions\""));
    // No role at all is refused beside the roles.
    let none = admin
        .post(&format!("/staff/admin/users/{}/roles", worker.user_id), &[])
        .await;
    assert_eq!(none.status, 422);
    assert!(field_error(&none.body, "roles").contains("请至少选择一个角色"));
    // Giving up one's own admin role: self_lockout, beside the roles, the boxes as ticked.
    let lockout = admin
        .post(
            &format!("/staff/admin/users/{}/roles", admin.user_id),
            &[("roles", "auditor")],
        )
        .await;
    assert_refused(&lockout, 422, "这样修改会使您自己无法再管理系统");
    assert!(field_error(&lockout.body, "roles").contains("无法再管理系统"));
    assert!(lockout
        .body
        .contains("name=\"roles\" value=\"auditor\" checked"));
    assert!(!lockout
        .body
        .contains("name=\"roles\" value=\"admin\" checked"));
    // A weak new password is refused beside the field; a good one ends the sessions.
    let weak = admin
        .post(
            &format!("/staff/admin/users/{}/password", worker.user_id),
            &[("password", "li.work")],
        )
        .await;
    assert_eq!(weak.status, 422);
    assert!(!field_error(&weak.body, "password").is_empty());
    worker.get("/staff").await.ok();
    let reset = admin
        .post(
            &format!("/staff/admin/users/{}/password", worker.user_id),
            &[("password", "a brand new password 2027")],
        )
        .await;
    assert!(reset.redirect().ends_with("?done=password"));
    assert!(worker
        .get("/staff")
        .await
        .redirect()
        .starts_with("/staff/login"));
    assert_eq!(worker.login("li.work", PASSWORD).await.status, 401);
    assert_eq!(
        worker
            .login("li.work", "a brand new password 2027")
            .await
            .redirect(),
        "/staff"
    );
    // Name and email.
    let profile = admin
        .post(
            &format!("/staff/admin/users/{}/profile", worker.user_id),
            &[("display_name", "李 工作"), ("email", "not an email")],
        )
        .await;
    assert_eq!(profile.status, 422);
    assert!(field_error(&profile.body, "email").contains("邮箱地址格式不对"));
    assert_eq!(
        input_value(&profile.body, "display_name").as_deref(),
        Some("李 工作")
    );
    let profile = admin
        .post(
            &format!("/staff/admin/users/{}/profile", worker.user_id),
            &[("display_name", "李 工作"), ("email", "li@example.cn")],
        )
        .await;
    assert!(profile.redirect().ends_with("?done=profile"));
    let token = api_admin(&app).await;
    let user = json(
        app.get_as(&format!("/api/v1/users/{}", worker.user_id), &token)
            .await,
    )
    .await;
    assert_eq!(user["display_name"], "李 工作");
    assert_eq!(user["email"], "li@example.cn");
    assert_eq!(user["roles"], json!(["benefits", "investigator"]));
}

async fn teams_members_and_rules_made_here_are_the_apis(backend: Backend) {
    let app = spawn_app(backend).await;
    app.insert_divisions(TREE).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let zhang = app
        .create_staff("zhang.inv", &[Role::Investigator], None)
        .await;
    let liu = app
        .create_staff("liu.inv", &[Role::Investigator], None)
        .await;
    let made = admin
        .post("/staff/admin/teams", &[("name", "第一纪检监察室")])
        .await;
    let location = made.redirect().to_string();
    assert!(location.starts_with("/staff/admin/teams?done=created#team-"));
    let team = location.split("#team-").nth(1).unwrap().to_string();
    // A second team of the same name: 409 in Chinese, the name kept.
    let twice = admin
        .post("/staff/admin/teams", &[("name", "第一纪检监察室")])
        .await;
    assert_refused(&twice, 409, "已经有一个同名的工作组");
    assert_eq!(
        input_value(&twice.body, "name").as_deref(),
        Some("第一纪检监察室")
    );
    // Members added one by one, one removed.
    for user in [&zhang, &liu] {
        let added = admin
            .post(
                "/staff/admin/teams/members",
                &[("team_id", &team), ("action", "add"), ("user_id", user)],
            )
            .await;
        assert!(added.redirect().contains("done=added"));
    }
    let removed = admin
        .post(
            "/staff/admin/teams/members",
            &[("team_id", &team), ("action", "remove"), ("user_id", &liu)],
        )
        .await;
    assert!(removed.redirect().contains("done=removed"));
    let unknown = admin
        .post(
            "/staff/admin/teams/members",
            &[("team_id", &team), ("action", "add"), ("user_id", "nobody")],
        )
        .await;
    assert_eq!(unknown.status, 422);
    assert!(field_error(&unknown.body, "user_id").contains("找不到这个工作人员"));
    let page = admin.get("/staff/admin/teams").await;
    let html = page.ok();
    assert!(html.contains("测试 zhang.inv"));
    // A rule for the township, and a default.
    let rule = admin
        .post(
            "/staff/admin/rules",
            &[
                ("programme", "dibao"),
                ("township_code", TOWNSHIP),
                ("subject_level", "village"),
                ("team_id", &team),
            ],
        )
        .await;
    assert_eq!(rule.redirect(), "/staff/admin/rules?done=created");
    let default = admin
        .post(
            "/staff/admin/rules",
            &[
                ("programme", ""),
                ("township_code", ""),
                ("subject_level", ""),
                ("team_id", &team),
            ],
        )
        .await;
    assert_eq!(default.redirect(), "/staff/admin/rules?done=created");
    let same = admin
        .post(
            "/staff/admin/rules",
            &[
                ("programme", "dibao"),
                ("township_code", TOWNSHIP),
                ("subject_level", "village"),
                ("team_id", &team),
            ],
        )
        .await;
    assert_refused(&same, 409, "已经有一条条件完全相同的分办规则");
    assert!(same
        .body
        .contains(&format!("value=\"{TOWNSHIP}\" selected")));
    let no_team = admin
        .post(
            "/staff/admin/rules",
            &[("programme", "dibao"), ("team_id", "")],
        )
        .await;
    assert_eq!(no_team.status, 422);
    assert!(!field_error(&no_team.body, "team_id").is_empty());
    let rules = admin.get("/staff/admin/rules").await;
    let html = rules.ok();
    assert!(html.contains("低保") && html.contains("长宁镇") && html.contains("村干部"));
    assert!(html.contains("（默认规则）"));

    // The API sees the team, its one member and both rules.
    let token = api_admin(&app).await;
    let teams = json(app.get_as("/api/v1/teams", &token).await).await;
    let items = teams["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], team.as_str());
    assert_eq!(items[0]["name"], "第一纪检监察室");
    let members: Vec<&str> = items[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user_id"].as_str().unwrap())
        .collect();
    assert_eq!(members, [zhang.as_str()]);
    let listed = json(app.get_as("/api/v1/routing-rules", &token).await).await;
    let listed = listed["items"].as_array().unwrap().clone();
    assert_eq!(listed.len(), 2);
    let specific = listed
        .iter()
        .find(|r| r["specificity"] == 3)
        .expect("the township's rule");
    assert_eq!(specific["programme"], "dibao");
    assert_eq!(specific["township_code"], TOWNSHIP);
    assert_eq!(specific["subject_level"], "village");
    assert_eq!(specific["team_id"], team.as_str());
    // Retired here, gone from the API's active rules.
    let id = specific["id"].as_str().unwrap().to_string();
    let retired = admin
        .post(&format!("/staff/admin/rules/{id}/retire"), &[])
        .await;
    assert_eq!(retired.redirect(), "/staff/admin/rules?done=retired");
    let again = admin
        .post(&format!("/staff/admin/rules/{id}/retire"), &[])
        .await;
    assert_refused(&again, 409, "这一项已经停用或撤回过了");
    let active = json(app.get_as("/api/v1/routing-rules", &token).await).await;
    assert_eq!(active["items"].as_array().unwrap().len(), 1);
    let with_retired = admin.get("/staff/admin/rules?retired=1").await;
    assert!(with_retired.ok().contains("停用</td>"));
    let only_active = admin.get("/staff/admin/rules").await;
    assert!(!only_active.ok().contains("停用</td>"));
}

async fn an_api_key_secret_is_shown_once_and_works(backend: Backend) {
    let app = spawn_app(backend).await;
    app.insert_divisions(TREE).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let refused = admin
        .post("/staff/admin/api-keys", &[("name", "县民政局低保发放系统")])
        .await;
    assert_refused(&refused, 422, "有些内容填写有误");
    assert!(field_error(&refused.body, "scopes").contains("请至少选择一个权限范围"));
    assert_eq!(
        input_value(&refused.body, "name").as_deref(),
        Some("县民政局低保发放系统")
    );
    // Posted as a browser does, to see the answer's headers: no cache keeps the secret.
    let token = admin.csrf().await;
    let answer = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/staff/admin/api-keys"))
        .header(
            reqwest::header::COOKIE,
            format!("probity_staff={}", admin.cookie("probity_staff").unwrap()),
        )
        .header("sec-fetch-site", "same-origin")
        .form(&[
            ("csrf_token", token.as_str()),
            ("name", "县民政局低保发放系统"),
            ("scopes", "benefit-status:read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert!(answer.headers().get(reqwest::header::LOCATION).is_none());
    assert_eq!(answer.headers()[reqwest::header::CACHE_CONTROL], "no-store");
    let html = answer.text().await.unwrap();
    assert_self_contained("/staff/admin/api-keys (created)", &html);
    let secret = input_value(&html, "api-key-secret").expect("the secret is shown");
    assert!(secret.starts_with("pk_"), "{secret}");
    assert!(html.contains("只显示这一次"));
    // Not on the list, nor in any URL.
    let list = admin.get("/staff/admin/api-keys").await;
    let listed = list.ok();
    assert!(listed.contains("县民政局低保发放系统"));
    assert!(!listed.contains(&secret));
    let secret_part = secret.rsplit('_').next().unwrap();
    assert!(!listed.contains(secret_part));
    // It works as the API's service keys do.
    let path = format!("/api/v1/villages/{VILLAGE}/benefit-status");
    let status = app
        .client
        .get(app.url(&path))
        .header("X-Api-Key", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 200);
    let body = json(status).await;
    assert_eq!(body["suspended"], false);
    // Revoked here, refused there.
    let token = api_admin(&app).await;
    let keys = json(app.get_as("/api/v1/api-keys", &token).await).await;
    let key_id = keys[0]["id"].as_str().unwrap().to_string();
    assert!(secret.contains(&key_id));
    let revoked = admin
        .post(&format!("/staff/admin/api-keys/{key_id}/revoke"), &[])
        .await;
    assert_eq!(revoked.redirect(), "/staff/admin/api-keys?done=revoked");
    let after = app
        .client
        .get(app.url(&path))
        .header("X-Api-Key", &secret)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401);
    let list = admin.get("/staff/admin/api-keys?done=revoked").await;
    assert!(list.ok().contains("密钥已吊销"));
    assert!(!list
        .body
        .contains(&format!("/staff/admin/api-keys/{key_id}/revoke")));
}

async fn officials_are_added_changed_and_retired(backend: Backend) {
    let app = spawn_app(backend).await;
    app.insert_divisions(TREE).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    // No division chosen: no form to add one.
    let all = admin.get("/staff/admin/officials").await;
    assert!(!all
        .ok()
        .contains("method=\"post\" action=\"/staff/admin/officials\""));
    let village = admin
        .get(&format!("/staff/admin/officials?division={VILLAGE}"))
        .await;
    let html = village.ok();
    assert!(html.contains("method=\"post\" action=\"/staff/admin/officials\""));
    assert!(html.contains("value=\"village\" selected"), "{html}");
    // A level that is not the division's: refused beside the level.
    let wrong = admin
        .post(
            "/staff/admin/officials",
            &[
                ("division_code", VILLAGE),
                ("name", "刘 一"),
                ("post", "乡镇长"),
                ("level", "township"),
                ("email", "bad"),
            ],
        )
        .await;
    assert_refused(&wrong, 422, "有些内容填写有误");
    assert!(field_error(&wrong.body, "level").contains("级别不一致"));
    assert!(!field_error(&wrong.body, "email").is_empty());
    assert_eq!(input_value(&wrong.body, "name").as_deref(), Some("刘 一"));
    let added = admin
        .post(
            "/staff/admin/officials",
            &[
                ("division_code", VILLAGE),
                ("name", "刘 一"),
                ("post", "村支书"),
                ("level", "village"),
                ("email", ""),
            ],
        )
        .await;
    assert!(added.redirect().ends_with("&done=added"));
    let token = api_admin(&app).await;
    let listed = json(
        app.get_as(&format!("/api/v1/officials?division={VILLAGE}"), &token)
            .await,
    )
    .await;
    let official = listed["items"][0].clone();
    assert_eq!(official["name"], "刘 一");
    assert_eq!(official["post"], "村支书");
    let id = official["id"].as_str().unwrap().to_string();
    // Changed: moved to the township as its head.
    let moved = admin
        .post(
            &format!("/staff/admin/officials/{id}"),
            &[
                ("name", "刘 一"),
                ("post", "乡镇长"),
                ("level", "township"),
                ("division_code", TOWNSHIP),
                ("email", "liu@example.cn"),
            ],
        )
        .await;
    assert_eq!(
        moved.redirect(),
        format!("/staff/admin/officials/{id}?done=changed")
    );
    let one = json(app.get_as(&format!("/api/v1/officials/{id}"), &token).await).await;
    assert_eq!(one["division_code"], TOWNSHIP);
    assert_eq!(one["level"], "township");
    assert_eq!(one["email"], "liu@example.cn");
    // Retired, kept on record.
    let retired = admin
        .post(
            &format!("/staff/admin/officials/{id}/active"),
            &[("active", "false")],
        )
        .await;
    assert!(retired.redirect().ends_with("?done=retired"));
    let page = admin
        .get(&format!("/staff/admin/officials/{id}?done=retired"))
        .await;
    let html = page.ok();
    assert!(html.contains("已标记为离任"));
    assert_eq!(
        crate::web::text_of(html, "official-status").as_deref(),
        Some("已离任")
    );
    let one = json(app.get_as(&format!("/api/v1/officials/{id}"), &token).await).await;
    assert_eq!(one["active"], false);
    let retired_list = admin
        .get(&format!(
            "/staff/admin/officials?division={TOWNSHIP}&status=retired"
        ))
        .await;
    assert!(retired_list.ok().contains("刘 一"));
    let active_list = admin
        .get(&format!(
            "/staff/admin/officials?division={TOWNSHIP}&status=active"
        ))
        .await;
    assert!(!active_list.ok().contains("刘 一"));
    assert_eq!(
        admin
            .get("/staff/admin/officials/no-such-official")
            .await
            .status,
        404
    );
}

/// POSTs `csv` as the import form's file, with `token` first (or none).
async fn upload(console: &Console<'_>, token: Option<&str>, csv: &[u8]) -> Page {
    let mut form = reqwest::multipart::Form::new();
    if let Some(token) = token {
        form = form.text("csrf_token", token.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(csv.to_vec())
            .file_name("divisions.csv")
            .mime_str("text/csv")
            .unwrap(),
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cookie = format!(
        "probity_staff={}",
        console.cookie("probity_staff").unwrap_or_default()
    );
    let response = client
        .post(console.app.url("/staff/admin/divisions/import"))
        .header(reqwest::header::COOKIE, cookie)
        .header("sec-fetch-site", "same-origin")
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let content_type = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    Page {
        status,
        location,
        content_type,
        body: response.text().await.unwrap(),
    }
}

async fn division_count(app: &TestApp) -> i64 {
    app.db(|conn| {
        use diesel::prelude::*;
        use probity::db::schema::divisions;
        divisions::table.count().get_result(conn).unwrap()
    })
    .await
}

async fn a_division_import_names_its_bad_line_and_imports_a_good_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let token = admin.csrf().await;
    // Line 5: the village's code does not start with its township's.
    let one_bad = "code,name,level,parent_code
360734,寻乌县,county,
360734100,长宁镇,township,360734
360734100201,城北村,village,360734100
360734101201,沙坝村,village,360734100
";
    let refused = upload(&admin, Some(&token), one_bad.as_bytes()).await;
    assert_refused(&refused, 422, "文件中有 1 行有误，什么也没有导入");
    assert!(refused.body.contains("第5行"), "{}", refused.body);
    assert!(refused
        .body
        .contains("360734101201,沙坝村,village,360734100"));
    assert!(refused.body.contains("区划代码与上级区划代码不一致"));
    assert_eq!(division_count(&app).await, 0, "nothing imported");
    // Without the token, nothing is read.
    let good = "code,name,level,parent_code
360734,寻乌县,county,
360734100,长宁镇,township,360734
360734100201,城北村,village,360734100
";
    let forged = upload(&admin, None, good.as_bytes()).await;
    assert_eq!(forged.status, 403);
    assert!(forged.body.contains("页面已过期"));
    assert_eq!(division_count(&app).await, 0);
    // Not UTF-8 (寻乌县 saved as GBK): refused as the API refuses it, 422.
    let gbk = b"code,name,level,parent_code\n360734,\xd1\xb0\xce\xda\xcf\xd8,county,\n";
    let refused = upload(&admin, Some(&token), gbk).await;
    assert_refused(&refused, 422, "CSV UTF-8");
    assert_eq!(division_count(&app).await, 0);
    // A good file: the counts, and the API sees the divisions.
    let imported = upload(&admin, Some(&token), good.as_bytes()).await;
    assert_eq!(
        imported.redirect(),
        "/staff/admin/divisions/import?done=imported&inserted=3&updated=0&unchanged=0"
    );
    let page = admin.get(imported.redirect()).await;
    assert!(page
        .ok()
        .contains("导入完成：新增 3 个区划，改名 0 个，0 个没有变化。"));
    let village = json(app.get(&format!("/api/v1/divisions/{VILLAGE}")).await).await;
    assert_eq!(village["name"], "城北村");
    // Other roles cannot import.
    let intake = Console::sign_in(&app, "zhao.intake", &[Role::Intake]).await;
    let token = intake.csrf().await;
    let other = upload(&intake, Some(&token), good.as_bytes()).await;
    assert_eq!(other.status, 403);
    assert!(other.body.contains("没有权限"));
}

async fn the_calendar_shows_its_years_and_reloads(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let token = api_admin(&app).await;
    let api = json(app.get_as("/api/v1/calendar", &token).await).await;
    let page = admin.get("/staff/admin/calendar").await;
    let html = page.ok();
    for year in api["years"].as_array().unwrap() {
        assert!(
            html.contains(&format!("<li>{}年</li>", year.as_i64().unwrap())),
            "{year} in {html}"
        );
    }
    assert_eq!(
        html.contains("id=\"calendar-missing\""),
        !api["missing_years"].as_array().unwrap().is_empty()
    );
    let reloaded = admin.post("/staff/admin/calendar/reload", &[]).await;
    assert_eq!(reloaded.redirect(), "/staff/admin/calendar?done=reloaded");
    let page = admin.get("/staff/admin/calendar?done=reloaded").await;
    assert!(page.ok().contains("工作日历已重新载入"));
    let audited: i64 = app
        .db(|conn| {
            use diesel::prelude::*;
            use probity::db::schema::audit_events;
            audit_events::table
                .filter(audit_events::action.eq("calendar.reloaded"))
                .count()
                .get_result(conn)
                .unwrap()
        })
        .await;
    assert_eq!(audited, 1);
}

async fn forms_without_their_token_are_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let admin = Console::sign_in(&app, "sun.admin", &[Role::Admin]).await;
    let none = admin
        .post_raw("/staff/admin/teams", &[("name", "第二纪检监察室")])
        .await;
    assert_eq!(none.status, 403);
    assert!(none.body.contains("页面已过期"), "{}", none.body);
    let token = admin.csrf().await;
    let cross = admin
        .post_with(
            "/staff/admin/api-keys",
            &[
                ("csrf_token", token.as_str()),
                ("name", "别处来的"),
                ("scopes", "benefit-status:read"),
            ],
            &[("sec-fetch-site", "cross-site")],
        )
        .await;
    assert_eq!(cross.status, 403);
    let teams = admin.get("/staff/admin/teams").await;
    assert!(!teams.ok().contains("第二纪检监察室"));
    let keys = admin.get("/staff/admin/api-keys").await;
    assert!(!keys.ok().contains("别处来的"));
}
