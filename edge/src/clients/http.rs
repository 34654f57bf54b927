//! `/v1/clients` and `/v1/contacts`.

use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::clients::{
    self, Client, ClientInput, ClientPatch, Contact, ContactInput, ContactPatch,
};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Only this client's contacts.
    pub client_id: Option<Uuid>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

#[utoipa::path(post, path = "/v1/clients", operation_id = "createClient", tag = "clients", request_body = ClientInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Client), (status = 422, body = Problem)))]
pub async fn create_client(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ClientInput>,
) -> Result<(StatusCode, Json<Client>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(clients::create_client(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/clients", operation_id = "listClients", tag = "clients", params(ListQuery), responses((status = 200, body = Page<Client>)))]
pub async fn list_clients(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Client>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(clients::list_clients(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/clients/{id}", operation_id = "getClient", tag = "clients", responses((status = 200, body = Client), (status = 404, body = Problem)))]
pub async fn get_client(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Client>, ApiError> {
    Ok(Json(clients::get_client(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/clients/{id}", operation_id = "updateClient", tag = "clients", request_body = ClientPatch, responses((status = 200, body = Client), (status = 404, body = Problem)))]
pub async fn update_client(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ClientPatch>,
) -> Result<Json<Client>, ApiError> {
    Ok(Json(clients::update_client(&s.pool, &p, id, patch).await?))
}

#[utoipa::path(post, path = "/v1/contacts", operation_id = "createContact", tag = "clients", request_body = ContactInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Contact), (status = 422, body = Problem)))]
pub async fn create_contact(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ContactInput>,
) -> Result<(StatusCode, Json<Contact>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(clients::create_contact(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/contacts", operation_id = "listContacts", tag = "clients", params(ContactQuery), responses((status = 200, body = Page<Contact>)))]
pub async fn list_contacts(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ContactQuery>,
) -> Result<Json<Page<Contact>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(
        clients::list_contacts(&s.pool, &p, q.client_id, page).await?,
    ))
}

#[utoipa::path(get, path = "/v1/contacts/{id}", operation_id = "getContact", tag = "clients", responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub async fn get_contact(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(clients::get_contact(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/contacts/{id}", operation_id = "updateContact", tag = "clients", request_body = ContactPatch, responses((status = 200, body = Contact), (status = 404, body = Problem)))]
pub async fn update_contact(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    Ok(Json(clients::update_contact(&s.pool, &p, id, patch).await?))
}
