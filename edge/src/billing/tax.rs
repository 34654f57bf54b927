//! `/v1/tax-regions` and `/v1/clients/{id}/tax-settings`: how clients are taxed.

use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::tax::{
    self as svc, ClientTaxSettings, ClientTaxSettingsInput, TaxRegion, TaxRegionInput,
    TaxRegionPatch,
};
use psa_store::pagination::{Page, PageRequest};
use uuid::Uuid;

#[utoipa::path(post, path = "/v1/tax-regions", operation_id = "createTaxRegion", tag = "billing", request_body = TaxRegionInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 409, description = "Another tax region of the tenant has this name.", body = Problem), (status = 201, body = TaxRegion), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<TaxRegionInput>,
) -> Result<(StatusCode, Json<TaxRegion>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/tax-regions", operation_id = "listTaxRegions", tag = "billing", params(ListQuery), responses((status = 200, body = Page<TaxRegion>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<TaxRegion>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(svc::list(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/tax-regions/{id}", operation_id = "getTaxRegion", tag = "billing", responses((status = 200, body = TaxRegion), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<TaxRegion>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/tax-regions/{id}", operation_id = "updateTaxRegion", tag = "billing", request_body = TaxRegionPatch, responses((status = 409, description = "Another tax region of the tenant has this name.", body = Problem), (status = 200, body = TaxRegion), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<TaxRegionPatch>,
) -> Result<Json<TaxRegion>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, id, patch).await?))
}

#[utoipa::path(get, path = "/v1/clients/{id}/tax-settings", operation_id = "getClientTaxSettings", tag = "billing", responses((status = 200, body = ClientTaxSettings), (status = 404, body = Problem)))]
pub async fn get_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ClientTaxSettings>, ApiError> {
    Ok(Json(svc::get_settings(&s.pool, &p, id).await?))
}

/// Saves the client's tax settings whole: a field left out takes its default.
#[utoipa::path(put, path = "/v1/clients/{id}/tax-settings", operation_id = "putClientTaxSettings", tag = "billing", request_body = ClientTaxSettingsInput, responses((status = 200, body = ClientTaxSettings), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn put_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ClientTaxSettingsInput>,
) -> Result<Json<ClientTaxSettings>, ApiError> {
    Ok(Json(svc::put_settings(&s.pool, &p, id, input).await?))
}
