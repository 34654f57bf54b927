//! `/v1/contracts`, their lines, and `/v1/client-contracts` (which client is on which).

use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::assignments::{self, Assignment, AssignmentInput, AssignmentPatch};
use psa_store::billing::contracts::{
    self as svc, Contract, ContractInput, ContractLine, ContractLineInput, ContractLinePatch,
    ContractPatch,
};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// The query of the lists a client narrows (client contracts, credits).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientQuery {
    /// Only this client's records.
    pub client_id: Option<Uuid>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/contracts", operation_id = "createContract", tag = "billing", request_body = ContractInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 409, description = "Another contract of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 201, body = Contract), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ContractInput>,
) -> Result<(StatusCode, Json<Contract>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/contracts", operation_id = "listContracts", tag = "billing", params(ListQuery), responses((status = 200, body = Page<Contract>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Contract>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(svc::list(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/contracts/{id}", operation_id = "getContract", tag = "billing", responses((status = 200, body = Contract), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Contract>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/contracts/{id}", operation_id = "updateContract", tag = "billing", request_body = ContractPatch, responses((status = 409, description = "Another contract of the tenant has this name (names are unique, ignoring case).", body = Problem), (status = 200, body = Contract), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ContractPatch>,
) -> Result<Json<Contract>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, id, patch).await?))
}

#[utoipa::path(post, path = "/v1/contracts/{id}/lines", operation_id = "createContractLine", tag = "billing", request_body = ContractLineInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = ContractLine), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn create_line(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<ContractLineInput>,
) -> Result<(StatusCode, Json<ContractLine>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::create_line(&s.pool, &p, key.as_deref(), id, input).await?),
    ))
}

/// The contract's lines, in creation order (each says its billing `position`).
#[utoipa::path(get, path = "/v1/contracts/{id}/lines", operation_id = "listContractLines", tag = "billing", params(ListQuery), responses((status = 200, body = Page<ContractLine>), (status = 404, body = Problem)))]
pub async fn list_lines(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<ContractLine>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(svc::list_lines(&s.pool, &p, id, page).await?))
}

#[utoipa::path(get, path = "/v1/contract-lines/{id}", operation_id = "getContractLine", tag = "billing", responses((status = 200, body = ContractLine), (status = 404, body = Problem)))]
pub async fn get_line(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ContractLine>, ApiError> {
    Ok(Json(svc::get_line(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/contract-lines/{id}", operation_id = "updateContractLine", tag = "billing", request_body = ContractLinePatch, responses((status = 200, body = ContractLine), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_line(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ContractLinePatch>,
) -> Result<Json<ContractLine>, ApiError> {
    Ok(Json(svc::update_line(&s.pool, &p, id, patch).await?))
}

#[utoipa::path(post, path = "/v1/client-contracts", operation_id = "createClientContract", tag = "billing", request_body = AssignmentInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Assignment), (status = 422, body = Problem)))]
pub async fn create_assignment(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<AssignmentInput>,
) -> Result<(StatusCode, Json<Assignment>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(assignments::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/client-contracts", operation_id = "listClientContracts", tag = "billing", params(ClientQuery), responses((status = 200, body = Page<Assignment>)))]
pub async fn list_assignments(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ClientQuery>,
) -> Result<Json<Page<Assignment>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(
        assignments::list(&s.pool, &p, q.client_id, page).await?,
    ))
}

#[utoipa::path(get, path = "/v1/client-contracts/{id}", operation_id = "getClientContract", tag = "billing", responses((status = 200, body = Assignment), (status = 404, body = Problem)))]
pub async fn get_assignment(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(assignments::get(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/client-contracts/{id}", operation_id = "updateClientContract", tag = "billing", request_body = AssignmentPatch, responses((status = 200, body = Assignment), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update_assignment(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<AssignmentPatch>,
) -> Result<Json<Assignment>, ApiError> {
    Ok(Json(assignments::update(&s.pool, &p, id, patch).await?))
}
