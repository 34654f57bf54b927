//! Sends e-mail over SMTP (lettre). Runs on the `psa-email` task queue.
//!
//! SMTP cannot be told "send once": a crash after the server accepted a message and before
//! the sender remembers it means the retry sends it again. The send activity keeps that window
//! as small as it can: it locks the message's log row and marks it sent before the SMTP
//! exchange, in a transaction committed the moment the server accepts (rolled back if it
//! refuses), so a concurrent attempt waits instead of sending too, a message the log has as
//! sent is skipped, and only one commit round trip is left after the acceptance.
//! Errors that a retry cannot fix (a bad address, a permanent SMTP refusal) are not retried.

use lettre::message::{Mailbox, MultiPart, header::MessageId};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use psa_store::notifications::delivery::{ClaimError, NotificationStore};
use psa_workflows::notify_email::{EmailJob, EmailOutcome, SendEmail};
use std::sync::Arc;
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// Longest wait for any one SMTP command's answer.
const SMTP_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

#[derive(Debug, thiserror::Error)]
pub enum EmailError {
    #[error("SMTP_URL: {0}")]
    Url(String),
    #[error("address `{address}`: {reason}")]
    Address { address: String, reason: String },
    #[error("building the message: {0}")]
    Build(String),
    #[error("SMTP: {message}")]
    Smtp { message: String, permanent: bool },
    #[error("another attempt is sending this message")]
    InProgress,
    #[error("the send log: {0}")]
    Log(String),
}

impl EmailError {
    /// Whether sending the same message again could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            EmailError::Url(_) | EmailError::Address { .. } | EmailError::Build(_) => false,
            EmailError::Smtp { permanent, .. } => !permanent,
            EmailError::InProgress | EmailError::Log(_) => true,
        }
    }
}

pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    default_from: Mailbox,
    log: NotificationStore,
}

impl EmailSender {
    /// `smtp_url` as lettre reads it: `smtp://host:port` (plain), `smtp://host?tls=required`
    /// (STARTTLS) or `smtps://user:pass@host` (TLS).
    pub fn new(
        smtp_url: &str,
        default_from: &str,
        log: NotificationStore,
    ) -> Result<Self, EmailError> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| EmailError::Url(e.to_string()))?
            // Well inside the send activity's 60 s: an exchange that hangs ends (and rolls its
            // claim back) before Temporal gives the message to another attempt.
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Self {
            transport,
            default_from: mailbox(default_from)?,
            log,
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
            .map_err(|e| EmailError::Smtp {
                message: e.to_string(),
                permanent: e.is_permanent(),
            })
    }
}

/// A failure the next attempt may not meet.
fn retry_later(e: EmailError) -> ActivityError {
    ActivityError::application(ApplicationFailure::new(e))
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
        // The log row, locked and marked sent until the server's answer decides (see
        // `claim_email`). Without a claim nothing is sent: the attempt fails and Temporal
        // retries it, so no two attempts ever send side by side.
        let claim = match self.log.claim_email(&job).await {
            Ok(None) => return Ok(()),
            Ok(Some(tx)) => tx,
            Err(ClaimError::InProgress) => return Err(retry_later(EmailError::InProgress)),
            Err(e) => return Err(retry_later(EmailError::Log(e.to_string()))),
        };
        if let Err(e) = self.send(&job).await {
            // Dropping the claim rolls it back: the message is not sent.
            drop(claim);
            let retryable = e.is_retryable();
            return Err(ActivityError::application(if retryable {
                ApplicationFailure::new(e)
            } else {
                ApplicationFailure::non_retryable(e)
            }));
        }
        // Sent: from here on, failing the activity would send it again. The workflow records
        // the outcome too, so a failed commit here loses nothing.
        if let Err(e) = claim.commit().await {
            tracing::warn!(error = %e, event_id = %job.event_id, "recording a sent e-mail; recording it again");
            let sent = EmailOutcome {
                tenant_id: job.tenant_id,
                event_id: job.event_id,
                recipient_id: job.recipient_id,
                error: None,
            };
            if let Err(e) = self.log.record_email_outcome(&sent).await {
                tracing::warn!(error = %e, event_id = %job.event_id, "recording a sent e-mail");
            }
        }
        Ok(())
    }
}
