//! The one list of workflows this system runs, registered wherever workflow code runs: the
//! worker, the replay test and the test harness's replays. A new workflow is added here once.

use crate::automation_run::AutomationRunWorkflow;
use crate::invoice_run::{BillingUpkeepWorkflow, InvoiceRunWorkflow, ScheduledInvoiceRunWorkflow};
use crate::notify_email::EmailNotificationWorkflow;
use crate::schedule_reminders::ScheduleReminderWorkflow;
use crate::ticket_sla::SlaTicketWorkflow;
use temporalio_sdk::WorkerOptions;
use temporalio_sdk::workflow_replayer::WorkflowReplayerOptions;
use temporalio_sdk::workflows::WorkflowRegistrationError;

/// The patches that move a workflow's store work into local activities. A worker that keeps
/// no workflow cache cannot run local activities (the SDK evicts a run with one in flight), so
/// it does not activate these for new runs, which then do their store work in activities as
/// before; runs that have one keep it wherever they are replayed.
pub const LOCAL_ACTIVITY_PATCHES: [&str; 2] = [
    crate::ticket_sla::LOCAL_PATCH,
    crate::notify_email::LOCAL_PATCH,
];

/// Registers every workflow on `$options` (a worker's or a replayer's options: both have
/// `register_workflow`, with no trait in common).
macro_rules! register_all {
    ($options:expr) => {{
        $options.register_workflow::<SlaTicketWorkflow>()?;
        $options.register_workflow::<EmailNotificationWorkflow>()?;
        $options.register_workflow::<InvoiceRunWorkflow>()?;
        $options.register_workflow::<ScheduledInvoiceRunWorkflow>()?;
        $options.register_workflow::<BillingUpkeepWorkflow>()?;
        $options.register_workflow::<ScheduleReminderWorkflow>()?;
        $options.register_workflow::<AutomationRunWorkflow>()?;
        Ok(())
    }};
}

/// Every workflow, on a worker polling the workflow task queue.
pub fn on_worker(options: &mut WorkerOptions) -> Result<(), WorkflowRegistrationError> {
    register_all!(options)
}

/// Every workflow, on a replayer checking saved histories against today's code.
pub fn on_replayer(options: &mut WorkflowReplayerOptions) -> Result<(), WorkflowRegistrationError> {
    register_all!(options)
}
