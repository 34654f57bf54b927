//! Pure PSA domain logic.
//!
//! Everything here is deterministic and free of I/O so that workflows (which must replay
//! identically) and the edge (which must validate before writing) can share it, and so that it
//! can be tested exhaustively without any running service.

pub mod auth;
pub mod automations;
pub mod billing;
pub mod calendar;
pub mod commands;
pub mod email_job;
pub mod events;
pub mod ids;
pub mod money;
pub mod notifications;
pub mod recurrence;
pub mod scheduling;
pub mod search_attributes;
pub mod settings;
pub mod sla;
pub mod template_limits;
pub mod ticket;
pub mod validation;
