//! The one place activities are registered on a worker's task queues: the worker and the test
//! harness's in-process workers call these, so an activity is added here once.

use crate::{
    AutomationActivities, EmailSender, InvoiceRunActivities, NotificationActivities,
    ReminderActivities, SlaActivities,
};
use psa_domain::sla::run::SlaLimits;
use psa_store::PgPool;
use temporalio_sdk::WorkerOptions;

/// Activities of the workflow task queue (`psa`): the SLA clock's and the e-mail workflow's
/// Postgres work, the invoice run's, the schedule reminders' and the automation runs'.
pub fn on_workflow_queue(options: &mut WorkerOptions, pool: PgPool, sla_limits: SlaLimits) {
    options
        .register_activities(SlaActivities::new(pool.clone(), sla_limits))
        .register_activities(NotificationActivities::new(pool.clone()))
        .register_activities(InvoiceRunActivities::new(pool.clone()))
        .register_activities(ReminderActivities::new(pool.clone()))
        .register_activities(AutomationActivities::new(pool));
}

/// Activities of the e-mail queue (`psa-email`): SMTP sends, paced at that queue.
pub fn on_email_queue(options: &mut WorkerOptions, sender: EmailSender) {
    options.register_activities(sender);
}
