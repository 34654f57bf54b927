//! Scheduling over HTTP and gRPC: the dispatch calendar's entries and occurrences, and the
//! schedule preview. The operations are `psa_store::scheduling`.

pub mod entries;
pub mod grpc;
pub mod http;
