//! Activity interfaces the ticket workflow calls; implemented in `psa-activities`.
//!
//! Each interface is a marker type naming the activity and its input and output, so the
//! workflow and the implementation agree on one definition without depending on each other.

use chrono::{DateTime, Utc};
use psa_domain::sla::SlaTracker;
use psa_domain::sla::run::{SlaContextRequest, SlaLimits, SlaStep, SlaTicketContext, SlaUpdate};
use serde::{Deserialize, Serialize};
use temporalio_common::ActivityDefinition;
use uuid::Uuid;

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

/// Starts a ticket's clock in one transaction: loads the ticket, the policy in force and what
/// earlier runs wrote, starts the clock from them ([`super::start::decide`]) and records the
/// start. With an unusable configuration it writes nothing and says why.
#[derive(Debug, Clone, Copy)]
pub struct StartSlaClock;

impl ActivityDefinition for StartSlaClock {
    type Input = SlaStartRequest;
    type Output = SlaStarted;
    fn name(&self) -> &str {
        "sla.start_clock"
    }
}

/// What [`StartSlaClock`] starts a clock from, besides the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaStartRequest {
    pub tenant_id: Uuid,
    pub ticket_id: Uuid,
    pub ticket_number: i64,
    /// The run starting the clock. Its steps are tagged with it, and a second attempt of the
    /// same start leaves them out of "what earlier runs wrote": it decides as the first did.
    pub run_id: String,
    /// The ticket as it was created, `(pauses_sla, is_closed)`, when its creation event is
    /// at hand.
    pub created: Option<(bool, bool)>,
    /// The run had been waiting for a usable configuration: the start says it recovered.
    pub recovered: bool,
    /// The workflow's clock at the start.
    pub now: DateTime<Utc>,
}

/// The clock [`StartSlaClock`] started and recorded, or why the configuration cannot be used
/// (then nothing was recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaStarted {
    pub limits: SlaLimits,
    pub clock: Result<SlaTracker, String>,
}
