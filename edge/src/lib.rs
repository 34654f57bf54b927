//! The edge: the API the web frontend and designers call.
//!
//! It is thin on purpose (DESIGN.md §1): authenticate, then hand each request to the one
//! `psa-store` operation that authorises, validates, writes domain and outbox rows in one
//! Postgres transaction, and answers. Temporal and Redis are reached only by the outbox relay,
//! after commit, never inside a request's transaction.
//!
//! Map: one folder per feature (`tickets/`, `reference/`, `clients/`, `notifications/`,
//! `sla/`) holds that feature's HTTP and gRPC adapters; `web/` holds the machinery they share
//! (authentication, the one error mapping, extractors, limits, the router and the OpenAPI
//! document); `relay/` delivers the outbox to Redis and Temporal.

pub mod automations;
pub mod billing;
pub mod clients;
pub mod config;
pub mod metrics;
pub mod notifications;
pub mod reference;
pub mod relay;
pub mod scheduling;
pub mod serve;
pub mod sla;
pub mod state;
pub mod tickets;
pub mod web;

pub use config::EdgeConfig;
pub use state::AppState;
