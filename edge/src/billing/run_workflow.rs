//! Starting an invoice run: the one place the edge reaches the `invoice-run:{tenant}:{period}`
//! workflow, through the names in [`psa_domain::ids::invoice_run`] and the messages in
//! [`psa_domain::billing::run`], with marker types of its own (no workflow code here).
//!
//! The run's row is written first (`psa_store::billing::runs::request`), then the workflow is
//! started under its business key with the "use existing" conflict policy: a request while
//! the run is going on joins it, and one after it finished starts it again, finishing only what
//! is missing. Should Temporal be away, the request answers 503 and the same request later
//! starts the run.

use crate::state::AppState;
use crate::web::error::ApiError;
use psa_domain::billing::run::{InvoiceRunInput, RunProgress};
use psa_domain::ids::invoice_run;
use psa_domain::search_attributes as names;
use psa_store::billing::runs::InvoiceRun;
use temporalio_client::errors::WorkflowStartError;
use temporalio_client::{WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowStartOptions};
use temporalio_common::search_attributes::{SearchAttributeKey, SearchAttributes};
use temporalio_common::{HasWorkflowDefinition, WorkflowDefinition};

/// An invoice run, as the client sees it.
#[derive(Debug, Clone, Copy)]
pub struct InvoiceRunWorkflow;

impl WorkflowDefinition for InvoiceRunWorkflow {
    type Input = InvoiceRunInput;
    type Output = RunProgress;
    fn name(&self) -> &str {
        invoice_run::WORKFLOW_TYPE
    }
}

impl HasWorkflowDefinition for InvoiceRunWorkflow {
    type Run = Self;
}

/// Starts (or joins) the run the row stands for.
pub async fn start(
    state: &AppState,
    run: &InvoiceRun,
    input: InvoiceRunInput,
) -> Result<(), ApiError> {
    let client = state.temporal().await?;
    let search = SearchAttributes::new([
        SearchAttributeKey::<String>::keyword(names::TENANT_ID)
            .value_set(input.tenant_id.to_string()),
        SearchAttributeKey::<String>::keyword(names::BILLING_PERIOD).value_set(run.period.clone()),
    ]);
    let options = WorkflowStartOptions::new(&state.config.task_queue, run.workflow_id.as_str())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .search_attributes(search)
        .static_summary(format!("Invoice run for {}", run.period))
        .build();
    match client
        .start_workflow(InvoiceRunWorkflow, input, options)
        .await
    {
        Ok(_) => Ok(()),
        Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
        Err(e) => Err(ApiError::Unavailable(format!(
            "the workflow service did not start the run ({e}); it is recorded: send the same \
             request again"
        ))),
    }
}
