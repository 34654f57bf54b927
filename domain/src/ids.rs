//! Business-key identifiers, and the names under which Temporal knows our workflows.
//!
//! Workflow IDs are business keys (DESIGN.md §4): the same ticket always maps to the same
//! workflow ID, so a retried start can never create a second run. Every workflow ID the system
//! uses is made here, and nowhere else.

use uuid::Uuid;

/// Workflow ID of a ticket's SLA workflow: `sla:{tenant}:{ticket}`.
pub fn sla_workflow_id(tenant_id: Uuid, ticket_id: Uuid) -> String {
    format!("sla:{tenant_id}:{ticket_id}")
}

/// Workflow ID of the e-mail run for one event: `notify:{tenant}:{event}`.
pub fn notify_workflow_id(tenant_id: Uuid, event_id: Uuid) -> String {
    format!("notify:{tenant_id}:{event_id}")
}

/// Workflow ID of a tenant's invoice run for a period (`2026-11` or `2026-11-30`):
/// `invoice-run:{tenant}:{period}`.
pub fn invoice_run_workflow_id(tenant_id: Uuid, period: &str) -> String {
    format!("invoice-run:{tenant_id}:{period}")
}

/// The Temporal Schedule that starts a tenant's invoice run every day: `invoice-runs:{tenant}`.
pub fn invoice_run_schedule_id(tenant_id: Uuid) -> String {
    format!("invoice-runs:{tenant_id}")
}

/// The Temporal Schedule of a tenant's daily billing upkeep: `billing-upkeep:{tenant}`.
pub fn billing_upkeep_schedule_id(tenant_id: Uuid) -> String {
    format!("billing-upkeep:{tenant_id}")
}

/// Workflow ID of a schedule entry's reminder run: `schedule:{tenant}:{series}`, the series
/// being the stored entry (the master of its occurrences).
pub fn schedule_workflow_id(tenant_id: Uuid, entry_id: Uuid) -> String {
    format!("schedule:{tenant_id}:{entry_id}")
}

/// The task queue for workflows and most activities unless `TEMPORAL_TASK_QUEUE` says otherwise
/// (DESIGN.md §4).
pub const DEFAULT_TASK_QUEUE: &str = "psa";

/// The type, signal and query names of a ticket's SLA run, for callers that reach it without
/// the workflow's code (the edge's relay and SLA view). The workflow's own definition is
/// checked against these by a test in `psa-workflows`.
pub mod sla_run {
    /// Workflow type.
    pub const WORKFLOW_TYPE: &str = "ticket_sla";
    /// Signal carrying one ticket event ([`crate::sla::run::TicketSignal`]).
    pub const EVENT_SIGNAL: &str = "ticket_event";
    /// Query answering [`crate::sla::run::TicketWorkflowStatus`].
    pub const STATUS_QUERY: &str = "status";
}

/// The type and query names of an invoice run, for callers that reach it without the
/// workflow's code (the edge). The workflow's own definition is checked against these.
pub mod invoice_run {
    /// Workflow type.
    pub const WORKFLOW_TYPE: &str = "invoice_run";
    /// Query answering [`crate::billing::run::RunProgress`].
    pub const PROGRESS_QUERY: &str = "progress";
}

/// The type, signal and query names of a schedule entry's reminder run, for callers that reach
/// it without the workflow's code (the edge's relay). Checked against the workflow by a test.
pub mod schedule_run {
    /// Workflow type.
    pub const WORKFLOW_TYPE: &str = "schedule_reminders";
    /// Signal saying the entry changed ([`crate::scheduling::reminders::EntryChanged`]).
    pub const CHANGED_SIGNAL: &str = "entry_changed";
    /// Query answering [`crate::scheduling::reminders::ReminderStatus`].
    pub const STATUS_QUERY: &str = "status";
}

/// Names and keys of automation runs, for the event subscriber that starts and signals them,
/// the edge that reads them, and the workflow itself (checked against these by a test).
pub mod automation_run {
    use uuid::Uuid;

    /// Workflow type.
    pub const WORKFLOW_TYPE: &str = "automation_run";
    /// Signal carrying an event to a run waiting for one (the event's envelope as JSON).
    pub const EVENT_SIGNAL: &str = "event";
    /// Signal ending the run before its next step (its input: who or why, in words).
    pub const CANCEL_SIGNAL: &str = "cancel";
    /// Query answering the run's position ([`crate::automations::run::RunView`]).
    pub const STATUS_QUERY: &str = "status";

    /// `automation:{tenant}:{automation}:{trigger event}`: one run per triggering event,
    /// whichever subscriber or retry starts it.
    pub fn workflow_id(tenant_id: Uuid, automation_id: Uuid, event_id: Uuid) -> String {
        format!("automation:{tenant_id}:{automation_id}:{event_id}")
    }

    /// The Temporal Schedule of an automation with a schedule trigger:
    /// `automation-schedule:{tenant}:{automation}`.
    pub fn schedule_id(tenant_id: Uuid, automation_id: Uuid) -> String {
        format!("automation-schedule:{tenant_id}:{automation_id}")
    }

    /// The workflow ID its Schedule starts runs under (the server appends the scheduled
    /// time): `automation:{tenant}:{automation}:scheduled`.
    pub fn scheduled_workflow_id(tenant_id: Uuid, automation_id: Uuid) -> String {
        format!("automation:{tenant_id}:{automation_id}:scheduled")
    }

    /// The run's ID in the API: a function of its workflow ID, so every writer of the run's
    /// row agrees on it without asking.
    pub fn run_id(workflow_id: &str) -> Uuid {
        Uuid::new_v5(&NAMESPACE, workflow_id.as_bytes())
    }

    /// The trigger event of a manual run asked for with an idempotency key: the same key
    /// asks for the same run.
    pub fn manual_event_id(automation_id: Uuid, key: &str) -> Uuid {
        Uuid::new_v5(&automation_id, key.as_bytes())
    }

    const NAMESPACE: Uuid = Uuid::from_u128(0x0193_c1d0_a070_7a11_8000_00a0_70ae_0001);
}

/// A new time-ordered identifier for rows and events (UUIDv7), so primary keys and cursors
/// sort by creation time.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_workflow_id_is_the_business_key() {
        let tenant = Uuid::parse_str("00000000-0000-0000-0000-00000000000a").unwrap();
        let ticket = Uuid::parse_str("00000000-0000-0000-0000-00000000000b").unwrap();
        assert_eq!(
            sla_workflow_id(tenant, ticket),
            "sla:00000000-0000-0000-0000-00000000000a:00000000-0000-0000-0000-00000000000b"
        );
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let a = new_id();
        let b = new_id();
        assert!(a < b);
    }
}
