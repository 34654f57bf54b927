//! Activity interfaces of the invoice run; implemented in `psa-activities` over
//! `psa_store::billing::{runs, run_batch}`.

use psa_domain::billing::run::{
    BatchOutcome, BatchRequest, PlanRequest, ProgressRecord, RunPlan, UpkeepOutcome, UpkeepRequest,
};
use temporalio_common::ActivityDefinition;

/// Finds the invoices due in the period, splits their clients into batches, and marks the
/// run's row running.
#[derive(Debug, Clone, Copy)]
pub struct PlanInvoiceRun;

impl ActivityDefinition for PlanInvoiceRun {
    type Input = PlanRequest;
    type Output = RunPlan;
    fn name(&self) -> &str {
        "billing.plan_invoice_run"
    }
}

/// Bills one batch of clients in one transaction (each invoice exactly once: see the store's
/// `run_batch`).
#[derive(Debug, Clone, Copy)]
pub struct BillInvoiceBatch;

impl ActivityDefinition for BillInvoiceBatch {
    type Input = BatchRequest;
    type Output = BatchOutcome;
    fn name(&self) -> &str {
        "billing.bill_invoice_batch"
    }
}

/// Writes the run's progress to its row, for the API.
#[derive(Debug, Clone, Copy)]
pub struct RecordRunProgress;

impl ActivityDefinition for RecordRunProgress {
    type Input = ProgressRecord;
    type Output = ();
    fn name(&self) -> &str {
        "billing.record_run_progress"
    }
}

/// The day's billing upkeep: overdue invoices, expired credits.
#[derive(Debug, Clone, Copy)]
pub struct RunBillingUpkeep;

impl ActivityDefinition for RunBillingUpkeep {
    type Input = UpkeepRequest;
    type Output = UpkeepOutcome;
    fn name(&self) -> &str {
        "billing.run_upkeep"
    }
}
