//! Activity interfaces of an automation run; implemented in `psa-activities` over
//! `psa_store::automations::runs` and the action catalogue.

use chrono::{DateTime, Utc};
use psa_domain::automations::run::{
    ActionRequest, ActionResult, BusinessRequest, RunRecord, StoredVersion, VersionRequest,
    WaitRequest,
};
use temporalio_common::ActivityDefinition;

/// Reads a stored version (`None` when it is gone).
#[derive(Debug, Clone, Copy)]
pub struct LoadVersion;

impl ActivityDefinition for LoadVersion {
    type Input = VersionRequest;
    type Output = Option<StoredVersion>;
    fn name(&self) -> &str {
        "automations.load_version"
    }
}

/// Does one action as the automation's owner, once per idempotency key; writes the run's
/// record first.
#[derive(Debug, Clone, Copy)]
pub struct RunAction;

impl ActivityDefinition for RunAction {
    type Input = ActionRequest;
    type Output = ActionResult;
    fn name(&self) -> &str {
        "automations.run_action"
    }
}

/// Writes the run's read model: its row and the trace entries changed since the last record.
#[derive(Debug, Clone, Copy)]
pub struct RecordRun;

impl ActivityDefinition for RecordRun {
    type Input = RunRecord;
    type Output = ();
    fn name(&self) -> &str {
        "automations.record_run"
    }
}

/// Registers a run's wait for events of a type (or ends it), with the run's record.
#[derive(Debug, Clone, Copy)]
pub struct SetWait;

impl ActivityDefinition for SetWait {
    type Input = WaitRequest;
    type Output = ();
    fn name(&self) -> &str {
        "automations.set_wait"
    }
}

/// Counts business time on a stored SLA schedule, or says why it cannot.
#[derive(Debug, Clone, Copy)]
pub struct BusinessTime;

impl ActivityDefinition for BusinessTime {
    type Input = BusinessRequest;
    type Output = Result<DateTime<Utc>, String>;
    fn name(&self) -> &str {
        "automations.business_time"
    }
}
