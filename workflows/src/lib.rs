//! Temporal workflow definitions and the typed activity interfaces they call.
//!
//! Workflows decide; activities do I/O. Code here must be deterministic: time comes from the
//! workflow clock, never the wall clock, and nothing here touches the network or a database.
//! The activity *interfaces* live here (with `#[activity_definitions]`) so that the
//! `activities` crate implements them and workflows call them without depending on it.

pub mod automation_run;
pub mod client;
pub mod invoice_run;
pub mod notify_email;
pub mod register;
pub mod schedule_reminders;
pub mod search_attributes;
mod store_calls;
pub mod ticket_sla;

pub use psa_domain::ids::DEFAULT_TASK_QUEUE;
