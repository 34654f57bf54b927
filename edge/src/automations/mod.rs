//! Automations over HTTP and gRPC: drafts, published versions, the switch, the action
//! catalogue and the dry run, the runs (started by hand, listed, read), and the tenant's
//! automation settings. The operations are `psa_store::automations`; the rules
//! `psa_domain::automations`.

mod definition_pb;
pub mod grpc;
pub mod http;
mod run_control;
mod runs_grpc;
pub mod runs_http;
pub mod settings_http;
