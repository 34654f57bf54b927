//! Activity implementations: the I/O workflows ask for, as thin adapters over `psa-store`
//! (Postgres) and the SMTP sender.
//!
//! Each activity is idempotent, because Temporal retries it after a lost reply: writes are keyed
//! by a business key the workflow supplies.

pub mod email_sender;
pub mod invoice_run;
pub mod notification_delivery;
pub mod register;
pub mod schedule_reminders;
pub mod sla_clock;

pub use email_sender::EmailSender;
pub use invoice_run::InvoiceRunActivities;
pub use notification_delivery::NotificationActivities;
pub use schedule_reminders::ReminderActivities;
pub use sla_clock::SlaActivities;
