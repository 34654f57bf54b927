//! `/v1/services`: the service catalogue.

use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::services::{self as svc, Service, ServiceInput, ServicePatch};
use psa_store::pagination::{Page, PageRequest};
use uuid::Uuid;

#[utoipa::path(post, path = "/v1/services", operation_id = "createService", tag = "billing", request_body = ServiceInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 409, description = "Another service of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 201, body = Service), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ServiceInput>,
) -> Result<(StatusCode, Json<Service>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/services", operation_id = "listServices", tag = "billing", params(ListQuery), responses((status = 200, body = Page<Service>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Service>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(svc::list(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/services/{id}", operation_id = "getService", tag = "billing", responses((status = 200, body = Service), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/services/{id}", operation_id = "updateService", tag = "billing", request_body = ServicePatch, responses((status = 409, description = "Another service of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 200, body = Service), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ServicePatch>,
) -> Result<Json<Service>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, id, patch).await?))
}
