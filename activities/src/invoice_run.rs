//! The invoice run's activities: thin adapters over [`psa_store::billing::runs`] (the plan and
//! the run's row), [`psa_store::billing::run_batch`] (billing one batch of clients) and
//! [`psa_store::billing::upkeep`] (the day's overdue invoices and expired credits).

use psa_domain::billing::run::{
    BatchOutcome, BatchRequest, PlanRequest, ProgressRecord, RunPlan, UpkeepOutcome, UpkeepRequest,
};
use psa_store::PgPool;
use psa_store::billing::{run_batch, runs, upkeep};
use psa_workflows::invoice_run::{
    BillInvoiceBatch, PlanInvoiceRun, RecordRunProgress, RunBillingUpkeep,
};
use std::sync::Arc;
use std::time::Duration;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// How often a batch reports that it is alive; the workflow's heartbeat timeout for batches
/// is a few times this.
const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct InvoiceRunActivities {
    pool: PgPool,
}

impl InvoiceRunActivities {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[activities]
impl InvoiceRunActivities {
    #[activity(definition = PlanInvoiceRun)]
    pub async fn plan_invoice_run(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: PlanRequest,
    ) -> Result<RunPlan, ActivityError> {
        Ok(runs::plan(&self.pool, req.tenant_id, &req.period, req.batch_size).await?)
    }

    /// Heartbeats while the batch works, so that a batch on a worker that died is retried
    /// within the heartbeat timeout rather than the whole start-to-close timeout.
    #[activity(definition = BillInvoiceBatch)]
    pub async fn bill_invoice_batch(
        self: Arc<Self>,
        ctx: ActivityContext,
        req: BatchRequest,
    ) -> Result<BatchOutcome, ActivityError> {
        let work = run_batch::bill_batch(&self.pool, &req);
        tokio::pin!(work);
        let mut beat = tokio::time::interval(HEARTBEAT_EVERY);
        loop {
            tokio::select! {
                outcome = &mut work => return Ok(outcome?),
                _ = beat.tick() => {
                    // Heartbeats carry nothing: a retried batch starts over (see run_batch).
                    let _ = ctx.record_heartbeat(()).await;
                }
            }
        }
    }

    #[activity(definition = RunBillingUpkeep)]
    pub async fn run_billing_upkeep(
        self: Arc<Self>,
        _ctx: ActivityContext,
        req: UpkeepRequest,
    ) -> Result<UpkeepOutcome, ActivityError> {
        Ok(upkeep::run(&self.pool, req.tenant_id, req.day).await?)
    }

    #[activity(definition = RecordRunProgress)]
    pub async fn record_run_progress(
        self: Arc<Self>,
        _ctx: ActivityContext,
        record: ProgressRecord,
    ) -> Result<(), ActivityError> {
        Ok(runs::record_progress(&self.pool, record.tenant_id, &record.progress).await?)
    }
}
