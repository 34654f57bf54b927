//! Activity implementations: the I/O workflows ask for.
//!
//! Each activity is idempotent, because Temporal retries it after a lost reply: writes are keyed
//! by a business key the workflow supplies.

pub mod db;
pub mod email_sender;
pub mod notification_store;
pub mod sla_store;

pub use email_sender::EmailSender;
pub use notification_store::NotificationStore;
pub use sla_store::SlaStore;
