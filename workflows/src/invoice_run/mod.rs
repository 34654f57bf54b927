//! The workflow `invoice-run:{tenant}:{period}`: bills every client invoice due in a period,
//! in batches of clients per activity (never a workflow per client), retries the clients that
//! failed without redoing the others, and answers its progress as a query, in the UI's current
//! details and in the `invoice_runs` row the API reads. Each tenant's Schedules start the
//! day's run and the day's upkeep (`scheduled.rs`).

pub mod activities;
mod scheduled;
mod workflow;

pub use activities::{BillInvoiceBatch, PlanInvoiceRun, RecordRunProgress, RunBillingUpkeep};
pub use scheduled::{BillingUpkeepWorkflow, ScheduledInvoiceRunWorkflow};
pub use workflow::InvoiceRunWorkflow;

#[cfg(test)]
mod tests {
    use super::*;
    use psa_domain::ids::invoice_run;
    use temporalio_common::{ActivityDefinition, QueryDefinition, WorkflowDefinition};

    /// The edge reaches the run by these names without this crate: they must agree.
    #[test]
    fn names_match_what_the_edge_uses() {
        assert_eq!(InvoiceRunWorkflow::run.name(), invoice_run::WORKFLOW_TYPE);
        assert_eq!(
            InvoiceRunWorkflow::query_progress.name(),
            invoice_run::PROGRESS_QUERY
        );
        assert_eq!(BillInvoiceBatch.name(), "billing.bill_invoice_batch");
    }
}
