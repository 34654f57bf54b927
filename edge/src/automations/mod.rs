//! Automations over HTTP and gRPC: drafts, published versions, the switch, the action catalogue and
//! the dry run, and the runs (started by hand, listed, read). The operations are `psa_store::automations`; the rules
//! `psa_domain::automations`.

mod definition_pb;
pub mod grpc;
pub mod http;
pub mod runs_http;
