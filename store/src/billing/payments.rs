//! Money received from clients and given back to them: payments (against an invoice, or
//! ahead of one), refunds of payments and of credits, and manual adjustments. Each writes the
//! ledger in the same transaction as the records it changes (`super::ledger`).
//!
//! A payment against an invoice pays at most what the invoice still owes; the rest, and all
//! of a payment made without an invoice, becomes a credit the client holds. The ledger's
//! `credit_issued` row naming the payment is the one record of which credit a payment became,
//! so a payment's part on its invoice is its amount less that credit, less its refunds.
//!
//! A refund of a payment takes back the invoice's part first (the invoice owes it again) and
//! then what is still unspent of its credit: money of that credit already spent on other
//! invoices is paying them and cannot be given back through this payment. Handing back an
//! overpayment alone is a refund of its credit.
//!
//! Every writer takes row locks in one order, invoice → payment → credit, so two of them can
//! wait on each other but never deadlock.

use super::credits::{Credit, CreditSource};
use super::fields;
use super::ledger::{self, Account, Entry, Kind, Transaction};
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::outbox;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, NaiveDate, Utc};
use psa_domain::auth::Permission;
use psa_domain::billing::InvoiceCurrency;
use psa_domain::events::{CreditIssued, Event, PaymentRecorded};
use psa_domain::ids::new_id;
use psa_domain::money::Money;
use psa_domain::validation::{self, ValidationErrors};
use rust_decimal::Decimal;
use serde::de::IntoDeserializer;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// How the money came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    BankTransfer,
    Card,
    Cash,
    Check,
    Other,
}

impl PaymentMethod {
    fn as_str(self) -> &'static str {
        match self {
            PaymentMethod::BankTransfer => "bank_transfer",
            PaymentMethod::Card => "card",
            PaymentMethod::Cash => "cash",
            PaymentMethod::Check => "check",
            PaymentMethod::Other => "other",
        }
    }

    fn from_db(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "bank_transfer" => PaymentMethod::BankTransfer,
            "card" => PaymentMethod::Card,
            "cash" => PaymentMethod::Cash,
            "check" => PaymentMethod::Check,
            "other" => PaymentMethod::Other,
            other => {
                return Err(StoreError::internal(anyhow::anyhow!(
                    "unknown payment method {other}"
                )));
            }
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"id": "0190d9a0-afb6-71c8-89da-e1f203142536",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f",
    "invoice_id": "0190d9a0-9ea5-70b7-f8c9-d0e1f2031425", "amount": "250.00", "currency": "USD",
    "received_on": "2026-03-20", "method": "bank_transfer", "reference": "TRX-88213",
    "applied": "221.92", "credit_id": "0190d9a0-c0c7-72d9-9aeb-f20314253647",
    "refunded": "0.00", "created_at": "2026-03-20T10:15:00Z"}))]
pub struct Payment {
    pub id: Uuid,
    pub client_id: Uuid,
    pub invoice_id: Option<Uuid>,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
    pub received_on: NaiveDate,
    pub method: PaymentMethod,
    pub reference: Option<String>,
    /// What of it paid its invoice when it was received (0 without an invoice).
    #[schema(value_type = String)]
    pub applied: Decimal,
    /// The credit the rest became (an overpayment, or a payment without an invoice).
    pub credit_id: Option<Uuid>,
    /// What was given back of it.
    #[schema(value_type = String)]
    pub refunded: Decimal,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentInput {
    pub client_id: Uuid,
    /// The client's finalized, partially paid or overdue invoice it pays, in its currency;
    /// none: all of it becomes a credit (a prepayment).
    pub invoice_id: Option<Uuid>,
    /// A positive decimal string, no finer than the currency's minor unit.
    #[schema(example = "250.00", max_length = 40)]
    pub amount: String,
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    pub received_on: NaiveDate,
    pub method: PaymentMethod,
    /// The bank's or card processor's reference.
    #[schema(max_length = 200)]
    pub reference: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefundInput {
    /// A positive decimal string in the currency of what is refunded.
    #[schema(example = "20.00", max_length = 40)]
    pub amount: String,
    /// Kept on the ledger row.
    #[schema(max_length = 2000)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentInput {
    /// A non-zero decimal string: positive raises what the client owes, negative (a leading
    /// '-') lowers it.
    #[schema(example = "-15.00", max_length = 40)]
    pub amount: String,
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    /// Why: an adjustment has no other record of itself.
    #[schema(min_length = 1, max_length = 2000)]
    pub note: String,
}

struct Row {
    id: Uuid,
    client_id: Uuid,
    invoice_id: Option<Uuid>,
    amount: Decimal,
    currency: String,
    received_on: NaiveDate,
    method: String,
    reference: Option<String>,
    credit_id: Option<Uuid>,
    credited: Decimal,
    refunded: Decimal,
    created_at: DateTime<Utc>,
}

impl TryFrom<Row> for Payment {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Payment {
            id: r.id,
            client_id: r.client_id,
            invoice_id: r.invoice_id,
            applied: ledger::minor_units(r.amount - r.credited, &r.currency),
            refunded: ledger::minor_units(r.refunded, &r.currency),
            amount: r.amount,
            currency: r.currency,
            received_on: r.received_on,
            method: PaymentMethod::from_db(&r.method)?,
            reference: r.reference,
            credit_id: r.credit_id,
            created_at: r.created_at,
        })
    }
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    invoice_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<Payment>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT p.id, p.client_id, p.invoice_id, p.amount, p.currency, p.received_on, p.method,
                  p.reference, s.credit_id AS "credit_id?", coalesce(s.amount, 0) AS "credited!",
                  p.refunded, p.created_at
           FROM payments p
           LEFT JOIN LATERAL (
               SELECT l.credit_id, l.amount FROM ledger_transactions l
               WHERE l.payment_id = p.id AND l.client_id = p.client_id
                 AND l.kind = 'credit_issued'
               LIMIT 1) s ON true
           WHERE ($1::uuid IS NULL OR p.id > $1) AND ($2::uuid IS NULL OR p.client_id = $2)
             AND ($3::uuid IS NULL OR p.invoice_id = $3)
           ORDER BY p.id LIMIT $4"#,
        page.after,
        client_id,
        invoice_id,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(Payment::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.finish(rows, |p| p.id))
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Payment, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let payment = payment_in(&mut tx, id).await?;
    tx.commit().await?;
    payment.ok_or(StoreError::NotFound)
}

async fn payment_in(conn: &mut PgConnection, id: Uuid) -> Result<Option<Payment>, StoreError> {
    sqlx::query_as!(
        Row,
        r#"SELECT p.id, p.client_id, p.invoice_id, p.amount, p.currency, p.received_on, p.method,
                  p.reference, s.credit_id AS "credit_id?", coalesce(s.amount, 0) AS "credited!",
                  p.refunded, p.created_at
           FROM payments p
           LEFT JOIN LATERAL (
               SELECT l.credit_id, l.amount FROM ledger_transactions l
               WHERE l.payment_id = p.id AND l.client_id = p.client_id
                 AND l.kind = 'credit_issued'
               LIMIT 1) s ON true
           WHERE p.id = $1"#,
        id,
    )
    .fetch_optional(conn)
    .await?
    .map(Payment::try_from)
    .transpose()
}

/// What the invoice still owes: its total, less the credits applied at finalization, less
/// what its payments still pay of it (each payment's amount less the credit it became less
/// its refunds, floored at 0, as `ledger::reconcile` reads it); 0 once void. A draft owes its
/// total as it stands. `NotFound` for no such invoice.
pub(crate) async fn amount_due(
    conn: &mut PgConnection,
    invoice_id: Uuid,
) -> Result<Decimal, StoreError> {
    Ok(standing(conn, invoice_id).await?.due)
}

/// What the invoice's payments still pay of it (the sum `amount_due` takes off): nothing
/// left means no payment stands in the way of voiding it. `NotFound` for no such invoice.
pub(crate) async fn amount_paid(
    conn: &mut PgConnection,
    invoice_id: Uuid,
) -> Result<Decimal, StoreError> {
    Ok(standing(conn, invoice_id).await?.paid)
}

/// What an invoice owes and what its payments pay of it.
struct Standing {
    due: Decimal,
    paid: Decimal,
}

async fn standing(conn: &mut PgConnection, invoice_id: Uuid) -> Result<Standing, StoreError> {
    let r = sqlx::query!(
        r#"SELECT i.status, i.total - i.credits_applied AS "billed!",
                  coalesce((
                      SELECT sum(greatest(p.amount - p.refunded - coalesce((
                          SELECT sum(l.amount) FROM ledger_transactions l
                          WHERE l.payment_id = p.id AND l.client_id = p.client_id
                            AND l.kind = 'credit_issued'), 0), 0))
                      FROM payments p WHERE p.invoice_id = i.id), 0) AS "paid!"
           FROM invoices i WHERE i.id = $1"#,
        invoice_id,
    )
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let due = if r.status == "void" {
        Decimal::ZERO
    } else {
        r.billed - r.paid
    };
    Ok(Standing { due, paid: r.paid })
}

/// Records a payment (see the module doc for where its money goes) and `payment.recorded`.
pub async fn record(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: PaymentInput,
) -> Result<Payment, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    let amount = fields::currency(&mut e, "currency", &input.currency)
        .and_then(|c| fields::money(&mut e, "amount", &input.amount, c));
    validation::optional_text(&mut e, "reference", input.reference.as_deref(), 200);
    crate::check(e.into_result())?;
    let amount = amount.ok_or_else(|| StoreError::invalid("amount", "is required"))?;
    let principal = p.clone();
    let request = json!({ "table": "payments", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move { record_in(conn, &principal, &input, amount).await })
    })
    .await
}

async fn record_in(
    conn: &mut PgConnection,
    p: &Principal,
    input: &PaymentInput,
    amount: Decimal,
) -> Result<Payment, StoreError> {
    let tenant = p.tenant_id;
    let id = new_id();
    // The invoice is locked before anything is read of it, so two payments of one invoice
    // see each other's effect and cannot both pay its last cent.
    let invoice = match input.invoice_id {
        Some(invoice_id) => {
            let inv = sqlx::query!(
                "SELECT client_id, currency, status FROM invoices WHERE id = $1 FOR UPDATE",
                invoice_id,
            )
            .fetch_optional(&mut *conn)
            .await?
            .ok_or_else(|| {
                StoreError::invalid("invoice_id", "does not refer to an existing record")
            })?;
            if inv.client_id != input.client_id {
                return Err(StoreError::invalid(
                    "invoice_id",
                    "is an invoice of another client",
                ));
            }
            if inv.currency != input.currency {
                return Err(StoreError::invalid(
                    "currency",
                    format!("must be the invoice's currency, {}", inv.currency),
                ));
            }
            if !matches!(
                inv.status.as_str(),
                "finalized" | "partially_paid" | "overdue"
            ) {
                return Err(StoreError::WrongState(format!(
                    "the invoice is {}: only finalized, partially paid or overdue invoices take \
                     payments",
                    inv.status
                )));
            }
            let due = amount_due(conn, invoice_id).await?;
            Some((invoice_id, inv.status, due))
        }
        None => None,
    };
    let (applied, excess) = split_payment(amount, invoice.as_ref().map(|(_, _, due)| *due));
    sqlx::query!(
        "INSERT INTO payments (tenant_id, id, client_id, invoice_id, amount, currency, received_on,
             method, reference)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        tenant,
        id,
        input.client_id,
        input.invoice_id,
        amount,
        input.currency,
        input.received_on,
        input.method.as_str(),
        input.reference,
    )
    .execute(&mut *conn)
    .await?;
    if let Some((invoice_id, status, due)) = &invoice {
        if !applied.is_zero() {
            ledger::append(
                conn,
                tenant,
                Entry {
                    client_id: input.client_id,
                    account: Account::Receivable,
                    kind: Kind::Payment,
                    amount: -applied,
                    currency: &input.currency,
                    invoice_id: Some(*invoice_id),
                    payment_id: Some(id),
                    credit_id: None,
                    note: None,
                },
            )
            .await?;
        }
        let next = status_after_payment(status, *due - applied);
        sqlx::query!(
            "UPDATE invoices SET status = $2, updated_at = now() WHERE id = $1",
            invoice_id,
            next,
        )
        .execute(&mut *conn)
        .await?;
    }
    if !excess.is_zero() {
        let source = if invoice.is_some() {
            "overpayment"
        } else {
            "prepayment"
        };
        let credit_id = new_id();
        sqlx::query!(
            "INSERT INTO credits (tenant_id, id, client_id, amount, remaining, currency, source)
             VALUES ($1, $2, $3, $4, $4, $5, $6)",
            tenant,
            credit_id,
            input.client_id,
            excess,
            input.currency,
            source,
        )
        .execute(&mut *conn)
        .await?;
        ledger::append(
            conn,
            tenant,
            Entry {
                client_id: input.client_id,
                account: Account::Credit,
                kind: Kind::CreditIssued,
                amount: excess,
                currency: &input.currency,
                invoice_id: None,
                payment_id: Some(id),
                credit_id: Some(credit_id),
                note: None,
            },
        )
        .await?;
        outbox::enqueue(
            conn,
            p,
            Event::CreditIssued(CreditIssued {
                credit_id,
                client_id: input.client_id,
                amount: Money::new(excess, &input.currency),
                expires_on: None,
                payment_id: Some(id),
            }),
        )
        .await?;
    }
    outbox::enqueue(
        conn,
        p,
        Event::PaymentRecorded(PaymentRecorded {
            payment_id: id,
            invoice_id: input.invoice_id,
            client_id: input.client_id,
            amount: Money::new(amount, &input.currency),
        }),
    )
    .await?;
    payment_in(conn, id)
        .await?
        .ok_or_else(|| StoreError::internal(anyhow::anyhow!("payment {id} vanished")))
}

/// Gives back part of a payment: first what of it still pays its invoice, then what is
/// unspent of the credit it became (see the module doc). Answers the payment as it is now.
pub async fn refund(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    id: Uuid,
    input: RefundInput,
) -> Result<Payment, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    validation::optional_text(&mut e, "note", input.note.as_deref(), 2000);
    crate::check(e.into_result())?;
    let tenant = p.tenant_id;
    let request = json!({ "table": "payment_refunds", "payment_id": id, "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move { refund_in(conn, tenant, id, &input).await })
    })
    .await
}

async fn refund_in(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    input: &RefundInput,
) -> Result<Payment, StoreError> {
    let invoice_id = sqlx::query_scalar!("SELECT invoice_id FROM payments WHERE id = $1", id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let invoice_status = match invoice_id {
        Some(invoice_id) => Some(
            sqlx::query_scalar!(
                "SELECT status FROM invoices WHERE id = $1 FOR UPDATE",
                invoice_id
            )
            .fetch_one(&mut *conn)
            .await?,
        ),
        None => None,
    };
    let pay = sqlx::query!(
        "SELECT client_id, currency, amount, refunded FROM payments WHERE id = $1 FOR UPDATE",
        id,
    )
    .fetch_one(&mut *conn)
    .await?;
    let issued = sqlx::query!(
        r#"SELECT credit_id AS "credit_id!", amount FROM ledger_transactions
           WHERE payment_id = $1 AND client_id = $2 AND kind = 'credit_issued'
             AND credit_id IS NOT NULL"#,
        id,
        pay.client_id,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let credit = match &issued {
        Some(i) => Some((
            i.credit_id,
            sqlx::query_scalar!(
                "SELECT remaining FROM credits WHERE id = $1 FOR UPDATE",
                i.credit_id
            )
            .fetch_one(&mut *conn)
            .await?,
        )),
        None => None,
    };
    let amount = money_in(&pay.currency, &input.amount)?;
    let on_invoice = on_invoice(
        pay.amount,
        issued.as_ref().map_or(Decimal::ZERO, |i| i.amount),
        pay.refunded,
    );
    let unspent = credit.map_or(Decimal::ZERO, |(_, remaining)| remaining);
    let (from_invoice, from_credit) =
        split_refund(amount, on_invoice, unspent).map_err(|limit| {
            StoreError::invalid(
                "amount",
                format!(
                    "must be at most {limit}: what of the payment still pays its invoice or is \
                     unspent in its credit"
                ),
            )
        })?;
    sqlx::query!(
        "UPDATE payments SET refunded = refunded + $2 WHERE id = $1",
        id,
        amount,
    )
    .execute(&mut *conn)
    .await?;
    if !from_invoice.is_zero() {
        // Only a payment with an invoice has a part on one (`on_invoice`).
        let (Some(invoice_id), Some(status)) = (invoice_id, invoice_status.as_deref()) else {
            return Err(StoreError::internal(anyhow::anyhow!(
                "payment {id} has a part on an invoice it does not name"
            )));
        };
        ledger::append(
            conn,
            tenant,
            Entry {
                client_id: pay.client_id,
                account: Account::Receivable,
                kind: Kind::Refund,
                amount: from_invoice,
                currency: &pay.currency,
                invoice_id: Some(invoice_id),
                payment_id: Some(id),
                credit_id: None,
                note: input.note.as_deref(),
            },
        )
        .await?;
        let paid = amount_paid(conn, invoice_id).await?;
        if let Some(next) = status_after_refund(status, paid) {
            sqlx::query!(
                "UPDATE invoices SET status = $2, updated_at = now() WHERE id = $1",
                invoice_id,
                next,
            )
            .execute(&mut *conn)
            .await?;
        }
    }
    if !from_credit.is_zero() {
        // `split_refund` takes from the credit only what it holds.
        let Some((credit_id, _)) = credit else {
            return Err(StoreError::internal(anyhow::anyhow!(
                "payment {id} refunds from a credit it did not become"
            )));
        };
        sqlx::query!(
            "UPDATE credits SET remaining = remaining - $2, updated_at = now() WHERE id = $1",
            credit_id,
            from_credit,
        )
        .execute(&mut *conn)
        .await?;
        ledger::append(
            conn,
            tenant,
            Entry {
                client_id: pay.client_id,
                account: Account::Credit,
                kind: Kind::Refund,
                amount: -from_credit,
                currency: &pay.currency,
                invoice_id: None,
                payment_id: Some(id),
                credit_id: Some(credit_id),
                note: input.note.as_deref(),
            },
        )
        .await?;
    }
    payment_in(conn, id)
        .await?
        .ok_or_else(|| StoreError::internal(anyhow::anyhow!("payment {id} vanished")))
}

/// Gives back money of a credit that is still unspent. Answers the credit as it is now.
pub async fn refund_credit(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    id: Uuid,
    input: RefundInput,
) -> Result<Credit, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    validation::optional_text(&mut e, "note", input.note.as_deref(), 2000);
    crate::check(e.into_result())?;
    let tenant = p.tenant_id;
    let request = json!({ "table": "credit_refunds", "credit_id": id, "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move { refund_credit_in(conn, tenant, id, &input).await })
    })
    .await
}

async fn refund_credit_in(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    input: &RefundInput,
) -> Result<Credit, StoreError> {
    let c = sqlx::query!(
        "SELECT currency, remaining FROM credits WHERE id = $1 FOR UPDATE",
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let amount = money_in(&c.currency, &input.amount)?;
    if amount > c.remaining {
        return Err(StoreError::invalid(
            "amount",
            format!(
                "must be at most {}: what is left of the credit",
                c.remaining
            ),
        ));
    }
    let r = sqlx::query!(
        "UPDATE credits SET remaining = remaining - $2, updated_at = now() WHERE id = $1
         RETURNING id, client_id, amount, remaining, currency, expires_on, source, note,
                   created_at, updated_at",
        id,
        amount,
    )
    .fetch_one(&mut *conn)
    .await?;
    ledger::append(
        conn,
        tenant,
        Entry {
            client_id: r.client_id,
            account: Account::Credit,
            kind: Kind::Refund,
            amount: -amount,
            currency: &r.currency,
            invoice_id: None,
            payment_id: None,
            credit_id: Some(id),
            note: input.note.as_deref(),
        },
    )
    .await?;
    Ok(Credit {
        id: r.id,
        client_id: r.client_id,
        amount: r.amount,
        remaining: ledger::minor_units(r.remaining, &r.currency),
        currency: r.currency,
        expires_on: r.expires_on,
        source: credit_source(&r.source)?,
        note: r.note,
        created_at: r.created_at,
        updated_at: r.updated_at,
    })
}

/// Writes a manual correction of what the client owes; `NotFound` for no such client.
pub async fn adjust(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    client_id: Uuid,
    input: AdjustmentInput,
) -> Result<Transaction, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    let amount = fields::currency(&mut e, "currency", &input.currency)
        .and_then(|c| signed_money(&mut e, "amount", &input.amount, c));
    validation::text(&mut e, "note", &input.note, 2000);
    crate::check(e.into_result())?;
    let amount = amount.ok_or_else(|| StoreError::invalid("amount", "is required"))?;
    let tenant = p.tenant_id;
    let request = json!({ "table": "adjustments", "client_id": client_id, "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            sqlx::query_scalar!("SELECT id FROM clients WHERE id = $1", client_id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)?;
            let id = ledger::append(
                conn,
                tenant,
                Entry {
                    client_id,
                    account: Account::Receivable,
                    kind: Kind::Adjustment,
                    amount,
                    currency: &input.currency,
                    invoice_id: None,
                    payment_id: None,
                    credit_id: None,
                    note: Some(input.note.as_str()),
                },
            )
            .await?;
            ledger::transaction(conn, id).await
        })
    })
    .await
}

/// `s` as money of the stored record's currency, or a 422 naming `amount`.
fn money_in(currency: &str, s: &str) -> Result<Decimal, StoreError> {
    let c = InvoiceCurrency::from_code(currency).ok_or_else(|| {
        StoreError::internal(anyhow::anyhow!(
            "stored currency {currency} is not ISO 4217"
        ))
    })?;
    let mut e = ValidationErrors::default();
    let amount = fields::money(&mut e, "amount", s, c);
    crate::check(e.into_result())?;
    amount.ok_or_else(|| StoreError::invalid("amount", "is required"))
}

/// A non-zero amount of money that may be written with a leading '-'.
fn signed_money(
    e: &mut ValidationErrors,
    field: &str,
    s: &str,
    currency: InvoiceCurrency,
) -> Option<Decimal> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    if digits.starts_with('-') {
        e.push(field, "must have at most one leading '-'");
        return None;
    }
    let d = fields::decimal(e, field, digits, currency.minor_units())?;
    if d.is_zero() {
        e.push(field, "must not be zero");
        return None;
    }
    Some(if negative { -d } else { d })
}

/// How a payment of `amount` divides when its invoice owes `due` (none: no invoice): what pays
/// the invoice, and what is left over for a credit.
fn split_payment(amount: Decimal, due: Option<Decimal>) -> (Decimal, Decimal) {
    let applied = due.map_or(Decimal::ZERO, |d| amount.min(d.max(Decimal::ZERO)));
    (applied, amount - applied)
}

/// What a payment still pays of its invoice: what did not become a credit, less refunds
/// (which take from this part first), never below 0.
fn on_invoice(amount: Decimal, credited: Decimal, refunded: Decimal) -> Decimal {
    (amount - credited - refunded).max(Decimal::ZERO)
}

/// How a refund of `amount` divides between the invoice's part of a payment and its unspent
/// credit, invoice first; `Err(limit)` when it is more than both.
fn split_refund(
    amount: Decimal,
    on_invoice: Decimal,
    unspent: Decimal,
) -> Result<(Decimal, Decimal), Decimal> {
    let limit = on_invoice + unspent;
    if amount > limit {
        return Err(limit);
    }
    let from_invoice = amount.min(on_invoice);
    Ok((from_invoice, amount - from_invoice))
}

/// An invoice's status once a payment leaves `due` owing. An overdue invoice stays overdue
/// until it is paid in full: it is still late.
fn status_after_payment(status: &str, due: Decimal) -> &'static str {
    if due <= Decimal::ZERO {
        "paid"
    } else if status == "overdue" {
        "overdue"
    } else {
        "partially_paid"
    }
}

/// An invoice's new status once a refund leaves its payments paying `paid` of it; none: it
/// keeps its status (an overdue invoice stays overdue).
fn status_after_refund(status: &str, paid: Decimal) -> Option<&'static str> {
    match status {
        "paid" | "partially_paid" if paid > Decimal::ZERO => Some("partially_paid"),
        "paid" | "partially_paid" => Some("finalized"),
        _ => None,
    }
}

/// The stored spelling of a credit's source, read with the type's own serde names, which are
/// the column's values.
fn credit_source(s: &str) -> Result<CreditSource, StoreError> {
    let d: serde::de::value::StrDeserializer<'_, serde::de::value::Error> = s.into_deserializer();
    CreditSource::deserialize(d).map_err(StoreError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn a_payment_pays_at_most_what_is_due_and_the_rest_is_credit() {
        assert_eq!(
            split_payment(d("100.00"), Some(d("221.92"))),
            (d("100.00"), d("0"))
        );
        assert_eq!(
            split_payment(d("250.00"), Some(d("221.92"))),
            (d("221.92"), d("28.08"))
        );
        assert_eq!(split_payment(d("50"), Some(d("0"))), (d("0"), d("50")));
        assert_eq!(split_payment(d("50"), None), (d("0"), d("50")));
    }

    #[test]
    fn refunds_take_the_invoice_part_first_then_the_unspent_credit() {
        assert_eq!(on_invoice(d("250"), d("28.08"), d("0")), d("221.92"));
        assert_eq!(on_invoice(d("250"), d("28.08"), d("230")), d("0"));
        assert_eq!(
            split_refund(d("20"), d("221.92"), d("28.08")),
            Ok((d("20"), d("0")))
        );
        assert_eq!(
            split_refund(d("230"), d("221.92"), d("28.08")),
            Ok((d("221.92"), d("8.08")))
        );
        assert_eq!(
            split_refund(d("250.01"), d("221.92"), d("28.08")),
            Err(d("250.00"))
        );
        // A prepayment is all credit; what other invoices spent of it is gone.
        assert_eq!(split_refund(d("5"), d("0"), d("7")), Ok((d("0"), d("5"))));
        assert_eq!(split_refund(d("8"), d("0"), d("7")), Err(d("7")));
    }

    #[test]
    fn statuses_follow_what_is_paid() {
        assert_eq!(status_after_payment("finalized", d("0")), "paid");
        assert_eq!(status_after_payment("finalized", d("1")), "partially_paid");
        assert_eq!(status_after_payment("partially_paid", d("0.00")), "paid");
        assert_eq!(status_after_payment("overdue", d("1")), "overdue");
        assert_eq!(status_after_payment("overdue", d("0")), "paid");
        assert_eq!(status_after_refund("paid", d("10")), Some("partially_paid"));
        assert_eq!(status_after_refund("paid", d("0")), Some("finalized"));
        assert_eq!(
            status_after_refund("partially_paid", d("0")),
            Some("finalized")
        );
        assert_eq!(status_after_refund("overdue", d("0")), None);
    }

    #[test]
    fn adjustments_are_signed_non_zero_money() {
        let usd = InvoiceCurrency::from_code("USD").unwrap();
        let mut e = ValidationErrors::default();
        assert_eq!(
            signed_money(&mut e, "amount", "-15.00", usd),
            Some(d("-15.00"))
        );
        assert_eq!(signed_money(&mut e, "amount", "15", usd), Some(d("15")));
        assert!(e.0.is_empty());
        for bad in ["0", "-0.00", "--1", "1.001", "+1", "1e2", ""] {
            let mut e = ValidationErrors::default();
            assert_eq!(signed_money(&mut e, "amount", bad, usd), None, "{bad}");
            assert_eq!(e.0.len(), 1, "{bad}");
            assert_eq!(e.0[0].field, "amount");
        }
    }

    #[test]
    fn credit_sources_are_read_in_the_column_spelling() {
        assert_eq!(
            credit_source("overpayment").unwrap(),
            CreditSource::Overpayment
        );
        assert_eq!(
            credit_source("prepayment").unwrap(),
            CreditSource::Prepayment
        );
        assert!(credit_source("gift").is_err());
    }
}
