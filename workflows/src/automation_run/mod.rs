//! The workflow `automation:{tenant}:{automation}:{event}`: one run of a published
//! automation, pinned to the version it started with. It drives the same interpreter as the
//! dry run (`psa_domain::automations::machine`), answering each effect durably: an action is
//! an activity with the step's retry policy, a wait a timer, a wait for an event a
//! registration in Postgres plus the signals the event subscriber sends, a call a child run.
//! It continues as new with the interpreter's state every 100 effects (or sooner when the
//! server suggests it), so its history stays small however long it runs, and
//! writes its read model (status, current step, trace) at each stop.
//!
//! Bad data never fails the workflow: a definition that no longer reads, an expression that
//! fails, an action refused: each ends the run as `failed` in the read model, and the
//! workflow completes.

pub mod activities;
mod workflow;

pub use activities::{BusinessTime, LoadVersion, RecordRun, RunAction, SetWait};
pub use workflow::AutomationRunWorkflow;

#[cfg(test)]
mod tests {
    use super::*;
    use psa_domain::ids::automation_run;
    use temporalio_common::{QueryDefinition, SignalDefinition, WorkflowDefinition};

    /// The subscriber and the edge reach runs by these names without this crate.
    #[test]
    fn names_match_what_starters_use() {
        assert_eq!(
            AutomationRunWorkflow::run.name(),
            automation_run::WORKFLOW_TYPE
        );
        assert_eq!(
            AutomationRunWorkflow::event.name(),
            automation_run::EVENT_SIGNAL
        );
        assert_eq!(
            AutomationRunWorkflow::cancel.name(),
            automation_run::CANCEL_SIGNAL
        );
        assert_eq!(
            AutomationRunWorkflow::query_status.name(),
            automation_run::STATUS_QUERY
        );
    }
}
