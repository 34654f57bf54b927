//! Sends e-mail over SMTP (lettre). Runs on the `psa-email` task queue.

use lettre::message::{Mailbox, MultiPart, header::MessageId};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use psa_workflows::notify_email::{EmailJob, SendEmail};
use std::sync::Arc;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("SMTP_URL: {0}")]
    Url(String),
    #[error("address `{address}`: {reason}")]
    Address { address: String, reason: String },
    #[error("building the message: {0}")]
    Build(String),
    #[error("SMTP: {0}")]
    Smtp(String),
}

pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    default_from: Mailbox,
}

impl EmailSender {
    /// `smtp_url` as lettre reads it: `smtp://host:port` (plain), `smtp://host?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host` (TLS).
    pub fn new(smtp_url: &str, default_from: &str) -> Result<Self, EmailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| EmailError::Url(e.to_string()))?
            .build();
        Ok(Self {
            transport,
            default_from: mailbox(default_from)?,
        })
    }

    pub async fn send(&self, job: &EmailJob) -> Result<(), EmailError> {
        let from = match &job.from {
            Some(f) => mailbox(f)?,
            None => self.default_from.clone(),
        };
        let message = Message::builder()
            .from(from)
            .to(mailbox(&job.to)?)
            .subject(&job.subject)
            .header(MessageId::from(job.message_id.clone()))
            .multipart(MultiPart::alternative_plain_html(
                job.text.clone(),
                job.html.clone(),
            ))
            .map_err(|e| EmailError::Build(e.to_string()))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| EmailError::Smtp(e.to_string()))
    }
}

fn mailbox(address: &str) -> Result<Mailbox, EmailError> {
    address
        .parse()
        .map_err(|e: lettre::address::AddressError| EmailError::Address {
            address: address.to_owned(),
            reason: e.to_string(),
        })
}

#[activities]
impl EmailSender {
    #[activity(definition = SendEmail)]
    pub async fn send_activity(
        self: Arc<Self>,
        _ctx: ActivityContext,
        job: EmailJob,
    ) -> Result<(), ActivityError> {
        Ok(self.send(&job).await?)
    }
}
