//! The ticket workflow's body: reads top to bottom like the process it models.

use super::activities::RecordStep;
use super::types::{SlaStep, TicketSignal, TicketWorkflowInput, TicketWorkflowStatus};
use chrono::{DateTime, Utc};
use std::time::Duration;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, SyncWorkflowContext, WorkflowContext, WorkflowContextView, WorkflowResult,
};
use uuid::Uuid;

#[workflow]
#[derive(Default)]
pub struct SlaTicketWorkflow {
    /// Event IDs already applied, in arrival order (a Vec, not a HashSet: iteration order must
    /// be deterministic if it is ever used to decide).
    applied: Vec<Uuid>,
    closed: bool,
}

#[workflow_methods]
impl SlaTicketWorkflow {
    #[run(name = "ticket_sla")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: TicketWorkflowInput,
    ) -> WorkflowResult<TicketWorkflowStatus> {
        let started_at = workflow_now(ctx.workflow_time());
        record(ctx, &input, "started", "started", started_at).await?;

        ctx.wait_condition(|s| s.closed).await?;

        let finished_at = workflow_now(ctx.workflow_time());
        record(ctx, &input, "finished", "finished", finished_at).await?;
        Ok(ctx.state(|s| s.status()))
    }

    /// Every ticket event routed to this ticket, applied once per event ID.
    #[signal(name = "ticket_event")]
    pub fn ticket_event(&mut self, _ctx: &mut SyncWorkflowContext<Self>, signal: TicketSignal) {
        if self.applied.contains(&signal.event_id) {
            return;
        }
        self.applied.push(signal.event_id);
        if signal.kind.closes_ticket() {
            self.closed = true;
        }
    }

    #[query(name = "status")]
    pub fn query_status(&self, _ctx: &WorkflowContextView) -> TicketWorkflowStatus {
        self.status()
    }
}

impl SlaTicketWorkflow {
    fn status(&self) -> TicketWorkflowStatus {
        TicketWorkflowStatus {
            events_applied: u32::try_from(self.applied.len()).unwrap_or(u32::MAX),
            closed: self.closed,
        }
    }
}

async fn record(
    ctx: &mut WorkflowContext<SlaTicketWorkflow>,
    input: &TicketWorkflowInput,
    step_key: &str,
    event: &str,
    at: DateTime<Utc>,
) -> WorkflowResult<()> {
    let step = SlaStep {
        tenant_id: input.tenant_id,
        ticket_id: input.ticket_id,
        step_key: step_key.to_owned(),
        event: event.to_owned(),
        detail: serde_json::json!({ "ticket_number": input.ticket_number }),
        occurred_at: at,
    };
    ctx.execute_activity(
        RecordStep,
        step,
        ActivityOptions::start_to_close_timeout(Duration::from_secs(30)),
    )
    .await?;
    Ok(())
}

/// The workflow clock as UTC. The SDK gives `None` only before the first activation, which
/// cannot happen inside `run`; the epoch keeps replay deterministic all the same.
fn workflow_now(t: Option<std::time::SystemTime>) -> DateTime<Utc> {
    t.map(DateTime::<Utc>::from).unwrap_or_default()
}
