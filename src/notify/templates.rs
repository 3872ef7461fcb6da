//! Email templates, `templates/email/<name>/{subject.txt,body.txt}`, compiled into the binary
//! and rendered with minijinja at delivery. A variable missing from the row's data is an error
//! (the row is retried and finally dead-lettered), never an empty gap in a sent email.

use std::sync::OnceLock;

use minijinja::{Environment, UndefinedBehavior};

/// (name, subject, body)
const TEMPLATES: &[(&str, &str, &str)] = &[
    (
        "mail_test",
        include_str!("../../templates/email/mail_test/subject.txt"),
        include_str!("../../templates/email/mail_test/body.txt"),
    ),
    (
        "reporter_message",
        include_str!("../../templates/email/reporter_message/subject.txt"),
        include_str!("../../templates/email/reporter_message/body.txt"),
    ),
    (
        "account_locked",
        include_str!("../../templates/email/account_locked/subject.txt"),
        include_str!("../../templates/email/account_locked/body.txt"),
    ),
    (
        "case_assigned",
        include_str!("../../templates/email/case_assigned/subject.txt"),
        include_str!("../../templates/email/case_assigned/body.txt"),
    ),
    (
        "reporter_news",
        include_str!("../../templates/email/reporter_news/subject.txt"),
        include_str!("../../templates/email/reporter_news/body.txt"),
    ),
    (
        "deadline_reminder",
        include_str!("../../templates/email/deadline_reminder/subject.txt"),
        include_str!("../../templates/email/deadline_reminder/body.txt"),
    ),
    (
        "investigation_assigned",
        include_str!("../../templates/email/investigation_assigned/subject.txt"),
        include_str!("../../templates/email/investigation_assigned/body.txt"),
    ),
    (
        "investigation_reopened",
        include_str!("../../templates/email/investigation_reopened/subject.txt"),
        include_str!("../../templates/email/investigation_reopened/body.txt"),
    ),
    (
        "objection_received",
        include_str!("../../templates/email/objection_received/subject.txt"),
        include_str!("../../templates/email/objection_received/body.txt"),
    ),
    (
        "clawback_signer",
        include_str!("../../templates/email/clawback_signer/subject.txt"),
        include_str!("../../templates/email/clawback_signer/body.txt"),
    ),
    (
        "suspension_started",
        include_str!("../../templates/email/suspension_started/subject.txt"),
        include_str!("../../templates/email/suspension_started/body.txt"),
    ),
    (
        "suspension_lifted",
        include_str!("../../templates/email/suspension_lifted/subject.txt"),
        include_str!("../../templates/email/suspension_lifted/body.txt"),
    ),
];

fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Plain-text email: no HTML escaping.
        env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
        for (name, subject, body) in TEMPLATES {
            env.add_template(leak(format!("{name}/subject")), subject)
                .expect("subject templates compile");
            env.add_template(leak(format!("{name}/body")), body)
                .expect("body templates compile");
        }
        env
    })
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

pub fn exists(name: &str) -> bool {
    TEMPLATES.iter().any(|(n, _, _)| *n == name)
}

pub struct RenderedEmail {
    pub subject: String,
    pub body: String,
}

pub fn render(name: &str, data: &serde_json::Value) -> anyhow::Result<RenderedEmail> {
    let env = environment();
    let subject = env
        .get_template(&format!("{name}/subject"))?
        .render(data)?
        .trim()
        .replace(['\r', '\n'], " ");
    let body = env.get_template(&format!("{name}/body"))?.render(data)?;
    Ok(RenderedEmail { subject, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_and_missing_data_is_an_error() {
        let email = render("mail_test", &serde_json::json!({"requested_by": "cli"})).unwrap();
        assert!(email.subject.contains("Probity"));
        assert!(email.body.contains("requested by: cli"));
        assert!(render("mail_test", &serde_json::json!({})).is_err());
        assert!(!exists("no_such_template"));
    }
}
