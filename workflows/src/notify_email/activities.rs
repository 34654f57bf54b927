//! Activity interfaces of the e-mail workflow; implemented in `psa-activities`.

use psa_domain::email_job::{EmailJob, EmailOutcome};
use psa_domain::events::Envelope;
use serde::{Deserialize, Serialize};
use temporalio_common::ActivityDefinition;
use uuid::Uuid;

/// Works out who gets an e-mail for an event (switches, preferences, addresses), renders it,
/// and records each as queued; recipients already sent to are left out.
#[derive(Debug, Clone, Copy)]
pub struct PlanEmails;

impl ActivityDefinition for PlanEmails {
    type Input = Envelope;
    type Output = Vec<EmailJob>;
    fn name(&self) -> &str {
        "notifications.plan_emails"
    }
}

/// [`PlanEmails`] and, when there is an e-mail to send, [`ReserveSendSlot`] for the first, in
/// one transaction.
#[derive(Debug, Clone, Copy)]
pub struct PlanEmailsWithSlot;

impl ActivityDefinition for PlanEmailsWithSlot {
    type Input = Envelope;
    type Output = EmailPlan;
    fn name(&self) -> &str {
        "notifications.plan_emails_with_slot"
    }
}

/// What [`PlanEmailsWithSlot`] planned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailPlan {
    pub jobs: Vec<EmailJob>,
    /// For the first job, what [`ReserveSendSlot`] answered: 0 when its slot was taken, else
    /// how many milliseconds to wait before asking again. 0 when there are no jobs.
    pub first_wait_ms: u64,
}

/// Takes one send from the tenant's per-minute budget: 0 when taken, else how many
/// milliseconds to wait before asking again.
#[derive(Debug, Clone, Copy)]
pub struct ReserveSendSlot;

impl ActivityDefinition for ReserveSendSlot {
    type Input = Uuid;
    type Output = u64;
    fn name(&self) -> &str {
        "notifications.reserve_send_slot"
    }
}

/// Sends one message over SMTP (on the `psa-email` queue).
#[derive(Debug, Clone, Copy)]
pub struct SendEmail;

impl ActivityDefinition for SendEmail {
    type Input = EmailJob;
    type Output = ();
    fn name(&self) -> &str {
        "email.send"
    }
}

/// Records a message as sent or failed in `notification_log`.
#[derive(Debug, Clone, Copy)]
pub struct RecordEmailOutcome;

impl ActivityDefinition for RecordEmailOutcome {
    type Input = EmailOutcome;
    type Output = ();
    fn name(&self) -> &str {
        "notifications.record_email_outcome"
    }
}
