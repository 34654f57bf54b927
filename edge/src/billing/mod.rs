//! Billing over HTTP: the invoice preview. The operations are `psa_store::billing`.

pub mod http;
