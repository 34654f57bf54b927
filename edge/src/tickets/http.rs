//! `/v1/tickets` and their comments.

use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::pagination::{Page, PageRequest};
use psa_store::tickets::comments::{self, Comment, NewComment};
use psa_store::tickets::{self as svc, NewTicket, Ticket, TicketFilter, TicketPatch};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    pub status_id: Uuid,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// `null` unassigns.
    pub assignee_id: Option<Uuid>,
}

#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// A closed status; default: the tenant's first closed status.
    pub status_id: Option<Uuid>,
}

#[utoipa::path(post, path = "/v1/tickets", operation_id = "createTicket", tag = "tickets", request_body = NewTicket,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Ticket), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<NewTicket>,
) -> Result<(StatusCode, Json<Ticket>), ApiError> {
    let t = svc::create(&s.pool, &p, key.as_deref(), input).await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(get, path = "/v1/tickets", operation_id = "listTickets", tag = "tickets", params(TicketFilter), responses((status = 200, body = Page<Ticket>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(f): ApiQuery<TicketFilter>,
) -> Result<Json<Page<Ticket>>, ApiError> {
    Ok(Json(svc::list(&s.pool, &p, f).await?))
}

#[utoipa::path(get, path = "/v1/tickets/{id}", operation_id = "getTicket", tag = "tickets", responses((status = 200, body = Ticket), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

#[utoipa::path(patch, path = "/v1/tickets/{id}", operation_id = "updateTicket", tag = "tickets", request_body = TicketPatch, responses((status = 200, body = Ticket)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<TicketPatch>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, id, patch).await?))
}

/// Moves the ticket to `status_id` (required: a request without it is a 400 naming it).
#[utoipa::path(post, path = "/v1/tickets/{id}/status", operation_id = "changeTicketStatus", tag = "tickets", request_body = StatusChange, responses((status = 200, body = Ticket)))]
pub async fn change_status(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<StatusChange>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(
        svc::change_status(&s.pool, &p, id, body.status_id).await?,
    ))
}

/// Assigns the ticket to `assignee_id`; `null`, `{}` or no body at all unassigns it.
#[utoipa::path(post, path = "/v1/tickets/{id}/assign", operation_id = "assignTicket", tag = "tickets", request_body = Option<Assignment>, responses((status = 200, body = Ticket)))]
pub async fn assign(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Assignment>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(svc::assign(&s.pool, &p, id, body.assignee_id).await?))
}

/// Closes the ticket; with no body (or `{}`) into the tenant's first closed status.
#[utoipa::path(post, path = "/v1/tickets/{id}/close", operation_id = "closeTicket", tag = "tickets", request_body = Option<CloseRequest>, responses((status = 200, body = Ticket)))]
pub async fn close(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<CloseRequest>,
) -> Result<Json<Ticket>, ApiError> {
    Ok(Json(svc::close(&s.pool, &p, id, body.status_id).await?))
}

#[utoipa::path(post, path = "/v1/tickets/{id}/comments", operation_id = "createTicketComment", tag = "tickets", request_body = NewComment,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Comment)))]
pub async fn add_comment(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<NewComment>,
) -> Result<(StatusCode, Json<Comment>), ApiError> {
    let c = comments::add(&s.pool, &p, key.as_deref(), id, input).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[utoipa::path(get, path = "/v1/tickets/{id}/comments", operation_id = "listTicketComments", tag = "tickets", params(ListQuery), responses((status = 200, body = Page<Comment>)))]
pub async fn list_comments(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Comment>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(comments::list(&s.pool, &p, id, page).await?))
}
