//! The workflow `notify:{tenant}:{event}`: e-mails the recipients an event calls for, within
//! the tenant's rate limit (queued behind a durable timer, never dropped), one activity per
//! message on the `psa-email` task queue, each recorded in `notification_log`.

pub mod activities;
mod workflow;

pub use activities::{
    EmailPlan, PlanEmails, PlanEmailsWithSlot, RecordEmailOutcome, ReserveSendSlot, SendEmail,
};
pub use psa_domain::email_job::{EmailJob, EmailOutcome};
pub use workflow::EmailNotificationWorkflow;
pub(crate) use workflow::LOCAL_PATCH;

/// The task queue of the e-mail sending activity, beside the workflow's own (`psa` →
/// `psa-email`): a downstream's limits belong to its own queue.
pub fn email_task_queue(workflow_task_queue: &str) -> String {
    format!("{workflow_task_queue}-email")
}

/// Business-key workflow ID: one e-mail run per event.
pub use psa_domain::ids::notify_workflow_id as workflow_id;
