//! Billing over HTTP and gRPC; the operations are `psa_store::billing`.

pub mod contracts;
pub mod credits;
pub mod grpc;
pub mod http;
pub mod invoices;
pub mod invoicing_grpc;
pub mod payments;
pub mod run_workflow;
pub mod runs;
pub mod services;
pub mod tax;
pub mod time;
pub mod usage;
