//! The delivery worker: claims due outbox rows, sends them over SMTP, records the outcome.
//! Delivery is at least once: a worker that dies after sending but before recording sends again
//! after the lease; the Message-ID (`<outbox id@probity.outbox>`) lets receivers drop duplicates.

use std::time::Duration;

use anyhow::{anyhow, Context};
use chrono::NaiveDateTime;
use diesel::prelude::*;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use tokio::sync::watch;

use super::{templates, OutboxRow, STATUS_DEAD, STATUS_PENDING, STATUS_SENT};
use crate::audit::now_micros;
use crate::db::schema::outbox;
use crate::db::{self, DbConnection, DbPool};
use crate::domain::backoff::retry_delay;
use crate::settings::{MailSettings, MailTls, OutboxSettings};

/// Sends rendered outbox rows over SMTP with lettre.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    pub fn from_settings(mail: &MailSettings) -> anyhow::Result<Mailer> {
        let from: Mailbox = mail
            .from
            .parse()
            .with_context(|| format!("mail.from {:?} is not a valid address", mail.from))?;
        let mut builder = match mail.tls {
            MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&mail.host),
            MailTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&mail.host)
                .context("configuring STARTTLS")?,
            MailTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&mail.host)
                .context("configuring TLS")?,
        }
        .port(mail.port)
        .timeout(Some(Duration::from_secs(mail.timeout_secs)));
        if !mail.username.is_empty() {
            let password = mail
                .password
                .as_ref()
                .map(|p| p.expose_secret().to_string())
                .unwrap_or_default();
            builder = builder.credentials(Credentials::new(mail.username.clone(), password));
        }
        Ok(Mailer {
            transport: builder.build(),
            from,
        })
    }

    pub async fn send(&self, row: &OutboxRow) -> anyhow::Result<()> {
        let data: serde_json::Value =
            serde_json::from_str(&row.data).context("outbox data is not JSON")?;
        let email = templates::render(&row.template, &data)?;
        let to: Mailbox = row
            .recipient
            .parse()
            .map_err(|e| anyhow!("recipient is not a valid address: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .message_id(Some(format!("<{}@probity.outbox>", row.id)))
            .header(ContentType::TEXT_PLAIN)
            .body(email.body)
            .context("building the message")?;
        self.transport
            .send(message)
            .await
            .context("SMTP delivery failed")?;
        Ok(())
    }
}

#[derive(Clone)]
pub struct OutboxWorker {
    pool: DbPool,
    settings: OutboxSettings,
    mailer: Mailer,
    send_timeout: Duration,
}

impl OutboxWorker {
    pub fn new(
        pool: DbPool,
        settings: OutboxSettings,
        mailer: Mailer,
        send_timeout: Duration,
    ) -> Self {
        OutboxWorker {
            pool,
            settings,
            mailer,
            send_timeout,
        }
    }

    /// Delivers until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!("outbox worker started");
        let idle = Duration::from_millis(self.settings.poll_interval_ms);
        loop {
            if *shutdown.borrow() {
                break;
            }
            let claimed = match self.deliver_due().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %format!("{e:#}"), "outbox pass failed");
                    0
                }
            };
            if claimed == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(idle) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        tracing::info!("outbox worker stopped");
    }

    /// One pass: claims due rows, sends each, records the outcome. Returns how many were claimed.
    pub async fn deliver_due(&self) -> anyhow::Result<usize> {
        let batch = self.settings.batch_size;
        let lease = Duration::from_secs(self.settings.lease_secs);
        let claimed_at = std::time::Instant::now();
        let rows = self
            .blocking(move |conn| claim_due(conn, now_micros(), batch, lease))
            .await?;
        // Never send on a lease that could run out mid-send: another instance may claim the
        // row once it has expired. Rows not reached in time are released for the next pass.
        let send_deadline = lease.saturating_sub(self.send_timeout * 2);
        for (index, row) in rows.iter().enumerate() {
            if claimed_at.elapsed() >= send_deadline {
                let rest: Vec<String> = rows[index..].iter().map(|r| r.id.clone()).collect();
                tracing::warn!(
                    released = rest.len(),
                    "outbox lease running out; releasing rows"
                );
                self.blocking(move |conn| release(conn, &rest)).await?;
                break;
            }
            let outcome = self.mailer.send(row).await;
            let id = row.id.clone();
            let attempts = row.attempts;
            let settings = self.settings.clone();
            match outcome {
                Ok(()) => {
                    tracing::info!(outbox_id = %id, template = %row.template, "email sent");
                    self.blocking(move |conn| mark_sent(conn, &id)).await?;
                }
                Err(e) => {
                    let error = format!("{e:#}");
                    tracing::warn!(outbox_id = %id, attempts, error = %error, "email not sent");
                    self.blocking(move |conn| mark_failed(conn, &id, attempts, &error, &settings))
                        .await?;
                }
            }
        }
        Ok(rows.len())
    }

    async fn blocking<T, F>(&self, f: F) -> anyhow::Result<T>
    where
        F: FnOnce(&mut DbConnection) -> QueryResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            Ok(f(&mut conn)?)
        })
        .await?
    }
}

/// Takes up to `batch` due rows and leases them: `attempts` goes up by one and no other worker
/// may claim them until `locked_until`.
pub fn claim_due(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    batch: i64,
    lease: Duration,
) -> QueryResult<Vec<OutboxRow>> {
    let lease_end = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5));
    db::write_tx(conn, |conn| {
        macro_rules! due {
            () => {
                outbox::table
                    .filter(outbox::status.eq(STATUS_PENDING))
                    .filter(outbox::next_attempt_at.le(now))
                    .filter(
                        outbox::locked_until
                            .is_null()
                            .or(outbox::locked_until.lt(now)),
                    )
                    .order(outbox::next_attempt_at.asc())
                    .limit(batch)
                    .select(OutboxRow::as_select())
            };
        }
        let mut rows = match conn {
            DbConnection::Postgresql(c) => due!().for_update().skip_locked().load(c)?,
            DbConnection::Sqlite(c) => due!().load(c)?,
        };
        let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
        diesel::update(outbox::table.filter(outbox::id.eq_any(&ids)))
            .set((
                outbox::locked_until.eq(Some(lease_end)),
                outbox::attempts.eq(outbox::attempts + 1),
            ))
            .execute(conn)?;
        for row in &mut rows {
            row.attempts += 1;
            row.locked_until = Some(lease_end);
        }
        Ok(rows)
    })
}

/// Gives claimed rows back unsent: the try does not count.
fn release(conn: &mut DbConnection, ids: &[String]) -> QueryResult<()> {
    diesel::update(outbox::table.filter(outbox::id.eq_any(ids)))
        .set((
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::attempts.eq(outbox::attempts - 1),
        ))
        .execute(conn)?;
    Ok(())
}

fn mark_sent(conn: &mut DbConnection, id: &str) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::status.eq(STATUS_SENT),
            outbox::sent_at.eq(Some(now_micros())),
            outbox::locked_until.eq(None::<NaiveDateTime>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(())
}

/// After a failed try: back off and stay pending, or go `dead` once attempts are used up.
/// The last error is kept either way.
fn mark_failed(
    conn: &mut DbConnection,
    id: &str,
    attempts: i32,
    error: &str,
    settings: &OutboxSettings,
) -> QueryResult<()> {
    let error: String = error.chars().take(2000).collect();
    if attempts >= settings.max_attempts {
        tracing::error!(outbox_id = %id, attempts, "email dead-lettered after its last attempt");
        diesel::update(outbox::table.find(id))
            .set((
                outbox::status.eq(STATUS_DEAD),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?;
    } else {
        let delay = retry_delay(
            attempts,
            Duration::from_secs(settings.backoff_base_secs),
            Duration::from_secs(settings.backoff_max_secs),
        );
        let next = now_micros() + chrono::Duration::from_std(delay).unwrap_or_default();
        diesel::update(outbox::table.find(id))
            .set((
                outbox::next_attempt_at.eq(next),
                outbox::locked_until.eq(None::<NaiveDateTime>),
                outbox::last_error.eq(Some(error)),
            ))
            .execute(conn)?;
    }
    Ok(())
}
