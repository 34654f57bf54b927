//! `/v1/sla/…`: SLA what-if previews.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, typed};
use crate::web::json::Json;
use crate::web::openapi::schemas::{SlaPreviewRequest, SlaPreviewResponse, TicketSla};
use axum::extract::State;
use psa_domain::sla::{PreviewRequest, PreviewResponse};
use psa_store::sla as svc;
use psa_store::sla::compliance::{ComplianceQuery, ComplianceReport};

/// Due instants, threshold instants and (with `at`) elapsed and remaining business minutes of
/// both phases, for a schedule given inline or by `schedule_id`. Nothing is stored.
#[utoipa::path(post, path = "/v1/sla/preview", operation_id = "previewSla", tag = "sla",
    request_body = SlaPreviewRequest,
    responses((status = 200, description = "Due and threshold instants of both phases.", body = SlaPreviewResponse),
        (status = 400, description = "A field is missing, mistyped or out of range; `errors` name each one.", body = Problem)))]
pub async fn preview(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let request: PreviewRequest = typed(body)?;
    Ok(Json(svc::preview(&s.pool, &p, &request).await?))
}

/// The ticket's SLA: due instants, elapsed and remaining business minutes per phase, pause,
/// escalation level and state. Live from the running clock; from the last recorded step once
/// the ticket's run has ended.
#[utoipa::path(get, path = "/v1/tickets/{id}/sla", operation_id = "getTicketSla", tag = "sla",
    responses((status = 200, description = "The ticket's SLA.", body = TicketSla)))]
pub async fn ticket_sla(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<Json<crate::sla::live::TicketSla>, ApiError> {
    Ok(Json(crate::sla::live::ticket_sla(&s, &p, id).await?))
}

/// Every step the ticket's SLA clock took, oldest first.
#[utoipa::path(get, path = "/v1/tickets/{id}/sla/audit", operation_id = "listTicketSlaAudit", tag = "sla",
    responses((status = 200, description = "The audit log, oldest first.", body = Vec<svc::AuditStep>)))]
pub async fn ticket_audit(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<uuid::Uuid>,
) -> Result<Json<Vec<svc::AuditStep>>, ApiError> {
    Ok(Json(svc::ticket_audit(&s.pool, &p, id).await?))
}

/// SLA compliance over a period: response and resolution rates, average business minutes,
/// breach counts, active and at-risk tickets, overall and per group, with a daily trend.
#[utoipa::path(get, path = "/v1/sla/compliance", operation_id = "getSlaCompliance", tag = "sla", params(ComplianceQuery),
    responses((status = 200, description = "The report.", body = ComplianceReport)))]
pub async fn compliance(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ComplianceQuery>,
) -> Result<Json<ComplianceReport>, ApiError> {
    Ok(Json(
        psa_store::sla::compliance::report(&s.pool, &p, q).await?,
    ))
}
