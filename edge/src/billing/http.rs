//! `/v1/invoices/preview`: the invoice what-if.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::LargeJson;
use crate::web::json::Json;
use crate::web::openapi::billing_schemas::{InvoicePreview, InvoicePreviewRequest};
use axum::extract::State;
use psa_store::billing::preview as svc;
use serde_json::Value;

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
