//! Billing: the invoice preview (the pure engine in `psa_domain::billing`, run for a caller
//! allowed to bill), and the billing data it will read as it arrives.

pub mod preview;
