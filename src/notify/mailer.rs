//! SMTP delivery of one email job with lettre. Delivery is at least once: a worker that dies
//! after sending but before recording sends again after the lease; the Message-ID
//! (`<job id@probity.outbox>`, the domain kept from the outbox days so ids stay stable) lets
//! receivers drop duplicates.

use std::time::Duration;

use anyhow::{anyhow, Context};
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;

use super::{templates, EmailJob};
use crate::settings::{MailSettings, MailTls};

/// Sends rendered email jobs over SMTP with lettre.
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

    /// Renders `email` and sends it with Message-ID `<job_id@probity.outbox>`.
    /// Errors: an unknown template, a bad recipient, or the SMTP server's refusal or silence.
    pub async fn send(&self, job_id: &str, email: &EmailJob) -> anyhow::Result<()> {
        let to: Mailbox = email
            .recipient
            .parse()
            .map_err(|e| anyhow!("recipient is not a valid address: {e}"))?;
        let email = templates::render(&email.template, &email.data)?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject)
            .message_id(Some(format!("<{job_id}@probity.outbox>")))
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
