//! Activity implementations: the I/O workflows ask for, as thin adapters over `psa-store`
//! (Postgres), the SMTP sender, and the automation actions.
//!
//! Each activity is idempotent, because Temporal retries it after a lost reply: writes are keyed
//! by a business key the workflow supplies.

pub mod automation_actions;
pub mod automation_run;
pub mod email_sender;
pub mod invoice_run;
pub mod notification_delivery;
pub mod register;
pub mod schedule_reminders;
pub mod sla_clock;

pub use automation_run::AutomationActivities;
pub use email_sender::EmailSender;
pub use invoice_run::InvoiceRunActivities;
pub use notification_delivery::NotificationActivities;
pub use schedule_reminders::ReminderActivities;
pub use sla_clock::SlaActivities;
