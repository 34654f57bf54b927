//! Activity interfaces of the reminder run; implemented in `psa-activities` over
//! `psa_store::scheduling::reminders`.

use psa_domain::scheduling::reminders::{PlanRequest, ReminderPlan, SendOutcome, SendRequest};
use temporalio_common::ActivityDefinition;

/// Reads the entry's master as it stands (`None` once deleted).
#[derive(Debug, Clone, Copy)]
pub struct LoadReminderPlan;

impl ActivityDefinition for LoadReminderPlan {
    type Input = PlanRequest;
    type Output = Option<ReminderPlan>;
    fn name(&self) -> &str {
        "scheduling.load_reminder_plan"
    }
}

/// Records one occurrence's reminder and raises its `schedule.reminder` event, once, if the
/// stored entry still has that occurrence.
#[derive(Debug, Clone, Copy)]
pub struct SendReminder;

impl ActivityDefinition for SendReminder {
    type Input = SendRequest;
    type Output = SendOutcome;
    fn name(&self) -> &str {
        "scheduling.send_reminder"
    }
}
