//! What cancelling a run takes beyond the store, shared by HTTP and gRPC: the `cancel` signal
//! to its workflow, or, for a run whose workflow has not begun, marking it cancelled so it
//! never begins.

use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use psa_domain::ids::automation_run;
use psa_store::automations::runs::{self, RunSummary};
use temporalio_client::WorkflowSignalOptions;
use temporalio_client::errors::WorkflowInteractionError;
use temporalio_common::{HasWorkflowDefinition, SignalDefinition, WorkflowDefinition};
use uuid::Uuid;

/// An automation run as the edge reaches it, without the worker's code.
#[derive(Debug, Clone, Copy)]
struct AutomationRun;

impl WorkflowDefinition for AutomationRun {
    type Input = serde_json::Value;
    type Output = serde_json::Value;
    fn name(&self) -> &str {
        automation_run::WORKFLOW_TYPE
    }
}

impl HasWorkflowDefinition for AutomationRun {
    type Run = Self;
}

/// The signal that ends a run before its next step.
#[derive(Debug, Clone, Copy)]
struct CancelRun;

impl SignalDefinition for CancelRun {
    type Workflow = AutomationRun;
    type Input = String;
    fn name(&self) -> &str {
        automation_run::CANCEL_SIGNAL
    }
}

/// Ends run `id` of `p`'s tenant before its next step (see `cancelAutomationRun`).
pub async fn cancel(s: &AppState, p: &Principal, id: Uuid) -> Result<RunSummary, ApiError> {
    let run = runs::cancellable(&s.pool, p, id).await?;
    let client = s.temporal().await?;
    let reason = format!("cancelled through the API by key {}", p.key_id);
    let signalled = client
        .get_workflow_handle::<AutomationRun>(run.workflow_id.as_str())
        .signal(CancelRun, reason, WorkflowSignalOptions::default())
        .await;
    match signalled {
        Ok(()) => Ok(run),
        // Not begun yet: it never will.
        Err(WorkflowInteractionError::NotFound(_)) => {
            Ok(runs::cancel_pending(&s.pool, p, id).await?)
        }
        Err(e) => Err(ApiError::Unavailable(e.to_string())),
    }
}
