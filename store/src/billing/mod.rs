//! Billing: the data invoices are made from (the service catalogue, contracts and which
//! client is on which, tax, credits, metered usage, approved time) and the invoice previews
//! that run the pure engine in `psa_domain::billing` over it.
//!
//! Reads and writes need `ManageBilling` (admin, billing); time entries and timesheets can
//! also be read with `ReadTime` (technicians too), and invoices with `ReadInvoices` (a
//! client-portal key: its own client's finalized ones).

pub mod assignments;
pub mod client_preview;
pub mod contracts;
pub mod credits;
mod fields;
pub mod invoices;
pub mod ledger;
pub mod payments;
pub mod preview;
pub mod run_batch;
pub mod runs;
pub mod services;
pub mod tax;
pub mod time_entries;
pub mod timesheets;
pub mod upkeep;
pub mod usage;
