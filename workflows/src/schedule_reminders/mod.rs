//! The workflow `schedule:{tenant}:{series}`: reminds each assignee of a schedule entry once
//! per occurrence, a set number of minutes before it, on durable timers. It follows every
//! edit and deletion of the entry (the outbox signals each one), ends when the series does or
//! reminders are switched off, and continues as new so a series that repeats forever keeps a
//! bounded history. A later change starts a new run.

pub mod activities;
mod workflow;

pub use activities::{LoadReminderPlan, SendReminder};
pub use workflow::ScheduleReminderWorkflow;

#[cfg(test)]
mod tests {
    use super::*;
    use psa_domain::ids::schedule_run;
    use temporalio_common::{QueryDefinition, SignalDefinition, WorkflowDefinition};

    /// The edge's relay reaches the run by these names without this crate: they must agree.
    #[test]
    fn names_match_what_the_relay_uses() {
        assert_eq!(
            ScheduleReminderWorkflow::run.name(),
            schedule_run::WORKFLOW_TYPE
        );
        assert_eq!(
            ScheduleReminderWorkflow::entry_changed.name(),
            schedule_run::CHANGED_SIGNAL
        );
        assert_eq!(
            ScheduleReminderWorkflow::query_status.name(),
            schedule_run::STATUS_QUERY
        );
    }
}
