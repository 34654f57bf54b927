//! The invoice run's body: plan, bill the batches a few at a time, retry the clients that
//! failed, finish.
//!
//! Bad data never fails the run: a client the engine refuses is reported with its reason and
//! tried again after a wait, and the run completes `completed_with_failures` when it still
//! fails; starting the run again after the data is fixed bills only what is missing. Only the
//! store being away is retried by the activities themselves, without limit.

use super::activities::{BillInvoiceBatch, PlanInvoiceRun, RecordRunProgress};
use crate::search_attributes as sa;
use psa_domain::billing::run::{
    BatchOutcome, BatchRequest, ClientFailure, Clients, InvoiceRunInput, MAX_BATCH_SIZE,
    MAX_PARALLEL_BATCHES, PlanRequest, ProgressRecord, RunProgress,
};
use std::time::Duration;
use temporalio_common::RetryPolicy;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::workflows::join_all;
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowContextView, WorkflowResult};
use uuid::Uuid;

/// Waits before the clients that failed are tried again; after the last they are reported.
const RETRY_WAITS: [Duration; 2] = [Duration::from_secs(60), Duration::from_secs(600)];

#[workflow]
#[derive(Default)]
pub struct InvoiceRunWorkflow {
    progress: RunProgress,
}

#[workflow_methods]
impl InvoiceRunWorkflow {
    #[run(name = "invoice_run")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: InvoiceRunInput,
    ) -> WorkflowResult<RunProgress> {
        ctx.upsert_search_attributes([
            sa::TENANT_ID.value_set(input.tenant_id.to_string()),
            sa::BILLING_PERIOD.value_set(input.period.clone()),
        ]);
        ctx.state_mut(|s| {
            s.progress.period = input.period.clone();
            s.progress.status = "running".into();
        });
        let batch_size = input.batch_size.clamp(1, MAX_BATCH_SIZE);
        let parallel =
            usize::try_from(input.parallel_batches.clamp(1, MAX_PARALLEL_BATCHES)).unwrap_or(1);
        let plan = ctx
            .execute_activity(
                PlanInvoiceRun,
                PlanRequest {
                    tenant_id: input.tenant_id,
                    period: input.period.clone(),
                    batch_size,
                },
                store_options(),
            )
            .await?;
        let batches: Vec<Clients> = plan
            .batch_starts
            .iter()
            .enumerate()
            .map(|(i, from)| Clients::Range {
                from: *from,
                to: plan.batch_starts.get(i + 1).copied(),
            })
            .collect();
        ctx.state_mut(|s| {
            s.progress.total = plan.total;
            s.progress.batches_total = u32::try_from(batches.len()).unwrap_or(u32::MAX);
        });
        record(ctx, &input).await?;

        for wave in batches.chunks(parallel) {
            let outcomes = join_all(wave.iter().map(|clients| {
                ctx.execute_activity(
                    BillInvoiceBatch,
                    BatchRequest {
                        tenant_id: input.tenant_id,
                        period: input.period.clone(),
                        clients: clients.clone(),
                    },
                    batch_options(),
                )
            }))
            .await;
            for outcome in outcomes {
                let outcome = outcome?;
                ctx.state_mut(|s| s.add(outcome, true));
            }
            record(ctx, &input).await?;
        }

        for wait in RETRY_WAITS {
            let failed: Vec<Uuid> =
                ctx.state(|s| s.progress.failed.iter().map(|f| f.client_id).collect());
            if failed.is_empty() {
                break;
            }
            ctx.timer(wait).await;
            let outcome = ctx
                .execute_activity(
                    BillInvoiceBatch,
                    BatchRequest {
                        tenant_id: input.tenant_id,
                        period: input.period.clone(),
                        clients: Clients::Listed(failed),
                    },
                    batch_options(),
                )
                .await?;
            ctx.state_mut(|s| {
                s.progress.failed.clear();
                s.add(outcome, false);
            });
            record(ctx, &input).await?;
        }

        ctx.state_mut(|s| {
            s.progress.status = if s.progress.failed.is_empty() {
                "completed".into()
            } else {
                "completed_with_failures".into()
            };
        });
        record(ctx, &input).await?;
        Ok(ctx.state(|s| s.progress.clone()))
    }

    /// How the run stands.
    #[query(name = "progress")]
    pub fn query_progress(&self, _ctx: &WorkflowContextView) -> RunProgress {
        self.progress.clone()
    }
}

impl InvoiceRunWorkflow {
    /// Counts one activity's outcome; `batch`: a first attempt at a batch. A retry of the
    /// clients that failed counts only the invoices it made: their other periods were counted
    /// by the first attempt.
    fn add(&mut self, o: BatchOutcome, batch: bool) {
        let p = &mut self.progress;
        p.done = p.done.saturating_add(o.invoiced);
        if batch {
            p.done = p.done.saturating_add(o.already);
            p.empty = p.empty.saturating_add(o.empty);
        }
        p.failed.extend(o.failed.into_iter().map(|f| ClientFailure {
            client_id: f.client_id,
            reason: f.reason,
        }));
        if batch {
            p.batches_done = p.batches_done.saturating_add(1);
        }
    }
}

/// Writes the progress to the run's row and to the UI's current details.
async fn record(
    ctx: &mut WorkflowContext<InvoiceRunWorkflow>,
    input: &InvoiceRunInput,
) -> WorkflowResult<()> {
    let progress = ctx.state(|s| s.progress.clone());
    ctx.set_current_details(format!(
        "{}: {} of {} invoices done, {} with nothing to bill, {} clients failed; batch {} of {}",
        progress.status,
        progress.done,
        progress.total,
        progress.empty,
        progress.failed.len(),
        progress.batches_done,
        progress.batches_total,
    ));
    ctx.execute_activity(
        RecordRunProgress,
        ProgressRecord {
            tenant_id: input.tenant_id,
            progress,
        },
        store_options(),
    )
    .await?;
    Ok(())
}

/// Store work is retried until the store answers: the run never fails because Postgres was
/// away for a while.
fn retry() -> RetryPolicy {
    RetryPolicy::builder()
        .initial_interval(Duration::from_secs(1))
        .maximum_interval(Duration::from_secs(60))
        .build()
}

fn store_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(30))
        .retry_policy(retry())
        .build()
}

/// A batch bills up to [`MAX_BATCH_SIZE`] clients in one transaction; it heartbeats every
/// few seconds, so one on a worker that died is retried after the heartbeat timeout.
fn batch_options() -> ActivityOptions {
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(300))
        .heartbeat_timeout(Duration::from_secs(20))
        .retry_policy(retry())
        .build()
}
