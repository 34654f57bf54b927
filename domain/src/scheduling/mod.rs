//! Scheduling beyond the calendar arithmetic of [`crate::recurrence`]: what the reminder
//! workflow of a schedule entry decides, and the messages it exchanges.

pub mod reminders;
