//! gRPC API (`psa.v1`): the services of each feature folder plus server reflection, and the
//! authentication of a call. Handlers translate to `psa-store` and back; the error mapping is
//! the one in `error.rs`.

use crate::state::AppState;
use crate::web::auth::{self, Principal};
use crate::web::error::ApiError;
use crate::web::extract::LARGE_BODY_LIMIT;
use psa_protos::v1::automation_service_server::AutomationServiceServer;
use psa_protos::v1::billing_service_server::BillingServiceServer;
use psa_protos::v1::invoicing_service_server::InvoicingServiceServer;
use psa_protos::v1::scheduling_service_server::SchedulingServiceServer;
use psa_protos::v1::sla_service_server::SlaServiceServer;
use psa_protos::v1::ticket_service_server::TicketServiceServer;

use crate::automations::grpc::AutomationApi;
use crate::billing::grpc::BillingApi;
use crate::billing::invoicing_grpc::InvoicingApi;
use crate::scheduling::grpc::SchedulingApi;
use crate::sla::grpc::SlaApi;
use crate::tickets::grpc::TicketApi;

/// The gRPC router: ticket, SLA, billing, invoicing, scheduling and automation services plus
/// reflection, both
/// `grpc.reflection.v1` and the `v1alpha` that many tools (grpcurl before 1.9, Postman, older
/// grpc_cli) still ask for.
pub fn routes(state: AppState) -> Result<tonic::service::Routes, tonic_reflection::server::Error> {
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(psa_protos::v1::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1()?;
    let reflection_v1alpha = reflection().build_v1alpha()?;
    let limit = state.config.body_limit;
    let tickets =
        TicketServiceServer::new(TicketApi::new(state.clone())).max_decoding_message_size(limit);
    let sla = SlaServiceServer::new(SlaApi::new(state.clone())).max_decoding_message_size(limit);
    let invoicing = InvoicingServiceServer::new(InvoicingApi::new(state.clone()))
        .max_decoding_message_size(limit);
    let scheduling = SchedulingServiceServer::new(SchedulingApi::new(state.clone()))
        .max_decoding_message_size(limit);
    let automations = AutomationServiceServer::new(AutomationApi::new(state.clone()))
        .max_decoding_message_size(limit);
    // Invoice previews carry thousands of time entries, as over HTTP (`LARGE_BODY_LIMIT`).
    let billing = BillingServiceServer::new(BillingApi::new(state))
        .max_decoding_message_size(LARGE_BODY_LIMIT.max(limit));
    Ok(tonic::service::Routes::new(tickets)
        .add_service(sla)
        .add_service(billing)
        .add_service(invoicing)
        .add_service(scheduling)
        .add_service(automations)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha))
}

/// Authenticates a gRPC call from its `authorization` or `x-api-key` metadata.
pub async fn principal<T>(
    state: &AppState,
    req: &tonic::Request<T>,
) -> Result<Principal, ApiError> {
    let md = req.metadata();
    let header = |name: &str| md.get(name).and_then(|v| v.to_str().ok());
    auth::authenticate(
        state,
        auth::key_from_headers(header("authorization"), header("x-api-key")),
    )
    .await
}
