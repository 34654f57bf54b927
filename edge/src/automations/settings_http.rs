//! `/v1/automation-settings`: what the tenant's automations may do beyond the defaults (the
//! private networks their webhooks may reach).

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::ApiJson;
use crate::web::json::Json;
use axum::extract::State;
use psa_store::automations::settings::{self as svc, AutomationSettings, AutomationSettingsPatch};

#[utoipa::path(get, path = "/v1/automation-settings", operation_id = "getAutomationSettings", tag = "automations", responses((status = 200, body = AutomationSettings)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<AutomationSettings>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p).await?))
}

/// Replaces the networks `http.request` may reach although they are not public. Applies from
/// the next request of every run, including runs already waiting.
#[utoipa::path(patch, path = "/v1/automation-settings", operation_id = "updateAutomationSettings", tag = "automations", request_body = AutomationSettingsPatch,
    responses((status = 200, body = AutomationSettings), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(patch): ApiJson<AutomationSettingsPatch>,
) -> Result<Json<AutomationSettings>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, patch).await?))
}
