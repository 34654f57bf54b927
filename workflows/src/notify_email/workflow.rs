//! The e-mail workflow's body.

use super::activities::{
    PlanEmails, PlanEmailsWithSlot, RecordEmailOutcome, ReserveSendSlot, SendEmail,
};
use super::email_task_queue;
use crate::store_calls::store;
use psa_domain::email_job::{EmailJob, EmailOutcome};
use psa_domain::events::Envelope;
use std::time::Duration;
use temporalio_common::{ActivityCloseTimeouts, RetryPolicy};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowResult};

#[workflow]
#[derive(Default)]
pub struct EmailNotificationWorkflow;

/// Histories begun with this marker do their Postgres work in local activities, run by the
/// worker inside the workflow task instead of through the server's activity queue: the plan
/// and the first send slot in one, each later slot and each outcome in one. Only the SMTP send
/// is an activity (on the e-mail queue). Older histories keep the activities they began with.
pub(crate) const LOCAL_PATCH: &str = "email-local-store-1";

/// How long a message is retried through an SMTP outage before it is recorded as failed.
const SEND_GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

#[workflow_methods]
impl EmailNotificationWorkflow {
    /// Returns how many messages were sent.
    #[run(name = "notification_email")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, event: Envelope) -> WorkflowResult<u32> {
        let local = ctx.patched(LOCAL_PATCH);
        // The first job's slot comes with the plan in runs begun with the marker.
        let (jobs, mut first_wait) = if local {
            let plan = store(ctx, true, PlanEmailsWithSlot, event).await?;
            (plan.jobs, Some(plan.first_wait_ms))
        } else {
            (store(ctx, false, PlanEmails, event).await?, None)
        };
        let mut sent = 0;
        for job in jobs {
            // Over the tenant's limit the message waits; it is never dropped.
            let mut wait_ms = match first_wait.take() {
                Some(ms) => ms,
                None => store(ctx, local, ReserveSendSlot, job.tenant_id).await?,
            };
            while wait_ms > 0 {
                ctx.timer(Duration::from_millis(wait_ms)).await;
                wait_ms = store(ctx, local, ReserveSendSlot, job.tenant_id).await?;
            }
            if send(ctx, local, job).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }
}

/// Sends one message (an activity on the e-mail queue) and records how it went; `true` when
/// it was sent.
async fn send(
    ctx: &WorkflowContext<EmailNotificationWorkflow>,
    local: bool,
    job: EmailJob,
) -> WorkflowResult<bool> {
    // An SMTP outage is waited out (retries for up to a day); only a message the server
    // refuses for good, or one that cannot be built, fails at once.
    let options =
        ActivityOptions::with_close_timeouts(ActivityCloseTimeouts::ScheduleAndStartToClose {
            schedule_to_close: SEND_GIVE_UP_AFTER,
            start_to_close: Duration::from_secs(60),
        })
        .task_queue(email_task_queue(ctx.info().task_queue()))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .maximum_interval(Duration::from_secs(300))
                .build(),
        )
        .build();
    let error = ctx
        .execute_activity(SendEmail, job.clone(), options)
        .await
        .err()
        .map(|e| e.to_string());
    let sent = error.is_none();
    let outcome = EmailOutcome {
        tenant_id: job.tenant_id,
        event_id: job.event_id,
        recipient_id: job.recipient_id,
        error,
    };
    store(ctx, local, RecordEmailOutcome, outcome).await?;
    Ok(sent)
}
