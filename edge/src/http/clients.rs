//! `/v1/clients` and `/v1/contacts`.

use super::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use super::reference::ListQuery;
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::pagination::{Page, PageRequest};
use crate::service::clients::{
    self, Client, ClientInput, ClientPatch, Contact, ContactInput, ContactPatch,
};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    pub client_id: Option<Uuid>,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/clients", request_body = ClientInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer on retry")),
    responses((status = 201, body = Client), (status = 422, body = Problem)))]
pub async fn create_client(
    State(s): State<AppState>,
    p: Principal,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ClientInput>,
) -> Result<(StatusCode, Json<Client>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(clients::create_client(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/clients", params(ListQuery), responses((status = 200, body = Page<Client>)))]
pub async fn list_clients(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Client>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(clients::list_clients(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/clients/{id}", responses((status = 200, body = Client), (status = 404, body = Problem)))]
pub async fn get_client(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Client>, ApiError> {
    Ok(Json(clients::get_client(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/clients/{id}", request_body = ClientPatch, responses((status = 200, body = Client), (status = 404, body = Problem)))]
pub async fn update_client(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ClientPatch>,
) -> Result<Json<Client>, ApiError> {
    Ok(Json(clients::update_client(&s.pool, &p, id, patch).await?))
}

#[utoipa::path(post, path = "/v1/contacts", request_body = ContactInput,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays the first answer on retry")),
    responses((status = 201, body = Contact), (status = 422, body = Problem)))]
pub async fn create_contact(
    State(s): State<AppState>,
    p: Principal,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(clients::create_contact(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/contacts", params(ContactQuery), responses((status = 200, body = Page<Contact>)))]
pub async fn list_contacts(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> Result<Json<Page<Contact>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(
        clients::list_contacts(&s.pool, &p, q.client_id, page).await?,
    ))
}

#[utoipa::path(get, path = "/v1/contacts/{id}", responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub async fn get_contact(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(clients::get_contact(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/contacts/{id}", request_body = ContactPatch, responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub async fn update_contact(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(clients::update_contact(&s.pool, &p, id, patch).await?))
}
