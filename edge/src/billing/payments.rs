//! Money in and out over HTTP: `/v1/payments` and their refunds, refunds of credits, manual
//! adjustments, a client's balances and the ledger with its reconciliation. The operations are
//! `psa_store::billing::{payments, ledger}`.

use crate::billing::contracts::ClientQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_store::billing::credits::Credit;
use psa_store::billing::ledger::{self, ClientBalance, Reconciliation, Transaction};
use psa_store::billing::payments::{
    self as svc, AdjustmentInput, Payment, PaymentInput, RefundInput,
};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// Only this client's payments.
    pub client_id: Option<Uuid>,
    /// Only the payments of this invoice.
    pub invoice_id: Option<Uuid>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 22, pattern = "^[A-Za-z0-9_-]{0,22}$")]
    pub cursor: Option<String>,
}

/// Records money received. With an invoice it pays up to what the invoice still owes (the
/// invoice becomes paid or partially paid) and any excess becomes an `overpayment` credit;
/// without one it all becomes a `prepayment` credit (`credit_id` names it). Publishes
/// `payment.recorded`.
#[utoipa::path(post, path = "/v1/payments", operation_id = "recordPayment", tag = "billing", request_body = PaymentInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Payment),
        (status = 409, description = "The invoice is a draft, paid or void.", body = Problem),
        (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<PaymentInput>,
) -> Result<(StatusCode, Json<Payment>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::record(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/payments", operation_id = "listPayments", tag = "billing", params(PaymentQuery), responses((status = 200, body = Page<Payment>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<PaymentQuery>,
) -> Result<Json<Page<Payment>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(
        svc::list(&s.pool, &p, q.client_id, q.invoice_id, page).await?,
    ))
}

#[utoipa::path(get, path = "/v1/payments/{id}", operation_id = "getPayment", tag = "billing", responses((status = 200, body = Payment), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

/// Gives back part of a payment: first what of it still pays its invoice (which owes it
/// again: paid becomes partially paid, or finalized when no payment is left on it), then what
/// is unspent of the credit the rest became. To give back only an overpayment, refund its
/// credit instead. Answers the payment.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", operation_id = "refundPayment", tag = "billing", request_body = RefundInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the refund safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 200, body = Payment), (status = 404, body = Problem),
        (status = 422, description = "`amount` is more than the payment has left to give back, or is not money of its currency.", body = Problem)))]
pub async fn refund(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<RefundInput>,
) -> Result<Json<Payment>, ApiError> {
    Ok(Json(
        svc::refund(&s.pool, &p, key.as_deref(), id, input).await?,
    ))
}

/// Gives back money of a credit that no invoice has spent. Answers the credit.
#[utoipa::path(post, path = "/v1/credits/{id}/refunds", operation_id = "refundCredit", tag = "billing", request_body = RefundInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the refund safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 200, body = Credit), (status = 404, body = Problem),
        (status = 422, description = "`amount` is more than the credit's `remaining`, or is not money of its currency.", body = Problem)))]
pub async fn refund_credit(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<RefundInput>,
) -> Result<Json<Credit>, ApiError> {
    Ok(Json(
        svc::refund_credit(&s.pool, &p, key.as_deref(), id, input).await?,
    ))
}

/// Corrects what the client owes by hand: a ledger row of `amount` with its reason.
#[utoipa::path(post, path = "/v1/clients/{id}/adjustments", operation_id = "adjustClientBalance", tag = "billing", request_body = AdjustmentInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255,
        description = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).")),
    responses((status = 201, body = Transaction), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn adjust(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<AdjustmentInput>,
) -> Result<(StatusCode, Json<Transaction>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::adjust(&s.pool, &p, key.as_deref(), id, input).await?),
    ))
}

/// What the client owes and what is held for it, per currency, from the ledger.
#[utoipa::path(get, path = "/v1/clients/{id}/balance", operation_id = "getClientBalance", tag = "billing", responses((status = 200, body = ClientBalance), (status = 404, body = Problem)))]
pub async fn balance(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<ClientBalance>, ApiError> {
    Ok(Json(ledger::balance(&s.pool, &p, id).await?))
}

/// The ledger's rows, oldest first: every change to what a client owes (`receivable`) or
/// holds (`credit`), each signed by its effect on its account.
#[utoipa::path(get, path = "/v1/ledger", operation_id = "listLedger", tag = "billing", params(ClientQuery), responses((status = 200, body = Page<Transaction>)))]
pub async fn list_ledger(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ClientQuery>,
) -> Result<Json<Page<Transaction>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(ledger::list(&s.pool, &p, q.client_id, page).await?))
}

/// Recomputes every invoice's amount due and every credit's remaining money from the ledger
/// and lists where the records disagree; both lists empty means the books agree.
#[utoipa::path(get, path = "/v1/ledger/reconciliation", operation_id = "reconcileLedger", tag = "billing", responses((status = 200, body = Reconciliation)))]
pub async fn reconciliation(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Reconciliation>, ApiError> {
    Ok(Json(ledger::reconcile(&s.pool, &p).await?))
}
