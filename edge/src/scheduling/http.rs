//! `/v1/schedules/preview`: a series' occurrences, computed and not stored.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, typed};
use crate::web::json::Json;
use crate::web::openapi::scheduling_schemas::{SchedulePreviewRequest, SchedulePreviewResponse};
use axum::extract::State;
use psa_domain::recurrence::preview::{PreviewRequest, PreviewResponse};
use psa_store::scheduling::preview as svc;

/// The contract names the request's field at fault (`exdates`), not a path inside it
/// (`exdates[2]`): the path stays in the message.
fn top_level(e: ApiError) -> ApiError {
    match e {
        ApiError::Malformed(mut v) => {
            for f in &mut v.0 {
                if let Some(end) = f.field.find(['[', '.']) {
                    f.message = format!("{}: {}", f.field, f.message);
                    f.field.truncate(end);
                }
            }
            ApiError::Malformed(v)
        }
        other => other,
    }
}

/// The occurrences of a series (start, zone, duration, optional RRULE and exceptions) whose
/// start lies in `[from, to)`, ascending, at most `limit`. Nothing is stored.
#[utoipa::path(post, path = "/v1/schedules/preview", operation_id = "previewSchedule", tag = "scheduling",
    request_body = SchedulePreviewRequest,
    responses((status = 200, description = "The occurrences in the window.", body = SchedulePreviewResponse),
        (status = 400, description = "A field is missing, mistyped or out of range; `errors` name each one.", body = Problem)))]
pub async fn preview(
    State(_s): State<AppState>,
    Caller(p): Caller,
    body: Result<ApiJson<serde_json::Value>, ApiError>,
) -> Result<Json<PreviewResponse>, ApiError> {
    let ApiJson(body) = body.map_err(|e| top_level(e.malformed()))?;
    let request: PreviewRequest = typed(body).map_err(top_level)?;
    Ok(Json(svc::preview(&p, request).await?))
}
