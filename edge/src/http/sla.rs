//! `/v1/sla/…`: SLA what-if previews.

use super::extract::{ApiJson, typed};
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::service::sla as svc;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use psa_domain::sla::{PreviewRequest, PreviewResponse};

/// Due instants, threshold instants and (with `at`) elapsed and remaining business minutes of
/// both phases, for a schedule given inline or by `schedule_id`. Nothing is stored.
#[utoipa::path(post, path = "/v1/sla/preview",
    request_body(content = Object, description = "schedule or schedule_id, started_at, targets {response_minutes, resolution_minutes}, optional thresholds, pauses [{from, to}], at"),
    responses((status = 200, body = Object), (status = 400, body = Problem)))]
pub async fn preview(
    State(s): State<AppState>,
    p: Principal,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let request: PreviewRequest = typed(body)?;
    Ok(Json(svc::preview(&s.pool, &p, &request).await?))
}
