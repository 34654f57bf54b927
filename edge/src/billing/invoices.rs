//! `/v1/invoices` (manual drafts, finalize, void, reads) and `/v1/invoice-settings`.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::invoices::{
    self as svc, Invoice, InvoiceSettings, InvoiceSettingsPatch, InvoiceStatus, ManualInvoiceInput,
    ManualInvoicePatch,
};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InvoiceQuery {
    /// Only this client's invoices (a client-portal key always sees only its own).
    pub client_id: Option<Uuid>,
    /// Only invoices in this status.
    pub status: Option<InvoiceStatus>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

/// A manual draft invoice: free items (description, quantity, unit price), priced, taxed with
/// the client's settings and totalled by the billing engine. It takes no number until it is
/// finalized.
#[utoipa::path(post, path = "/v1/invoices", operation_id = "createInvoice", tag = "invoices", request_body = ManualInvoiceInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Invoice), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<ManualInvoiceInput>,
) -> Result<(StatusCode, Json<Invoice>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::create_manual(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

/// Invoices, oldest first. Billing staff see every invoice; a client-portal key sees its own
/// client's numbered (finalized) invoices only.
#[utoipa::path(get, path = "/v1/invoices", operation_id = "listInvoices", tag = "invoices", params(InvoiceQuery), responses((status = 200, body = Page<Invoice>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<InvoiceQuery>,
) -> Result<Json<Page<Invoice>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(
        svc::list(&s.pool, &p, q.client_id, q.status, page).await?,
    ))
}

#[utoipa::path(get, path = "/v1/invoices/{id}", operation_id = "getInvoice", tag = "invoices", responses((status = 200, body = Invoice), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

/// Changes a draft (dates, note, or all its items); a finalized invoice never changes.
#[utoipa::path(patch, path = "/v1/invoices/{id}", operation_id = "updateInvoice", tag = "invoices", request_body = ManualInvoicePatch,
    responses((status = 200, body = Invoice), (status = 404, body = Problem),
        (status = 409, description = "The invoice is no longer a draft.", body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<ManualInvoicePatch>,
) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(svc::update_manual(&s.pool, &p, id, patch).await?))
}

/// Finalizes a draft: recomputed with the client's tax settings and open credits as they are
/// now, the credits drawn down, the tenant's next number taken (gapless), the ledger written.
#[utoipa::path(post, path = "/v1/invoices/{id}/finalize", operation_id = "finalizeInvoice", tag = "invoices",
    responses((status = 200, body = Invoice), (status = 404, body = Problem),
        (status = 409, description = "The invoice is not a draft.", body = Problem)))]
pub async fn finalize(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(svc::finalize(&s.pool, &p, id).await?))
}

/// Voids an invoice: a finalized one keeps its number, owes nothing more and gives back the
/// credits it drew on. One with payments must have them refunded first.
#[utoipa::path(post, path = "/v1/invoices/{id}/void", operation_id = "voidInvoice", tag = "invoices",
    responses((status = 200, body = Invoice), (status = 404, body = Problem),
        (status = 409, description = "Already void, or payments were made against it.", body = Problem)))]
pub async fn void(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Invoice>, ApiError> {
    Ok(Json(svc::void(&s.pool, &p, id).await?))
}

#[utoipa::path(get, path = "/v1/invoice-settings", operation_id = "getInvoiceSettings", tag = "invoices", responses((status = 200, body = InvoiceSettings)))]
pub async fn get_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<InvoiceSettings>, ApiError> {
    Ok(Json(svc::get_settings(&s.pool, &p).await?))
}

/// Changes how invoices are numbered and dated. `next_number` can be set only before the
/// first invoice is finalized (409 afterwards): numbers never skip or repeat.
#[utoipa::path(patch, path = "/v1/invoice-settings", operation_id = "updateInvoiceSettings", tag = "invoices", request_body = InvoiceSettingsPatch,
    responses((status = 200, body = InvoiceSettings), (status = 409, description = "`next_number` after the first finalized invoice.", body = Problem), (status = 422, body = Problem)))]
pub async fn update_settings(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(patch): ApiJson<InvoiceSettingsPatch>,
) -> Result<Json<InvoiceSettings>, ApiError> {
    Ok(Json(svc::update_settings(&s.pool, &p, patch).await?))
}
