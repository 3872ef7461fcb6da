use std::time::Duration;

use probity::db::Backend;

use crate::helpers::{captured_logs, spawn_app};

pub fn tests() -> Vec<(&'static str, crate::helpers::AsyncTest)> {
    crate::tests![request_logs_carry_no_client_address_or_user_agent]
}

async fn request_logs_carry_no_client_address_or_user_agent(backend: Backend) {
    let app = spawn_app(backend).await;
    let marker = uuid::Uuid::new_v4().simple().to_string();
    let agent = format!("ProbityLogProbe/{marker}");
    let forwarded = "203.0.113.77";
    for path in ["/healthz", "/readyz", "/nowhere"] {
        let response = app
            .client
            .get(app.url(path))
            .header("user-agent", &agent)
            .header("x-forwarded-for", forwarded)
            .header("x-real-ip", forwarded)
            .header("forwarded", format!("for={forwarded}"))
            .send()
            .await
            .unwrap();
        assert!(response.status().as_u16() > 0);
    }
    // The request span is logged as the response completes: poll until the last of the three
    // requests (a 404 on /nowhere) is in the log, rather than sleeping.
    let logs = crate::helpers::eventually(Duration::from_secs(5), || async {
        let logs = captured_logs();
        logs.lines()
            .any(|l| l.contains("http_request") && l.contains("status=404"))
            .then_some(logs)
    })
    .await
    .unwrap_or_else(captured_logs);
    let request_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("http_request"))
        .collect();
    assert!(
        request_lines
            .iter()
            .any(|l| l.contains("route=/readyz") && l.contains("status=200")),
        "requests are logged with route and status"
    );
    assert!(!logs.contains(&marker), "user agent never logged");
    assert!(
        !logs.contains(forwarded),
        "forwarded client address never logged"
    );
    for line in request_lines {
        assert!(
            !line.contains("127.0.0.1"),
            "client address in a request log line: {line}"
        );
        assert!(!line.to_lowercase().contains("user_agent"), "{line}");
    }
}
