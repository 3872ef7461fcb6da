//! Notifications: every email is a job of kind `email` (see `crate::jobs`), queued in the
//! caller's transaction and delivered later by the jobs worker over SMTP, with retries and
//! exponential backoff, ending `done` or `dead`.
//!
//! An instance with `mail.enabled = false` does not register the `email` kind, so its worker
//! leaves emails pending for an instance that can send them.

pub mod mailer;
pub mod reporter_news;
pub mod templates;

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::db::DbConnection;
use crate::jobs::{self, Job, JobContext};
use mailer::Mailer;

#[derive(Debug, thiserror::Error)]
pub enum EnqueueError {
    #[error("unknown email template {0:?}")]
    UnknownTemplate(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
}

/// One email: the payload of a job of kind `email`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmailJob {
    pub template: String,
    pub recipient: String,
    /// Fills the template.
    pub data: serde_json::Value,
}

impl Job for EmailJob {
    const KIND: &'static str = "email";
    type State = Mailer;

    async fn run(self, mailer: Arc<Mailer>, ctx: JobContext) -> anyhow::Result<()> {
        mailer.send(&ctx.id, &self).await
    }
}

/// Queues one email in the caller's transaction and returns its job id. `data` fills the
/// template; it must never carry a reporter's identity or the content of their messages.
/// Errors: `UnknownTemplate` (nothing written), or the insert's database error.
pub fn enqueue(
    conn: &mut DbConnection,
    template: &str,
    recipient: &str,
    data: serde_json::Value,
) -> Result<String, EnqueueError> {
    if !templates::exists(template) {
        return Err(EnqueueError::UnknownTemplate(template.to_string()));
    }
    let job = EmailJob {
        template: template.to_string(),
        recipient: recipient.to_string(),
        data,
    };
    Ok(jobs::enqueue(conn, &job)?)
}
