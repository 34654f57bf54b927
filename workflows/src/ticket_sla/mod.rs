//! The per-ticket workflow `sla:{tenant}:{ticket}`.
//!
//! It runs the ticket's SLA clock ([`psa_domain::sla::SlaTracker`]): loads the policy, sleeps on
//! a durable timer until the next threshold, applies the ticket's events as they arrive, and
//! writes every decision through one activity. Signals are de-duplicated on event ID because
//! the outbox relay delivers at least once. Runs begun before the engine (patch
//! `sla-engine-1`) finish on the walking-skeleton path they started on.

pub mod activities;
mod types;
mod workflow;

pub use activities::{LoadSlaContext, RecordSlaUpdate, RecordStep};
pub use types::{
    SlaCarry, SlaContextRequest, SlaLimits, SlaRecord, SlaStep, SlaTicketContext, SlaUpdate,
    TicketSignal, TicketSignalKind, TicketWorkflowInput, TicketWorkflowStatus,
};
pub use workflow::SlaTicketWorkflow;
