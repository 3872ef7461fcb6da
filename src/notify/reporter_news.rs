//! "There is news" for a reporter who gave an email (SPEC.md → "Case": messages reach the
//! reporter, "and a reporter who gave an email gets one saying only that there is news";
//! issue 9, item 6).
//!
//! The reporter's address is identity, sealed at rest under the data key. So the job row holds
//! the report id alone: the address is opened only in memory, when the email is sent, and the
//! email (template `reporter_news`) carries no content, no number and no name.

use std::sync::Arc;

use anyhow::Context;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use super::mailer::Mailer;
use super::EmailJob;
use crate::crypto::DataKey;
use crate::db::schema::reports;
use crate::db::DbConnection;
use crate::domain::ids::ReportId;
use crate::jobs::{self, Job, JobContext};

/// One "there is news" email to the reporter of report `report_id`: a job of kind
/// `reporter_news`, registered when mail is on (like `email`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReporterNews {
    pub report_id: String,
}

/// What the job needs: the mailer, and the data key that opens the sealed address.
pub struct ReporterNewsState {
    pub mailer: Mailer,
    pub data_key: DataKey,
}

impl Job for ReporterNews {
    const KIND: &'static str = "reporter_news";
    type State = ReporterNewsState;

    async fn run(self, state: Arc<ReporterNewsState>, ctx: JobContext) -> anyhow::Result<()> {
        let pool = ctx.pool.clone();
        let id = self.report_id.clone();
        let sealed = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Vec<u8>>> {
            let mut pooled = pool.get()?;
            let conn: &mut DbConnection = &mut pooled;
            Ok(reports::table
                .find(&id)
                .select(reports::reporter_email)
                .first::<Option<Vec<u8>>>(conn)
                .optional()?
                .flatten())
        })
        .await??;
        // A report without an address (or gone) has nobody to tell: done, nothing sent.
        let Some(sealed) = sealed else {
            return Ok(());
        };
        let address = state
            .data_key
            .decrypt(&sealed, &format!("report:{}:email", self.report_id))
            .ok()
            .and_then(|plain| String::from_utf8(plain).ok())
            .context("the reporter's sealed email does not open under the data key")?;
        let email = EmailJob {
            template: "reporter_news".to_string(),
            recipient: address,
            data: serde_json::json!({}),
        };
        state.mailer.send(&ctx.id, &email).await
    }
}

/// Queues the "there is news" email for report `report_id` in the caller's transaction.
///
/// Errors: the insert's database error.
pub fn enqueue(conn: &mut DbConnection, report_id: &ReportId) -> QueryResult<String> {
    jobs::enqueue(
        conn,
        &ReporterNews {
            report_id: report_id.as_str().to_string(),
        },
    )
}
