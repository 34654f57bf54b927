//! What a tenant's billing Schedules start each day (Temporal appends the time to their IDs, so
//! these are not business keys; the work they start is):
//! - `invoice_run_scheduled` starts the day's run, `invoice-run:{tenant}:{day}`, as a child
//!   that outlives it; the day is the one the schedule fired on in the tenant's billing zone.
//!   A run already going for that day (started by hand) is left to finish; one that finished
//!   is run again, which makes only what is missing.
//! - `billing_upkeep` marks the invoices past their due date overdue and lapses expired
//!   credits, for that day.

use super::activities::RunBillingUpkeep;
use super::workflow::InvoiceRunWorkflow;
use chrono::{DateTime, Utc};
use psa_domain::billing::run::{
    DEFAULT_BATCH_SIZE, DEFAULT_PARALLEL_BATCHES, InvoiceRunInput, ScheduledBilling, UpkeepOutcome,
    UpkeepRequest, day_in,
};
use psa_domain::ids::invoice_run_workflow_id;
use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_common::search_attributes::{SearchAttributeKey, Timestamp};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, ChildWorkflowOptions, ChildWorkflowStartError, ParentClosePolicy,
    WorkflowContext, WorkflowResult,
};

/// When the Schedule meant this action to run (set by the server on every scheduled start).
const SCHEDULED_AT: SearchAttributeKey<Timestamp> =
    SearchAttributeKey::datetime("TemporalScheduledStartTime");

/// The day the action is for in `zone`: the day the Schedule meant it for, so an action
/// caught up after an outage bills its own day; else (started by hand) the workflow's today.
fn today<W>(ctx: &WorkflowContext<W>, zone: &str) -> chrono::NaiveDate {
    let scheduled = ctx.search_attributes().get(&SCHEDULED_AT).and_then(|t| {
        DateTime::<Utc>::from_timestamp(t.seconds(), u32::try_from(t.nanos()).unwrap_or(0))
    });
    let now = scheduled.unwrap_or_else(|| {
        ctx.workflow_time()
            .map(DateTime::<Utc>::from)
            .unwrap_or_default()
    });
    day_in(now, zone)
}

#[workflow]
#[derive(Default)]
pub struct ScheduledInvoiceRunWorkflow;

#[workflow_methods]
impl ScheduledInvoiceRunWorkflow {
    /// Answers the period of the run it started (or found going).
    #[run(name = "invoice_run_scheduled")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ScheduledBilling,
    ) -> WorkflowResult<String> {
        let period = today(ctx, &input.timezone).to_string();
        let options = ChildWorkflowOptions::builder()
            .workflow_id(invoice_run_workflow_id(input.tenant_id, &period))
            .parent_close_policy(ParentClosePolicy::Abandon)
            .static_summary(format!("Invoice run for {period}"))
            .build();
        let started = ctx
            .start_child_workflow(
                InvoiceRunWorkflow::run,
                InvoiceRunInput {
                    tenant_id: input.tenant_id,
                    period: period.clone(),
                    batch_size: DEFAULT_BATCH_SIZE,
                    parallel_batches: DEFAULT_PARALLEL_BATCHES,
                },
                options,
            )
            .await;
        match started {
            // Running already: it bills the day; nothing to add.
            Ok(_) | Err(ChildWorkflowStartError::StartFailed { .. }) => Ok(period),
            Err(e) => Err(e.into()),
        }
    }
}

#[workflow]
#[derive(Default)]
pub struct BillingUpkeepWorkflow;

#[workflow_methods]
impl BillingUpkeepWorkflow {
    #[run(name = "billing_upkeep")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: ScheduledBilling,
    ) -> WorkflowResult<UpkeepOutcome> {
        let day = today(ctx, &input.timezone);
        let options = ActivityOptions::with_start_to_close_timeout(Duration::from_secs(60))
            .retry_policy(
                RetryPolicy::builder()
                    .initial_interval(Duration::from_secs(1))
                    .maximum_interval(Duration::from_secs(60))
                    .build(),
            )
            .build();
        Ok(ctx
            .execute_activity(
                RunBillingUpkeep,
                UpkeepRequest {
                    tenant_id: input.tenant_id,
                    day,
                },
                options,
            )
            .await?)
    }
}
