//! `/v1/usage`: metered usage, recorded once per meter reading.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::usage::{self as svc, UsageInput, UsageRecord};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// Only this client's usage.
    pub client_id: Option<Uuid>,
    /// Only this service's usage.
    pub service_id: Option<Uuid>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

/// Records a meter reading. `external_id` makes it safe to retry: the same reading posted
/// again answers as the first post did (201, the stored record) and counts once; a different
/// reading under a used `external_id` is a 409.
#[utoipa::path(post, path = "/v1/usage", operation_id = "recordUsage", tag = "billing", request_body = UsageInput,
    responses((status = 201, description = "Recorded, now or by an earlier post of the same reading.", body = UsageRecord),
        (status = 409, description = "Another reading was recorded under this `external_id`.", body = Problem),
        (status = 422, body = Problem)))]
pub async fn record(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(input): ApiJson<UsageInput>,
) -> Result<(StatusCode, Json<UsageRecord>), ApiError> {
    let (record, _created) = svc::record(&s.pool, &p, input).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

#[utoipa::path(get, path = "/v1/usage", operation_id = "listUsage", tag = "billing", params(UsageQuery), responses((status = 200, body = Page<UsageRecord>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<UsageQuery>,
) -> Result<Json<Page<UsageRecord>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(
        svc::list(&s.pool, &p, q.client_id, q.service_id, page).await?,
    ))
}

#[utoipa::path(get, path = "/v1/usage/{id}", operation_id = "getUsage", tag = "billing", responses((status = 200, body = UsageRecord), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<UsageRecord>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}
