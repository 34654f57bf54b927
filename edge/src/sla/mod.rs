//! SLA over HTTP and gRPC: the what-if preview, a ticket's live clock (`live`), schedules,
//! policies and the compliance report; and the runner that re-times open tickets after a
//! configuration change (`retime`). The operations are `psa_store::sla`.

pub mod config_http;
pub mod grpc;
pub mod http;
pub mod live;
pub mod retime;
