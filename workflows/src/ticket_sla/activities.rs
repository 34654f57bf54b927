//! Activity interfaces the ticket workflow calls; implemented in `psa-activities`.
//!
//! Each interface is a marker type naming the activity and its input and output, so the
//! workflow and the implementation agree on one definition without depending on each other.

use super::types::SlaStep;
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
