//! The edge: the API the web frontend and designers call.
//!
//! It is thin on purpose (DESIGN.md §1): authenticate, authorise, validate, write domain rows
//! and outbox rows in one Postgres transaction, answer. Temporal and Redis are reached only by
//! the outbox relay, after commit, never inside a request's transaction.
//!
//! Map: `http/` and `grpc/` adapt the two wire protocols to `service/`, which holds each
//! operation once; `error.rs` maps every failure to problem+json or a gRPC status in one place.

pub mod auth;
pub mod compute;
pub mod config;
pub mod db;
pub mod error;
pub mod grpc;
pub mod http;
pub mod idempotency;
pub mod metrics;
pub mod migrate;
pub mod outbox;
pub mod pagination;
pub mod rate_limit;
pub mod relay;
pub mod seed;
pub mod serve;
pub mod service;
pub mod sla_retime;
pub mod state;

pub use config::EdgeConfig;
pub use state::AppState;
