//! The ledger: every change to what a client owes or holds, one row each, never changed or
//! removed (`psa_app` may only insert). This module is its one writer ([`append`]) and its
//! reader (balances, the journal, and the reconciliation that recomputes every invoice's
//! amount due and every credit's remaining money from it).
//!
//! Two accounts per client and currency, because money the client owes and money held for it
//! are not the same thing and must not cancel silently:
//!
//! - `receivable`, what the client owes. Positive raises it: an invoice's total, a refund of a
//!   payment that had paid an invoice, an upward adjustment. Negative lowers it: a payment, a
//!   credit applied to an invoice, the void of an invoice (what was still due), a downward
//!   adjustment.
//! - `credit`, money held for the client, one credit at a time (`credit_id`). Positive raises
//!   it: a credit issued (prepayment, overpayment, manual), a credit given back by a void.
//!   Negative lowers it: a credit applied to an invoice, refunded or expired.
//!
//! Applying a credit is two rows (−x on each account): it settles part of an invoice with money
//! the client already held, so their net balance does not move.

use crate::error::StoreError;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Utc};
use psa_domain::auth::Permission;
use psa_domain::billing::InvoiceCurrency;
use psa_domain::ids::new_id;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// Which of the client's two balances a row moves (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = LedgerAccount)]
pub enum Account {
    /// What the client owes.
    Receivable,
    /// Money held for the client.
    Credit,
}

impl Account {
    fn as_str(self) -> &'static str {
        match self {
            Account::Receivable => "receivable",
            Account::Credit => "credit",
        }
    }

    fn from_db(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "receivable" => Account::Receivable,
            "credit" => Account::Credit,
            other => {
                return Err(StoreError::internal(anyhow::anyhow!(
                    "unknown ledger account {other}"
                )));
            }
        })
    }
}

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = LedgerKind)]
pub enum Kind {
    Invoice,
    Payment,
    CreditIssued,
    CreditApplied,
    Refund,
    Adjustment,
    Void,
    CreditExpired,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Invoice => "invoice",
            Kind::Payment => "payment",
            Kind::CreditIssued => "credit_issued",
            Kind::CreditApplied => "credit_applied",
            Kind::Refund => "refund",
            Kind::Adjustment => "adjustment",
            Kind::Void => "void",
            Kind::CreditExpired => "credit_expired",
        }
    }

    fn from_db(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "invoice" => Kind::Invoice,
            "payment" => Kind::Payment,
            "credit_issued" => Kind::CreditIssued,
            "credit_applied" => Kind::CreditApplied,
            "refund" => Kind::Refund,
            "adjustment" => Kind::Adjustment,
            "void" => Kind::Void,
            "credit_expired" => Kind::CreditExpired,
            other => {
                return Err(StoreError::internal(anyhow::anyhow!(
                    "unknown ledger kind {other}"
                )));
            }
        })
    }
}

/// One row to write. `amount` is signed: its effect on `account` (see the module doc).
/// A row on the credit account names its credit; a receivable row names a credit only when it
/// applies one.
pub(crate) struct Entry<'a> {
    pub client_id: Uuid,
    pub account: Account,
    pub kind: Kind,
    pub amount: Decimal,
    pub currency: &'a str,
    pub invoice_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub credit_id: Option<Uuid>,
    pub note: Option<&'a str>,
}

/// Writes one row in the caller's transaction, so the ledger and the records it mirrors
/// commit together or not at all. Zero amounts are refused by the table: skip them.
pub(crate) async fn append(
    conn: &mut PgConnection,
    tenant: Uuid,
    e: Entry<'_>,
) -> Result<Uuid, StoreError> {
    let id = new_id();
    sqlx::query!(
        "INSERT INTO ledger_transactions (tenant_id, id, client_id, account, kind, amount,
             currency, invoice_id, payment_id, credit_id, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        tenant,
        id,
        e.client_id,
        e.account.as_str(),
        e.kind.as_str(),
        e.amount,
        e.currency,
        e.invoice_id,
        e.payment_id,
        e.credit_id,
        e.note,
    )
    .execute(conn)
    .await?;
    Ok(id)
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = LedgerTransaction, example = json!({"id": "0190d9a0-8d94-7fa6-e7b8-c9d0e1f20314",
    "client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f", "account": "receivable",
    "kind": "payment", "amount": "-221.92", "currency": "USD",
    "invoice_id": "0190d9a0-9ea5-70b7-f8c9-d0e1f2031425",
    "payment_id": "0190d9a0-afb6-71c8-89da-e1f203142536", "credit_id": null, "note": null,
    "occurred_at": "2026-03-20T10:15:00Z"}))]
pub struct Transaction {
    pub id: Uuid,
    pub client_id: Uuid,
    pub account: Account,
    pub kind: Kind,
    /// Signed: its effect on `account`.
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub currency: String,
    pub invoice_id: Option<Uuid>,
    pub payment_id: Option<Uuid>,
    pub credit_id: Option<Uuid>,
    pub note: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

struct Row {
    id: Uuid,
    client_id: Uuid,
    account: String,
    kind: String,
    amount: Decimal,
    currency: String,
    invoice_id: Option<Uuid>,
    payment_id: Option<Uuid>,
    credit_id: Option<Uuid>,
    note: Option<String>,
    occurred_at: DateTime<Utc>,
}

impl TryFrom<Row> for Transaction {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<Self, StoreError> {
        Ok(Transaction {
            id: r.id,
            client_id: r.client_id,
            account: Account::from_db(&r.account)?,
            kind: Kind::from_db(&r.kind)?,
            amount: r.amount,
            currency: r.currency,
            invoice_id: r.invoice_id,
            payment_id: r.payment_id,
            credit_id: r.credit_id,
            note: r.note,
            occurred_at: r.occurred_at,
        })
    }
}

/// The journal, oldest first, optionally of one client.
pub async fn list(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    page: PageRequest,
) -> Result<Page<Transaction>, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        "SELECT id, client_id, account, kind, amount, currency, invoice_id, payment_id, credit_id,
                note, occurred_at
         FROM ledger_transactions
         WHERE ($1::uuid IS NULL OR id > $1) AND ($2::uuid IS NULL OR client_id = $2)
         ORDER BY id LIMIT $3",
        page.after,
        client_id,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let rows = rows
        .into_iter()
        .map(Transaction::try_from)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(page.finish(rows, |t| t.id))
}

/// One row, read in the transaction that wrote it.
pub(crate) async fn transaction(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Transaction, StoreError> {
    sqlx::query_as!(
        Row,
        "SELECT id, client_id, account, kind, amount, currency, invoice_id, payment_id, credit_id,
                note, occurred_at
         FROM ledger_transactions WHERE id = $1",
        id,
    )
    .fetch_one(conn)
    .await?
    .try_into()
}

/// A client's standing in one currency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    pub currency: String,
    /// What the client owes: the sum of its receivable rows.
    #[schema(value_type = String)]
    pub receivable: Decimal,
    /// Money held for it: the sum of its credit rows.
    #[schema(value_type = String)]
    pub credit: Decimal,
    /// receivable − credit: positive, the client owes this much net; negative, it is owed.
    #[schema(value_type = String)]
    pub balance: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"client_id": "0190d9a0-1c2b-7c3d-8e4f-5a6b7c8d9e0f",
    "balances": [{"currency": "USD", "receivable": "221.92", "credit": "50.00",
                  "balance": "171.92"}]}))]
pub struct ClientBalance {
    pub client_id: Uuid,
    /// One per currency the client has ledger rows in, by currency code.
    pub balances: Vec<Balance>,
}

/// The client's balances, from the ledger alone; `NotFound` for no such client.
pub async fn balance(
    pool: &PgPool,
    p: &Principal,
    client_id: Uuid,
) -> Result<ClientBalance, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    sqlx::query_scalar!("SELECT id FROM clients WHERE id = $1", client_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let rows = sqlx::query!(
        r#"SELECT currency,
                  coalesce(sum(amount) FILTER (WHERE account = 'receivable'), 0) AS "receivable!",
                  coalesce(sum(amount) FILTER (WHERE account = 'credit'), 0) AS "credit!"
           FROM ledger_transactions WHERE client_id = $1
           GROUP BY currency ORDER BY currency"#,
        client_id,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ClientBalance {
        client_id,
        balances: rows
            .into_iter()
            .map(|r| Balance {
                balance: minor_units(r.receivable - r.credit, &r.currency),
                receivable: minor_units(r.receivable, &r.currency),
                credit: minor_units(r.credit, &r.currency),
                currency: r.currency,
            })
            .collect(),
    })
}

/// An invoice whose stored figures and ledger disagree on what is still due.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Mismatch {
    pub invoice_id: Uuid,
    /// total − credits applied − what its payments still pay of it (0 when void or draft).
    #[schema(value_type = String)]
    pub stored_amount_due: Decimal,
    /// The sum of the receivable rows naming the invoice.
    #[schema(value_type = String)]
    pub ledger_amount_due: Decimal,
}

/// A credit whose `remaining` and ledger disagree.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreditMismatch {
    pub credit_id: Uuid,
    #[schema(value_type = String)]
    pub stored_remaining: Decimal,
    /// The sum of the credit-account rows naming the credit.
    #[schema(value_type = String)]
    pub ledger_remaining: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"clients_checked": 12, "invoices_checked": 40, "credits_checked": 7,
    "mismatches": [], "credit_mismatches": []}))]
pub struct Reconciliation {
    /// Clients with an invoice or a credit checked.
    pub clients_checked: i64,
    /// Every invoice (drafts must have no ledger rows yet).
    pub invoices_checked: i64,
    pub credits_checked: i64,
    pub mismatches: Vec<Mismatch>,
    pub credit_mismatches: Vec<CreditMismatch>,
}

/// Recomputes every invoice's amount due and every credit's remaining money from the ledger
/// and compares them with what the records say, in one query (one snapshot).
///
/// A payment's part on its invoice is its amount, less what of it became a credit (its
/// `credit_issued` row: the overpayment), less its refunds, floored at 0: refunds take back
/// the invoice's part first (see `payments::refund`).
pub async fn reconcile(pool: &PgPool, p: &Principal) -> Result<Reconciliation, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let r = sqlx::query!(
        r#"WITH issued AS (
               SELECT payment_id, sum(amount) AS amount FROM ledger_transactions
               WHERE kind = 'credit_issued' AND payment_id IS NOT NULL GROUP BY payment_id
           ), paid AS (
               SELECT p.invoice_id,
                      sum(greatest(p.amount - coalesce(s.amount, 0) - p.refunded, 0)) AS amount
               FROM payments p LEFT JOIN issued s ON s.payment_id = p.id
               WHERE p.invoice_id IS NOT NULL GROUP BY p.invoice_id
           ), posted AS (
               SELECT invoice_id, sum(amount) AS amount FROM ledger_transactions
               WHERE account = 'receivable' AND invoice_id IS NOT NULL GROUP BY invoice_id
           ), invoice_check AS (
               SELECT i.id, i.client_id,
                      CASE WHEN i.status IN ('draft', 'void') THEN 0
                           ELSE i.total - i.credits_applied - coalesce(pd.amount, 0) END AS stored,
                      coalesce(po.amount, 0) AS ledger
               FROM invoices i LEFT JOIN paid pd ON pd.invoice_id = i.id
                    LEFT JOIN posted po ON po.invoice_id = i.id
           ), held AS (
               SELECT credit_id, sum(amount) AS amount FROM ledger_transactions
               WHERE account = 'credit' GROUP BY credit_id
           ), credit_check AS (
               SELECT c.id, c.client_id, c.remaining AS stored, coalesce(h.amount, 0) AS ledger
               FROM credits c LEFT JOIN held h ON h.credit_id = c.id
           )
           SELECT
               (SELECT count(*) FROM invoice_check) AS "invoices_checked!",
               (SELECT count(*) FROM credit_check) AS "credits_checked!",
               (SELECT count(*) FROM (SELECT client_id FROM invoice_check
                                      UNION SELECT client_id FROM credit_check) c)
                   AS "clients_checked!",
               (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM invoice_check
                 WHERE stored <> ledger) AS "invoice_ids!: Vec<Uuid>",
               (SELECT coalesce(array_agg(stored ORDER BY id), '{}') FROM invoice_check
                 WHERE stored <> ledger) AS "invoice_stored!: Vec<Decimal>",
               (SELECT coalesce(array_agg(ledger ORDER BY id), '{}') FROM invoice_check
                 WHERE stored <> ledger) AS "invoice_ledger!: Vec<Decimal>",
               (SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM credit_check
                 WHERE stored <> ledger) AS "credit_ids!: Vec<Uuid>",
               (SELECT coalesce(array_agg(stored ORDER BY id), '{}') FROM credit_check
                 WHERE stored <> ledger) AS "credit_stored!: Vec<Decimal>",
               (SELECT coalesce(array_agg(ledger ORDER BY id), '{}') FROM credit_check
                 WHERE stored <> ledger) AS "credit_ledger!: Vec<Decimal>""#,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let mismatches = zip3(r.invoice_ids, r.invoice_stored, r.invoice_ledger)?
        .into_iter()
        .map(|(invoice_id, stored, ledger)| Mismatch {
            invoice_id,
            stored_amount_due: stored,
            ledger_amount_due: ledger,
        })
        .collect();
    let credit_mismatches = zip3(r.credit_ids, r.credit_stored, r.credit_ledger)?
        .into_iter()
        .map(|(credit_id, stored, ledger)| CreditMismatch {
            credit_id,
            stored_remaining: stored,
            ledger_remaining: ledger,
        })
        .collect();
    Ok(Reconciliation {
        clients_checked: r.clients_checked,
        invoices_checked: r.invoices_checked,
        credits_checked: r.credits_checked,
        mismatches,
        credit_mismatches,
    })
}

/// `amount` written with its currency's minor units ("0.00", not "0"): Postgres keeps the
/// scale of a sum, but a zero comes back from the driver without one.
pub(crate) fn minor_units(amount: Decimal, currency: &str) -> Decimal {
    let mut d = amount;
    if let Some(c) = InvoiceCurrency::from_code(currency)
        && d.scale() < c.minor_units()
    {
        d.rescale(c.minor_units());
    }
    d
}

/// Puts back together the columns of one list that SQL returned as parallel arrays; arrays
/// of different lengths would mean the query is wrong, not the data.
fn zip3<A, B, C>(a: Vec<A>, b: Vec<B>, c: Vec<C>) -> Result<Vec<(A, B, C)>, StoreError> {
    if a.len() != b.len() || a.len() != c.len() {
        return Err(StoreError::internal(anyhow::anyhow!(
            "reconciliation arrays differ in length: {}, {}, {}",
            a.len(),
            b.len(),
            c.len()
        )));
    }
    Ok(a.into_iter()
        .zip(b)
        .zip(c)
        .map(|((a, b), c)| (a, b, c))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_the_database_spelling() {
        for k in [
            Kind::Invoice,
            Kind::Payment,
            Kind::CreditIssued,
            Kind::CreditApplied,
            Kind::Refund,
            Kind::Adjustment,
            Kind::Void,
            Kind::CreditExpired,
        ] {
            assert_eq!(Kind::from_db(k.as_str()).unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
        for a in [Account::Receivable, Account::Credit] {
            assert_eq!(Account::from_db(a.as_str()).unwrap(), a);
            assert_eq!(serde_json::to_value(a).unwrap(), a.as_str());
        }
        assert!(Kind::from_db("gift").is_err());
    }

    #[test]
    fn zeros_get_the_currency_scale_and_nothing_is_rounded() {
        assert_eq!(minor_units(Decimal::ZERO, "USD").to_string(), "0.00");
        assert_eq!(minor_units(Decimal::ZERO, "JPY").to_string(), "0");
        assert_eq!(
            minor_units(Decimal::new(1005, 3), "USD").to_string(),
            "1.005"
        );
        assert_eq!(minor_units(Decimal::new(5, 0), "KWD").to_string(), "5.000");
    }

    #[test]
    fn parallel_arrays_zip_or_fail() {
        assert_eq!(
            zip3(vec![1], vec!['a'], vec!["x"]).unwrap(),
            vec![(1, 'a', "x")]
        );
        assert!(zip3(vec![1, 2], vec!['a'], vec!["x"]).is_err());
    }
}
