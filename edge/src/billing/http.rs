//! The invoice what-ifs: `/v1/invoices/preview` (stateless) and
//! `/v1/clients/{id}/invoice-preview` (from the client's stored data).

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiPath, ApiQuery, LargeJson};
use crate::web::json::Json;
use crate::web::openapi::billing_schemas::{InvoicePreview, InvoicePreviewRequest};
use axum::extract::State;
use chrono::NaiveDate;
use psa_store::billing::client_preview as client_svc;
use psa_store::billing::preview as svc;
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;
use uuid::Uuid;

/// The invoice a period's contract lines, time, usage, discounts, tax and credits would make,
/// computed exactly as invoice runs compute it. Nothing is read or stored. Bodies may be up to
/// 4 MiB (thousands of time entries).
#[utoipa::path(post, path = "/v1/invoices/preview", operation_id = "previewInvoice", tag = "billing",
    request_body = InvoicePreviewRequest,
    responses((status = 200, description = "The invoice draft.", body = InvoicePreview),
        (status = 400, description = "A field is missing, mistyped or out of range; `errors` names it.", body = Problem)))]
pub async fn preview(
    State(_s): State<AppState>,
    Caller(p): Caller,
    LargeJson(body): LargeJson<Value>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(svc::preview(&p, body).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClientPreviewQuery {
    /// The first day of the billing period to preview: the start of one of the client's
    /// billing periods.
    pub period_start: NaiveDate,
    /// The invoice's currency, when the client is billed in more than one for this period.
    #[param(min_length = 3, max_length = 3)]
    pub currency: Option<String>,
}

/// The invoice the client's stored contracts, approved uninvoiced time, uninvoiced usage, tax
/// settings and open credits would make for the billing period starting on `period_start`, in
/// the same shape as `POST /v1/invoices/preview` answers (the same engine computes both).
/// Nothing is stored.
#[utoipa::path(post, path = "/v1/clients/{id}/invoice-preview", operation_id = "previewClientInvoice", tag = "billing",
    params(ClientPreviewQuery),
    responses((status = 200, description = "The invoice draft.", body = InvoicePreview),
        (status = 404, description = "No such client.", body = Problem),
        (status = 422, description = "No billing period of the client starts on `period_start`, or its stored data cannot be billed (the field says why).", body = Problem)))]
pub async fn client_preview(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ClientPreviewQuery>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        client_svc::preview(&s.pool, &p, id, q.period_start, q.currency.as_deref()).await?,
    ))
}
