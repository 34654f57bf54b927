//! The event bus consumer side: Redis stream consumer groups on `psa:events` (DESIGN.md §5).
//!
//! Each subscriber is a [`Handler`] with its own consumer group, so subscribers progress
//! independently. Delivery is at least once; what makes it safe:
//! - success is recorded per (event, handler), so a redelivered event never re-runs a handler
//!   that already succeeded;
//! - a handler that keeps failing stops being retried after `max_deliveries` attempts: the entry
//!   moves to `psa:events:dead-letter` with the original payload, its source and the last error,
//!   where an operator inspects it and replays it ([`dead_letters`]);
//! - an event that does not parse or validate is dead-lettered at once with the reason, never
//!   crashing a consumer;
//! - entries left pending by a consumer that died are claimed by a live one (`XAUTOCLAIM`);
//! - a lost Redis connection is re-established with backoff.

mod config;
mod consumer;
pub mod dead_letters;
mod handler;
mod keys;
mod metrics;

pub use config::BusConfig;
pub use consumer::{Consumer, ProcessOutcome};
pub use handler::{Handler, HandlerError};
