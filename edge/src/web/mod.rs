//! What every feature's adapters share: who is calling (`auth`), the one mapping of failures
//! to problem+json and gRPC statuses (`error`), extractors and request guards, JSON answers
//! (`json`: instants to the millisecond), rate limits, the HTTP router and gRPC services, probes
//! and the OpenAPI document.

pub mod auth;
pub mod error;
pub mod extract;
pub mod grpc;
pub mod grpc_convert;
pub mod health;
pub mod json;
pub mod json_guard;
pub mod openapi;
pub mod rate_limit;
pub mod router;
