//! The end-to-end suite: one test binary (so CI links once, not once per file), one module per
//! area. Every test runs against the real Postgres, Redis, Temporal dev server and SMTP sink
//! that `scripts/test` starts; the harness is `psa_tests` (tests/src/lib.rs).

mod activity_store;
mod api_consistency;
mod automation_runs;
mod automations;
mod automations_grpc;
mod bad_input;
mod billing_data;
mod billing_email;
mod billing_grpc;
mod billing_preview_stored;
mod constraints;
mod coverage_fixtures;
mod event_bus;
mod invoice_preview;
mod invoice_runs;
mod invoices;
mod invoicing_grpc;
mod mail;
mod notifications;
mod openapi;
mod outbox_relay;
mod probes;
mod relay_batches;
mod roles;
mod schedule_entries;
mod schedule_preview;
mod schedule_reminders;
mod scheduling_grpc;
mod sla_config;
mod sla_grpc;
mod sla_preview;
mod sla_robustness;
mod sla_workflow;
mod templates;
mod tenant_isolation;
mod ticket_numbers;
mod ticket_workflow;
mod timesheets;
