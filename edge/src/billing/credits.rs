//! `/v1/credits`: credits clients hold.

use super::contracts::ClientQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::credits::{self as svc, Credit, CreditInput, CreditPatch};
use psa_store::pagination::{Page, PageRequest};
use uuid::Uuid;

#[utoipa::path(post, path = "/v1/credits", operation_id = "createCredit", tag = "billing", request_body = CreditInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Credit), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<CreditInput>,
) -> Result<(StatusCode, Json<Credit>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/credits", operation_id = "listCredits", tag = "billing", params(ClientQuery), responses((status = 200, body = Page<Credit>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ClientQuery>,
) -> Result<Json<Page<Credit>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(svc::list(&s.pool, &p, q.client_id, page).await?))
}

#[utoipa::path(get, path = "/v1/credits/{id}", operation_id = "getCredit", tag = "billing", responses((status = 200, body = Credit), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Credit>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/credits/{id}", operation_id = "updateCredit", tag = "billing", request_body = CreditPatch, responses((status = 200, body = Credit), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<CreditPatch>,
) -> Result<Json<Credit>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, id, patch).await?))
}
