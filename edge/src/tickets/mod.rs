//! Tickets and their comments over HTTP and gRPC; the operations are `psa_store::tickets`.

pub mod grpc;
pub mod http;
