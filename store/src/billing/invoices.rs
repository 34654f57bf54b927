//! Invoices: drafts written by hand (the seed's "Manual Invoicing"), their finalization with
//! the tenant's next gapless number, and voiding. Amounts come from the billing engine (each
//! manual item is a product line, taxed with the client's settings), so a manual invoice rounds
//! and taxes exactly as a run invoice does.
//!
//! Numbers are taken at finalization from `invoice_settings.next_number` by an `UPDATE` that
//! holds the counter row until the finalizing transaction ends: finalizations of one tenant
//! take numbers one at a time, and one that rolls back gives its number back, so numbers have
//! no gaps and no duplicates. A finalized invoice changes only its status afterwards; the
//! ledger records every change to what the client owes.

use super::client_preview::client_tax;
use super::fields;
use super::ledger::{self, Account, Entry, Kind};
use crate::compute;
use crate::error::StoreError;
use crate::idempotency::create_once;
use crate::outbox;
use crate::pagination::{Page, PageRequest};
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, Days, NaiveDate, Utc};
use psa_domain::auth::{Permission, Role};
use psa_domain::billing::{self, InvoiceDraft};
use psa_domain::events::{Event, InvoiceFinalized};
use psa_domain::ids::new_id;
use psa_domain::money::Money;
use psa_domain::notifications::billing::{
    DocumentItem, DocumentTax, InvoiceDocument, InvoiceFigures, optional_amount,
};
use psa_domain::validation::{self, ValidationErrors};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;
use uuid::Uuid;

/// At most this many items on a manual invoice.
pub const MAX_ITEMS: usize = 500;

/// How the tenant numbers and dates its invoices.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceSettings {
    /// Put before the number: "INV-".
    pub prefix: String,
    /// Digits the number is padded to with zeros: 5 makes INV-00042.
    pub padding: i16,
    /// The number the next finalized invoice takes.
    pub next_number: i64,
    /// Days from the invoice date to its due date.
    pub payment_terms_days: i32,
    /// IANA zone billing days are counted in: the tenant's invoice run and upkeep start just
    /// after midnight there.
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceSettingsPatch {
    #[schema(max_length = 20)]
    pub prefix: Option<String>,
    #[schema(minimum = 1, maximum = 12)]
    pub padding: Option<i16>,
    /// Only before the first invoice is finalized: afterwards it would leave a gap.
    #[schema(minimum = 1)]
    pub next_number: Option<i64>,
    #[schema(minimum = 0, maximum = 365)]
    pub payment_terms_days: Option<i32>,
    /// An IANA zone name (`Europe/London`).
    #[schema(min_length = 1, max_length = 64)]
    pub timezone: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InvoiceStatus {
    Draft,
    Finalized,
    PartiallyPaid,
    Paid,
    Overdue,
    Void,
}

impl InvoiceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Finalized => "finalized",
            InvoiceStatus::PartiallyPaid => "partially_paid",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Overdue => "overdue",
            InvoiceStatus::Void => "void",
        }
    }

    fn from_db(s: &str) -> Result<Self, StoreError> {
        Ok(match s {
            "draft" => InvoiceStatus::Draft,
            "finalized" => InvoiceStatus::Finalized,
            "partially_paid" => InvoiceStatus::PartiallyPaid,
            "paid" => InvoiceStatus::Paid,
            "overdue" => InvoiceStatus::Overdue,
            "void" => InvoiceStatus::Void,
            other => {
                return Err(StoreError::internal(anyhow::anyhow!(
                    "unknown invoice status {other}"
                )));
            }
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = InvoiceLineItem)]
pub struct InvoiceItem {
    pub id: Uuid,
    pub position: i32,
    /// The engine's item kind (`fixed`, `time`, … `product`), or `manual`.
    pub kind: String,
    pub contract_line_id: Option<Uuid>,
    pub description: String,
    pub minutes: Option<i32>,
    #[schema(value_type = Option<String>)]
    pub quantity: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub rate: Option<Decimal>,
    #[schema(value_type = String)]
    pub amount: Decimal,
    pub taxable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InvoiceTaxRow {
    pub region: String,
    pub name: String,
    #[schema(value_type = String)]
    pub base: Decimal,
    #[schema(value_type = String)]
    pub amount: Decimal,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Invoice {
    pub id: Uuid,
    pub client_id: Uuid,
    /// Taken at finalization; none on drafts.
    pub number: Option<String>,
    pub status: InvoiceStatus,
    /// `run` (an invoice run's, for one billing period) or `manual`.
    pub source: String,
    pub currency: String,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    #[schema(value_type = String)]
    pub subtotal: Decimal,
    #[schema(value_type = String)]
    pub tax_total: Decimal,
    #[schema(value_type = String)]
    pub total: Decimal,
    /// Credits the invoice drew on when finalized.
    #[schema(value_type = String)]
    pub credits_applied: Decimal,
    /// What is still owed: total, less credits applied and what payments put on it (net of
    /// refunds; an over-payment's excess is the client's credit); 0 once void.
    #[schema(value_type = String)]
    pub amount_due: Decimal,
    pub reverse_charge: bool,
    pub note: Option<String>,
    /// What it bills, in order (`items` would read as a page of invoices).
    pub line_items: Vec<InvoiceItem>,
    pub tax: Vec<InvoiceTaxRow>,
    pub created_at: DateTime<Utc>,
    pub finalized_at: Option<DateTime<Utc>>,
    pub voided_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// One line of a manual invoice.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualItem {
    #[schema(max_length = 500)]
    pub description: String,
    /// A non-negative decimal string.
    #[schema(example = "2", max_length = 40)]
    pub quantity: String,
    /// A non-negative decimal string, at most 6 decimals.
    #[schema(example = "95.00", max_length = 40)]
    pub unit_price: String,
    /// Default true: taxed with the client's region.
    pub taxable: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualInvoiceInput {
    pub client_id: Uuid,
    #[schema(min_length = 3, max_length = 3)]
    pub currency: String,
    /// Default: today (UTC).
    pub invoice_date: Option<NaiveDate>,
    /// Default: the invoice date plus the tenant's payment terms.
    pub due_date: Option<NaiveDate>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    pub items: Vec<ManualItem>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualInvoicePatch {
    pub invoice_date: Option<NaiveDate>,
    pub due_date: Option<NaiveDate>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Replaces every item.
    pub items: Option<Vec<ManualItem>>,
}

struct Row {
    id: Uuid,
    client_id: Uuid,
    number: Option<String>,
    status: String,
    source: String,
    currency: String,
    period_start: Option<NaiveDate>,
    period_end: Option<NaiveDate>,
    invoice_date: NaiveDate,
    due_date: NaiveDate,
    subtotal: Decimal,
    tax_total: Decimal,
    total: Decimal,
    credits_applied: Decimal,
    amount_due: Decimal,
    reverse_charge: bool,
    note: Option<String>,
    created_at: DateTime<Utc>,
    finalized_at: Option<DateTime<Utc>>,
    voided_at: Option<DateTime<Utc>>,
    updated_at: DateTime<Utc>,
}

async fn items_of(conn: &mut PgConnection, invoice: Uuid) -> Result<Vec<InvoiceItem>, StoreError> {
    Ok(sqlx::query_as!(
        InvoiceItem,
        "SELECT id, position, kind, contract_line_id, description, minutes, quantity, rate, amount,
                taxable
         FROM invoice_items WHERE invoice_id = $1 ORDER BY position",
        invoice,
    )
    .fetch_all(conn)
    .await?)
}

async fn tax_of(conn: &mut PgConnection, invoice: Uuid) -> Result<Vec<InvoiceTaxRow>, StoreError> {
    Ok(sqlx::query_as!(
        InvoiceTaxRow,
        "SELECT region, name, base, amount FROM invoice_tax WHERE invoice_id = $1 ORDER BY position",
        invoice,
    )
    .fetch_all(conn)
    .await?)
}

async fn assemble(conn: &mut PgConnection, r: Row) -> Result<Invoice, StoreError> {
    let items = items_of(conn, r.id).await?;
    let tax = tax_of(conn, r.id).await?;
    // Money reads with the currency's minor units ("0.00", not the "0" Postgres gives back
    // for a zero).
    let m = billing::InvoiceCurrency::from_code(&r.currency).map_or(2, |c| c.minor_units());
    let money = |mut d: Decimal| {
        d.rescale(m);
        d
    };
    Ok(Invoice {
        id: r.id,
        client_id: r.client_id,
        number: r.number,
        status: InvoiceStatus::from_db(&r.status)?,
        source: r.source,
        currency: r.currency,
        period_start: r.period_start,
        period_end: r.period_end,
        invoice_date: r.invoice_date,
        due_date: r.due_date,
        subtotal: money(r.subtotal),
        tax_total: money(r.tax_total),
        total: money(r.total),
        credits_applied: money(r.credits_applied),
        amount_due: money(r.amount_due),
        reverse_charge: r.reverse_charge,
        note: r.note,
        line_items: items,
        tax,
        created_at: r.created_at,
        finalized_at: r.finalized_at,
        voided_at: r.voided_at,
        updated_at: r.updated_at,
    })
}

async fn load(conn: &mut PgConnection, id: Uuid) -> Result<Row, StoreError> {
    // What is owed: the stored figures less payments net of refunds.
    sqlx::query_as!(
        Row,
        r#"SELECT i.id, i.client_id, i.number, i.status, i.source, i.currency, i.period_start,
                  i.period_end, i.invoice_date, i.due_date, i.subtotal, i.tax_total, i.total,
                  i.credits_applied,
                  CASE WHEN i.status = 'void' THEN 0
                       ELSE i.total - i.credits_applied - coalesce(
                           (SELECT sum(greatest(p.amount - p.refunded - coalesce(
                                       (SELECT sum(l.amount) FROM ledger_transactions l
                                         WHERE l.payment_id = p.id AND l.client_id = p.client_id
                                           AND l.kind = 'credit_issued'), 0), 0))
                              FROM payments p WHERE p.invoice_id = i.id), 0) END AS "amount_due!",
                  i.reverse_charge, i.note, i.created_at, i.finalized_at, i.voided_at,
                  i.updated_at
           FROM invoices i WHERE i.id = $1"#,
        id
    )
    .fetch_optional(conn)
    .await?
    .ok_or(StoreError::NotFound)
}

/// Whether a caller sees this invoice: billing staff see all; a client-portal key sees its own
/// client's invoices once they have a number.
fn visible(p: &Principal, client: Uuid, number: Option<&str>) -> bool {
    p.role != Role::Client || (p.client_id == Some(client) && number.is_some())
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Invoice, StoreError> {
    p.require(Permission::ReadInvoices)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = load(&mut tx, id).await?;
    if !visible(p, row.client_id, row.number.as_deref()) {
        return Err(StoreError::NotFound);
    }
    let out = assemble(&mut tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn list(
    pool: &PgPool,
    p: &Principal,
    client_id: Option<Uuid>,
    status: Option<InvoiceStatus>,
    page: PageRequest,
) -> Result<Page<Invoice>, StoreError> {
    p.require(Permission::ReadInvoices)?;
    let portal = p.role == Role::Client;
    let client_id = if portal { p.client_id } else { client_id };
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Row,
        r#"SELECT i.id, i.client_id, i.number, i.status, i.source, i.currency, i.period_start,
                  i.period_end, i.invoice_date, i.due_date, i.subtotal, i.tax_total, i.total,
                  i.credits_applied,
                  CASE WHEN i.status = 'void' THEN 0
                       ELSE i.total - i.credits_applied - coalesce(
                           (SELECT sum(greatest(p.amount - p.refunded - coalesce(
                                       (SELECT sum(l.amount) FROM ledger_transactions l
                                         WHERE l.payment_id = p.id AND l.client_id = p.client_id
                                           AND l.kind = 'credit_issued'), 0), 0))
                              FROM payments p WHERE p.invoice_id = i.id), 0) END AS "amount_due!",
                  i.reverse_charge, i.note, i.created_at, i.finalized_at, i.voided_at,
                  i.updated_at
           FROM invoices i WHERE ($1::uuid IS NULL OR i.id > $1) AND ($2::uuid IS NULL OR i.client_id = $2)
             AND ($3::text IS NULL OR i.status = $3) AND (NOT $4 OR i.number IS NOT NULL)
           ORDER BY i.id LIMIT $5"#,
        page.after,
        client_id,
        status.map(InvoiceStatus::as_str),
        portal,
        page.fetch(),
    )
    .fetch_all(&mut *tx)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(assemble(&mut tx, r).await?);
    }
    tx.commit().await?;
    Ok(page.finish(out, |i| i.id))
}

/// The tenant's settings row, made with the defaults when missing.
async fn settings_row(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<InvoiceSettings, StoreError> {
    sqlx::query!(
        "INSERT INTO invoice_settings (tenant_id) VALUES ($1) ON CONFLICT DO NOTHING",
        tenant
    )
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as!(
        InvoiceSettings,
        "SELECT prefix, padding, next_number, payment_terms_days, timezone FROM invoice_settings",
    )
    .fetch_one(conn)
    .await?)
}

/// Days from an invoice's date to its due date, from the tenant's settings.
pub(crate) async fn payment_terms_days(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<u64, StoreError> {
    let settings = settings_row(conn, tenant).await?;
    Ok(u64::try_from(settings.payment_terms_days).unwrap_or(0))
}

pub async fn get_settings(pool: &PgPool, p: &Principal) -> Result<InvoiceSettings, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let out = settings_row(&mut tx, p.tenant_id).await?;
    tx.commit().await?;
    Ok(out)
}

pub async fn update_settings(
    pool: &PgPool,
    p: &Principal,
    patch: InvoiceSettingsPatch,
) -> Result<InvoiceSettings, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut e = ValidationErrors::default();
    if let Some(prefix) = &patch.prefix {
        validation::optional_text(&mut e, "prefix", Some(prefix), 20);
    }
    if patch.padding.is_some_and(|n| !(1..=12).contains(&n)) {
        e.push("padding", "must be between 1 and 12");
    }
    if patch
        .next_number
        .is_some_and(|n| !(1..=999_999_999_999).contains(&n))
    {
        e.push("next_number", "must be between 1 and 999999999999");
    }
    if patch
        .payment_terms_days
        .is_some_and(|n| !(0..=365).contains(&n))
    {
        e.push("payment_terms_days", "must be between 0 and 365");
    }
    if let Some(zone) = &patch.timezone
        && (zone.len() > 64 || psa_domain::billing::run::zone(zone).is_none())
    {
        e.push(
            "timezone",
            "must be an IANA time zone name, such as Europe/London",
        );
    }
    crate::check(e.into_result())?;
    let mut tx = tenant::begin(pool, p).await?;
    // Locks the counter: no finalization takes a number while it changes.
    let current = settings_row(&mut tx, p.tenant_id).await?;
    sqlx::query!("SELECT tenant_id FROM invoice_settings FOR UPDATE")
        .fetch_one(&mut *tx)
        .await?;
    if patch.next_number.is_some_and(|n| n != current.next_number) {
        let numbered = sqlx::query_scalar!(
            r#"SELECT count(*) AS "n!" FROM invoices WHERE number IS NOT NULL"#
        )
        .fetch_one(&mut *tx)
        .await?;
        if numbered > 0 {
            return Err(StoreError::WrongState(
                "next_number can only be set before the first invoice is finalized: moving it \
                 later would leave a gap or repeat a number"
                    .into(),
            ));
        }
    }
    let out = sqlx::query_as!(
        InvoiceSettings,
        "UPDATE invoice_settings SET prefix = coalesce($1, prefix), padding = coalesce($2, padding),
                next_number = coalesce($3, next_number),
                payment_terms_days = coalesce($4, payment_terms_days),
                timezone = coalesce($5, timezone), updated_at = now()
         RETURNING prefix, padding, next_number, payment_terms_days, timezone",
        patch.prefix,
        patch.padding,
        patch.next_number,
        patch.payment_terms_days,
        patch.timezone,
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(out)
}

/// The manual items as the engine's request: one product line each, taxed with the client's
/// region; the client's open credits when `credits` (finalization), none for a draft.
fn manual_request(
    currency: &str,
    day: NaiveDate,
    items: &[ManualItem],
    tax: &super::client_preview::ClientTax,
    credits: Vec<Value>,
) -> Result<Value, StoreError> {
    let end = day
        .checked_add_days(Days::new(1))
        .ok_or_else(|| StoreError::invalid("invoice_date", "is out of range"))?;
    let lines: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let taxable = item.taxable.unwrap_or(true);
            let mut l = json!({"id": format!("item-{i}"), "type": "product",
                "unit_price": item.unit_price, "quantity": item.quantity, "taxable": taxable});
            if let (true, Some(r)) = (taxable, &tax.region) {
                l["tax_region"] = json!(r);
            }
            l
        })
        .collect();
    let mut request = json!({"currency": currency, "period": {"start": day, "end": end},
        "lines": lines, "credits": credits});
    if let Some(t) = &tax.object {
        request["tax"] = t.clone();
    }
    Ok(request)
}

/// Runs the engine; its refusals name the item (`items[2].unit_price`).
async fn run_engine(request: Value) -> Result<InvoiceDraft, StoreError> {
    let draft = compute::bounded("the invoice", move || {
        billing::read_request(&request).and_then(|input| billing::compute(&input))
    })
    .await?;
    draft.map_err(|e| {
        let field = e
            .field
            .strip_prefix("lines[")
            .map_or(e.field.clone(), |rest| format!("items[{rest}"));
        StoreError::invalid(&field, e.message)
    })
}

fn check_manual(
    currency: Option<&str>,
    note: Option<&str>,
    items: Option<&[ManualItem]>,
    dates: (Option<NaiveDate>, Option<NaiveDate>),
) -> Result<(), StoreError> {
    let mut e = ValidationErrors::default();
    if let Some(c) = currency {
        fields::currency(&mut e, "currency", c);
    }
    validation::optional_text(&mut e, "note", note, 2000);
    if let Some(items) = items {
        if items.is_empty() || items.len() > MAX_ITEMS {
            e.push("items", format!("must hold 1 to {MAX_ITEMS} items"));
        }
        for (i, item) in items.iter().enumerate() {
            validation::text(
                &mut e,
                &format!("items[{i}].description"),
                &item.description,
                500,
            );
        }
    }
    if let (Some(day), Some(due)) = dates
        && due < day
    {
        e.push("due_date", "must not be before invoice_date");
    }
    crate::check(e.into_result())
}

/// Writes a draft's figures and items (replacing any it had).
async fn write_draft(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    items: &[ManualItem],
    draft: &InvoiceDraft,
) -> Result<(), StoreError> {
    sqlx::query!("DELETE FROM invoice_items WHERE invoice_id = $1", id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!("DELETE FROM invoice_tax WHERE invoice_id = $1", id)
        .execute(&mut *conn)
        .await?;
    for (i, (item, computed)) in items.iter().zip(&draft.items).enumerate() {
        let position = i32::try_from(i).map_err(StoreError::internal)?;
        let amount = computed.amount.value;
        sqlx::query!(
            "INSERT INTO invoice_items (tenant_id, id, invoice_id, position, kind, description,
                 quantity, rate, amount, taxable)
             VALUES ($1, $2, $3, $4, 'manual', $5, $6, $7, $8, $9)",
            tenant,
            new_id(),
            id,
            position,
            item.description.trim(),
            fields::parse_decimal(&item.quantity)?,
            fields::parse_decimal(&item.unit_price)?,
            amount,
            item.taxable.unwrap_or(true),
        )
        .execute(&mut *conn)
        .await?;
    }
    for (i, t) in draft.tax.iter().enumerate() {
        let position = i32::try_from(i).map_err(StoreError::internal)?;
        sqlx::query!(
            "INSERT INTO invoice_tax (tenant_id, invoice_id, position, region, name, base, amount)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            tenant,
            id,
            position,
            t.region,
            t.name,
            t.base.value,
            t.amount.value,
        )
        .execute(&mut *conn)
        .await?;
    }
    sqlx::query!(
        "UPDATE invoices SET subtotal = $2, tax_total = $3, total = $4, reverse_charge = $5,
                updated_at = now()
         WHERE id = $1",
        id,
        draft.subtotal.value,
        draft.tax_total.value,
        draft.total.value,
        draft.reverse_charge,
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// A manual draft: its items priced, taxed and totalled by the engine; no number yet.
pub async fn create_manual(
    pool: &PgPool,
    p: &Principal,
    key: Option<&str>,
    input: ManualInvoiceInput,
) -> Result<Invoice, StoreError> {
    p.require(Permission::ManageBilling)?;
    check_manual(
        Some(&input.currency),
        input.note.as_deref(),
        Some(&input.items),
        (input.invoice_date, input.due_date),
    )?;
    let tenant = p.tenant_id;
    let request = json!({ "table": "invoices", "input": input });
    create_once(pool, p, key, &request, move |conn| {
        Box::pin(async move {
            let tax = client_tax(conn, input.client_id)
                .await
                .map_err(|e| match e {
                    StoreError::NotFound => {
                        StoreError::invalid("client_id", "does not refer to an existing record")
                    }
                    other => other,
                })?;
            let settings = settings_row(conn, tenant).await?;
            let day = input
                .invoice_date
                .unwrap_or_else(|| Utc::now().date_naive());
            let due = match input.due_date {
                Some(d) => d,
                None => u64::try_from(settings.payment_terms_days)
                    .ok()
                    .and_then(|n| day.checked_add_days(Days::new(n)))
                    .ok_or_else(|| StoreError::invalid("invoice_date", "is out of range"))?,
            };
            if due < day {
                return Err(StoreError::invalid(
                    "due_date",
                    "must not be before invoice_date",
                ));
            }
            let draft = run_engine(manual_request(
                &input.currency,
                day,
                &input.items,
                &tax,
                Vec::new(),
            )?)
            .await?;
            let id = new_id();
            sqlx::query!(
                "INSERT INTO invoices (tenant_id, id, client_id, source, currency, invoice_date,
                     due_date, subtotal, tax_total, total, note)
                 VALUES ($1, $2, $3, 'manual', $4, $5, $6, 0, 0, 0, $7)",
                tenant,
                id,
                input.client_id,
                input.currency,
                day,
                due,
                input.note,
            )
            .execute(&mut *conn)
            .await?;
            write_draft(conn, tenant, id, &input.items, &draft).await?;
            let row = load(conn, id).await?;
            assemble(conn, row).await
        })
    })
    .await
}

/// Locks a draft for change: `NotFound`, or `WrongState` once it has been finalized or voided.
async fn lock_draft(conn: &mut PgConnection, id: Uuid) -> Result<Row, StoreError> {
    sqlx::query_scalar!("SELECT id FROM invoices WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(StoreError::NotFound)?;
    let row = load(conn, id).await?;
    if row.status != "draft" {
        return Err(StoreError::WrongState(format!(
            "the invoice is {}; only a draft can change",
            row.status
        )));
    }
    Ok(row)
}

/// The draft's items as they were written, for re-running the engine.
async fn manual_items(conn: &mut PgConnection, id: Uuid) -> Result<Vec<ManualItem>, StoreError> {
    Ok(items_of(conn, id)
        .await?
        .into_iter()
        .map(|i| ManualItem {
            description: i.description,
            quantity: i.quantity.unwrap_or_default().to_string(),
            unit_price: i.rate.unwrap_or_default().to_string(),
            taxable: Some(i.taxable),
        })
        .collect())
}

pub async fn update_manual(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    patch: ManualInvoicePatch,
) -> Result<Invoice, StoreError> {
    p.require(Permission::ManageBilling)?;
    check_manual(
        None,
        patch.note.as_deref(),
        patch.items.as_deref(),
        (patch.invoice_date, patch.due_date),
    )?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = lock_draft(&mut tx, id).await?;
    let day = patch.invoice_date.unwrap_or(row.invoice_date);
    let due = patch.due_date.unwrap_or(row.due_date);
    if due < day {
        return Err(StoreError::invalid(
            "due_date",
            "must not be before invoice_date",
        ));
    }
    let items = match patch.items {
        Some(items) => items,
        None => manual_items(&mut tx, id).await?,
    };
    let tax = client_tax(&mut tx, row.client_id).await?;
    let draft = run_engine(manual_request(
        &row.currency,
        day,
        &items,
        &tax,
        Vec::new(),
    )?)
    .await?;
    sqlx::query!(
        "UPDATE invoices SET invoice_date = $2, due_date = $3, note = coalesce($4, note)
         WHERE id = $1",
        id,
        day,
        due,
        patch.note,
    )
    .execute(&mut *tx)
    .await?;
    write_draft(&mut tx, p.tenant_id, id, &items, &draft).await?;
    let row = load(&mut tx, id).await?;
    let out = assemble(&mut tx, row).await?;
    tx.commit().await?;
    Ok(out)
}

/// Finalizes a draft: recomputes it with the client's tax settings and open credits as they
/// are now, draws the credits down, takes the next number and writes the ledger, all in one
/// transaction.
pub async fn finalize(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Invoice, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let row = lock_draft(&mut tx, id).await?;
    let items = manual_items(&mut tx, id).await?;
    let tax = client_tax(&mut tx, row.client_id).await?;
    // The client's credits in the invoice's currency, locked so two invoices cannot spend the
    // same money.
    let credits = sqlx::query!(
        "SELECT id, remaining, currency, expires_on FROM credits
         WHERE client_id = $1 AND currency = $2 AND remaining > 0 ORDER BY id FOR UPDATE",
        row.client_id,
        row.currency,
    )
    .fetch_all(&mut *tx)
    .await?;
    let credit_inputs = credits
        .iter()
        .map(|c| {
            json!({"id": c.id.to_string(), "amount": c.remaining.to_string(),
                   "currency": c.currency, "expires_on": c.expires_on})
        })
        .collect();
    let draft = run_engine(manual_request(
        &row.currency,
        row.invoice_date,
        &items,
        &tax,
        credit_inputs,
    )?)
    .await?;
    write_draft(&mut tx, p.tenant_id, id, &items, &draft).await?;

    let number = take_numbers(&mut tx, p.tenant_id, 1)
        .await?
        .pop()
        .ok_or_else(|| StoreError::internal(anyhow::anyhow!("no invoice number was taken")))?;
    let applied_total = post(
        &mut tx,
        p.tenant_id,
        row.client_id,
        &row.currency,
        id,
        &draft,
    )
    .await?;
    let total = draft.total.value;
    let status = finalized_status(total, applied_total);
    sqlx::query!(
        "UPDATE invoices SET number = $2, status = $3, credits_applied = $4, finalized_at = now(),
                updated_at = now()
         WHERE id = $1",
        id,
        number,
        status.as_str(),
        applied_total,
    )
    .execute(&mut *tx)
    .await?;
    let row = load(&mut tx, id).await?;
    let out = assemble(&mut tx, row).await?;
    outbox::enqueue(
        &mut tx,
        p,
        Event::InvoiceFinalized(InvoiceFinalized {
            invoice_id: id,
            client_id: out.client_id,
            number,
            total: Money::new(out.total, &out.currency),
            due_date: out.due_date,
        }),
    )
    .await?;
    outbox::commit(tx, pool).await?;
    Ok(out)
}

/// What is still owed on an invoice, as [`Invoice::amount_due`] reads.
pub(crate) async fn amount_due(conn: &mut PgConnection, id: Uuid) -> Result<Decimal, StoreError> {
    Ok(load(conn, id).await?.amount_due)
}

/// The invoice as a billing e-mail shows it; `None` when there is no such invoice.
pub(crate) async fn document(
    conn: &mut PgConnection,
    id: Uuid,
) -> Result<Option<InvoiceDocument>, StoreError> {
    let row = match load(conn, id).await {
        Ok(row) => row,
        Err(StoreError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let i = assemble(conn, row).await?;
    let figures = InvoiceFigures {
        number: i.number,
        status: i.status.as_str().to_owned(),
        currency: i.currency,
        invoice_date: i.invoice_date,
        due_date: i.due_date,
        period_start: i.period_start,
        period_end: i.period_end,
        subtotal: i.subtotal,
        tax_total: i.tax_total,
        total: i.total,
        credits_applied: i.credits_applied,
        amount_due: i.amount_due,
        note: i.note,
    };
    let items = i.line_items.into_iter().map(|item| DocumentItem {
        description: item.description,
        quantity: optional_amount(item.quantity),
        rate: optional_amount(item.rate),
        amount: item.amount.to_string(),
    });
    let tax = i
        .tax
        .into_iter()
        .map(|t| DocumentTax {
            name: t.name,
            amount: t.amount.to_string(),
        })
        .collect();
    Ok(Some(InvoiceDocument::new(figures, items, tax)))
}

/// Takes the tenant's next `n` invoice numbers, formatted. The counter row stays locked until
/// the caller's transaction ends (see the module doc), so numbers are gapless: a rolled-back
/// transaction gives its numbers back.
pub(crate) async fn take_numbers(
    conn: &mut PgConnection,
    tenant: Uuid,
    n: usize,
) -> Result<Vec<String>, StoreError> {
    if n == 0 {
        return Ok(Vec::new());
    }
    settings_row(conn, tenant).await?;
    let count = i64::try_from(n).map_err(StoreError::internal)?;
    let taken = sqlx::query!(
        r#"UPDATE invoice_settings SET next_number = next_number + $1
           RETURNING prefix, padding, next_number - $1 AS "first!""#,
        count,
    )
    .fetch_one(conn)
    .await?;
    let width = usize::try_from(taken.padding).unwrap_or(1);
    Ok((0..count)
        .map(|k| format!("{}{:0width$}", taken.prefix, taken.first + k))
        .collect())
}

/// Posts a computed invoice to the ledger in the caller's transaction: draws down the credits
/// the engine applied (locked by the caller) and records the invoice. Returns what the credits
/// covered.
pub(crate) async fn post(
    conn: &mut PgConnection,
    tenant: Uuid,
    client: Uuid,
    currency: &str,
    invoice: Uuid,
    draft: &InvoiceDraft,
) -> Result<Decimal, StoreError> {
    let mut applied_total = Decimal::ZERO;
    for applied in &draft.credits_applied {
        let credit = Uuid::parse_str(&applied.credit_id).map_err(StoreError::internal)?;
        let amount = applied.amount.value;
        applied_total += amount;
        sqlx::query!(
            "UPDATE credits SET remaining = remaining - $2, updated_at = now() WHERE id = $1",
            credit,
            amount,
        )
        .execute(&mut *conn)
        .await?;
        for account in [Account::Receivable, Account::Credit] {
            ledger::append(
                conn,
                tenant,
                Entry {
                    client_id: client,
                    account,
                    kind: Kind::CreditApplied,
                    amount: -amount,
                    currency,
                    invoice_id: Some(invoice),
                    payment_id: None,
                    credit_id: Some(credit),
                    note: None,
                },
            )
            .await?;
        }
    }
    let total = draft.total.value;
    if !total.is_zero() {
        ledger::append(
            conn,
            tenant,
            Entry {
                client_id: client,
                account: Account::Receivable,
                kind: Kind::Invoice,
                amount: total,
                currency,
                invoice_id: Some(invoice),
                payment_id: None,
                credit_id: None,
                note: None,
            },
        )
        .await?;
    }
    Ok(applied_total)
}

/// The status a just-finalized invoice takes: paid when its credits covered it.
pub(crate) fn finalized_status(total: Decimal, applied: Decimal) -> InvoiceStatus {
    if total - applied <= Decimal::ZERO {
        InvoiceStatus::Paid
    } else {
        InvoiceStatus::Finalized
    }
}

/// Voids an invoice. A draft simply becomes void (it never had a number). A finalized one
/// keeps its number, owes nothing more, and gives back the credits it drew on; one with
/// payments must have them refunded first. The time and usage it billed become billable again.
pub async fn void(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Invoice, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    sqlx::query_scalar!("SELECT id FROM invoices WHERE id = $1 FOR UPDATE", id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(StoreError::NotFound)?;
    let row = load(&mut tx, id).await?;
    match row.status.as_str() {
        "void" => {
            return Err(StoreError::WrongState("the invoice is already void".into()));
        }
        "draft" | "finalized" | "overdue" => {}
        other => {
            return Err(StoreError::WrongState(format!(
                "the invoice is {other}: refund its payments before voiding it"
            )));
        }
    }
    // What payments still put on it (over-payments became credits, refunds came back).
    let paid = super::payments::amount_paid(&mut tx, id).await?;
    if !paid.is_zero() {
        return Err(StoreError::WrongState(
            "payments were made against the invoice: refund them before voiding it".into(),
        ));
    }
    if row.status != "draft" {
        let returned = sqlx::query!(
            "SELECT credit_id AS \"credit_id!\", -sum(amount) AS \"amount!\"
             FROM ledger_transactions
             WHERE invoice_id = $1 AND account = 'credit' AND credit_id IS NOT NULL
             GROUP BY credit_id",
            id
        )
        .fetch_all(&mut *tx)
        .await?;
        for r in returned.iter().filter(|r| r.amount > Decimal::ZERO) {
            sqlx::query!(
                "UPDATE credits SET remaining = remaining + $2, updated_at = now() WHERE id = $1",
                r.credit_id,
                r.amount,
            )
            .execute(&mut *tx)
            .await?;
            ledger::append(
                &mut tx,
                p.tenant_id,
                Entry {
                    client_id: row.client_id,
                    account: Account::Credit,
                    kind: Kind::Void,
                    amount: r.amount,
                    currency: &row.currency,
                    invoice_id: Some(id),
                    payment_id: None,
                    credit_id: Some(r.credit_id),
                    note: None,
                },
            )
            .await?;
        }
        let due = row.amount_due;
        if !due.is_zero() {
            ledger::append(
                &mut tx,
                p.tenant_id,
                Entry {
                    client_id: row.client_id,
                    account: Account::Receivable,
                    kind: Kind::Void,
                    amount: -due,
                    currency: &row.currency,
                    invoice_id: Some(id),
                    payment_id: None,
                    credit_id: None,
                    note: None,
                },
            )
            .await?;
        }
    }
    // The time and usage it billed are billable again: the next run for the period makes a
    // fresh invoice of them (a void invoice no longer holds its period).
    sqlx::query!(
        "UPDATE time_entries SET invoice_item_id = NULL, updated_at = now()
         WHERE invoice_item_id IN (SELECT id FROM invoice_items WHERE invoice_id = $1)",
        id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE usage_records SET invoice_item_id = NULL
         WHERE invoice_item_id IN (SELECT id FROM invoice_items WHERE invoice_id = $1)",
        id
    )
    .execute(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE invoices SET status = 'void', voided_at = now(), updated_at = now() WHERE id = $1",
        id
    )
    .execute(&mut *tx)
    .await?;
    let row = load(&mut tx, id).await?;
    let out = assemble(&mut tx, row).await?;
    tx.commit().await?;
    Ok(out)
}
