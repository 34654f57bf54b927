//! Activity interfaces the ticket workflow calls; implemented in `psa-activities`.
//!
//! Each interface is a marker type naming the activity and its input and output, so the
//! workflow and the implementation agree on one definition without depending on each other.

use psa_domain::sla::run::{SlaContextRequest, SlaStep, SlaTicketContext, SlaUpdate};
use temporalio_common::ActivityDefinition;

/// Appends one step to `sla_audit_log`; idempotent on `(ticket, step_key)`.
#[derive(Debug, Clone, Copy)]
pub struct RecordStep;

impl ActivityDefinition for RecordStep {
    type Input = SlaStep;
    type Output = ();
    fn name(&self) -> &str {
        "sla.record_step"
    }
}

/// Loads the ticket's SLA-relevant state and resolves its policy: the client's, else the
/// board's, else the tenant default; the policy's schedule, else the tenant default schedule.
#[derive(Debug, Clone, Copy)]
pub struct LoadSlaContext;

impl ActivityDefinition for LoadSlaContext {
    type Input = SlaContextRequest;
    type Output = SlaTicketContext;
    fn name(&self) -> &str {
        "sla.load_context"
    }
}

/// Writes one decision of the clock (audit step, ticket columns, SLA event), once.
#[derive(Debug, Clone, Copy)]
pub struct RecordSlaUpdate;

impl ActivityDefinition for RecordSlaUpdate {
    type Input = SlaUpdate;
    type Output = ();
    fn name(&self) -> &str {
        "sla.record_update"
    }
}
