//! The per-ticket workflow `sla:{tenant}:{ticket}`.
//!
//! Today it is the walking skeleton of the SLA engine: it records that it started, follows the
//! ticket's events until the ticket closes, and records that it finished. Signals are
//! de-duplicated on event ID because the outbox relay delivers at least once.

pub mod activities;
mod types;
mod workflow;

pub use activities::RecordStep;
pub use types::{
    SlaStep, TicketSignal, TicketSignalKind, TicketWorkflowInput, TicketWorkflowStatus,
};
pub use workflow::SlaTicketWorkflow;
