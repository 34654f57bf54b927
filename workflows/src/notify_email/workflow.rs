//! The e-mail workflow's body.

use super::activities::{PlanEmails, RecordEmailOutcome, ReserveSendSlot, SendEmail};
use super::email_task_queue;
use psa_domain::email_job::EmailOutcome;
use psa_domain::events::Envelope;
use std::time::Duration;
use temporalio_common::{ActivityCloseTimeouts, RetryPolicy};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowResult};

#[workflow]
#[derive(Default)]
pub struct EmailNotificationWorkflow;

/// How long a message is retried through an SMTP outage before it is recorded as failed.
const SEND_GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Activities that touch only Postgres.
fn store_options() -> ActivityOptions {
    ActivityOptions::start_to_close_timeout(Duration::from_secs(30))
}

#[workflow_methods]
impl EmailNotificationWorkflow {
    /// Returns how many messages were sent.
    #[run(name = "notification_email")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, event: Envelope) -> WorkflowResult<u32> {
        let email_queue = email_task_queue(ctx.info().task_queue());
        let jobs = ctx
            .execute_activity(PlanEmails, event, store_options())
            .await?;
        let mut sent = 0;
        for job in jobs {
            // Over the tenant's limit the message waits; it is never dropped.
            loop {
                let wait_ms = ctx
                    .execute_activity(ReserveSendSlot, job.tenant_id, store_options())
                    .await?;
                if wait_ms == 0 {
                    break;
                }
                ctx.timer(Duration::from_millis(wait_ms)).await;
            }
            // An SMTP outage is waited out (retries for up to a day); only a message the
            // server refuses for good, or one that cannot be built, fails at once.
            let send = ActivityOptions::with_close_timeouts(
                ActivityCloseTimeouts::ScheduleAndStartToClose {
                    schedule_to_close: SEND_GIVE_UP_AFTER,
                    start_to_close: Duration::from_secs(60),
                },
            )
            .task_queue(email_queue.clone())
            .retry_policy(
                RetryPolicy::builder()
                    .initial_interval(Duration::from_secs(1))
                    .maximum_interval(Duration::from_secs(300))
                    .build(),
            )
            .build();
            let error = ctx
                .execute_activity(SendEmail, job.clone(), send)
                .await
                .err()
                .map(|e| e.to_string());
            if error.is_none() {
                sent += 1;
            }
            let outcome = EmailOutcome {
                tenant_id: job.tenant_id,
                event_id: job.event_id,
                recipient_id: job.recipient_id,
                error,
            };
            ctx.execute_activity(RecordEmailOutcome, outcome, store_options())
                .await?;
        }
        Ok(sent)
    }
}
