//! The per-ticket workflow `sla:{tenant}:{ticket}`.
//!
//! It runs the ticket's SLA clock ([`psa_domain::sla::SlaTracker`]): loads the policy, sleeps on
//! a durable timer until the next threshold, applies the ticket's events as they arrive, and
//! writes every decision through one activity. Signals are de-duplicated on event ID because
//! the outbox relay delivers at least once. Runs begun before the engine (patch
//! `sla-engine-1`) finish on the walking-skeleton path they started on.

pub mod activities;
pub mod start;
mod workflow;

pub use activities::{
    LoadSlaContext, RecordSlaUpdate, RecordStep, SlaStartRequest, SlaStarted, StartSlaClock,
};
pub use psa_domain::sla::run::{
    SlaCarry, SlaContextRequest, SlaLimits, SlaRecord, SlaStep, SlaTicketContext, SlaUpdate,
    TicketSignal, TicketSignalKind, TicketWorkflowInput, TicketWorkflowStatus,
};
pub(crate) use workflow::LOCAL_PATCH;
pub use workflow::SlaTicketWorkflow;

#[cfg(test)]
mod tests {
    use super::SlaTicketWorkflow;
    use psa_domain::ids::sla_run;
    use temporalio_common::{QueryDefinition, SignalDefinition, WorkflowDefinition};

    /// The edge reaches the run by these names without this crate: they must agree.
    #[test]
    fn names_match_the_ones_callers_use() {
        assert_eq!(SlaTicketWorkflow::run.name(), sla_run::WORKFLOW_TYPE);
        assert_eq!(
            SlaTicketWorkflow::ticket_event.name(),
            sla_run::EVENT_SIGNAL
        );
        assert_eq!(
            SlaTicketWorkflow::query_status.name(),
            sla_run::STATUS_QUERY
        );
    }
}
