//! One activity of an invoice run: bills a batch of clients in one transaction, each invoice
//! inside its own savepoint.
//!
//! Exactly once per client period: an invoice is claimed by inserting its row under the unique
//! index `invoices_run_period` (client, period start, currency, while not void) before anything
//! else is written, so a retried activity, a second run over the same days or a batch replayed
//! after a worker was killed finds the row and moves on, and a concurrent one waits on the index
//! until the first commits and then moves on. Nothing is checked before the insert: the check
//! is the insert.
//!
//! Each invoice is computed by the engine from the request [`client_preview::build`] makes
//! (what `POST /v1/clients/{id}/invoice-preview` answers), written with its items, tax and
//! ledger rows, and finalized: the time entries and usage it bills are marked with their items,
//! and the credits it applied drawn down, in the same savepoint. Numbers are taken for the
//! whole batch at its end, so the tenant's counter is locked only for the moment before the
//! commit and stays gapless. A client whose data the engine refuses is rolled back to its
//! savepoint and reported; the others commit.

use super::client_preview::{self, Built, CreditRead, Lookups};
use super::invoices::{self, finalized_status};
use super::{credits, runs};
use crate::error::StoreError;
use crate::{outbox, tenant};
use chrono::{Days, NaiveDate, Utc};
use psa_domain::billing::run::{BatchOutcome, BatchRequest, ClientFailure};
use psa_domain::billing::{self, DueInvoice, InvoiceDraft, ItemKind};
use psa_domain::events::{Actor, Envelope, Event, InvoiceGenerated};
use psa_domain::ids::new_id;
use psa_domain::money::Money;
use rust_decimal::Decimal;
use sqlx::{Acquire, PgConnection, PgPool};
use std::collections::HashMap;
use uuid::Uuid;

/// An invoice written in this batch, waiting for its number.
struct Written {
    id: Uuid,
    client: Uuid,
    currency: String,
    period_start: NaiveDate,
    period_end: NaiveDate,
    total: Decimal,
    applied: Decimal,
}

enum Billed {
    Written(Written),
    /// A run invoice for the period exists already.
    Already,
    /// Nothing to bill.
    Empty,
}

/// Bills the batch's clients; see the module doc.
pub async fn bill_batch(pool: &PgPool, req: &BatchRequest) -> Result<BatchOutcome, StoreError> {
    let run = runs::parse_period(&req.period)?;
    let mut tx = tenant::begin_for(pool, req.tenant_id).await?;
    // The foreign-key checks of the rows a run writes (items, the entries naming them) run
    // plans Postgres keeps per connection; made while `invoice_items` was small, they scan
    // it whole and a run slows as it fills the table. Planned afresh each time, they probe
    // the key as the table grows.
    sqlx::query!("SET LOCAL plan_cache_mode = force_custom_plan")
        .execute(&mut *tx)
        .await?;
    let terms_days = invoices::payment_terms_days(&mut tx, req.tenant_id).await?;
    let due = runs::due(&mut tx, run, &req.clients).await?;
    // Most clients hold no credit: only those that do have theirs read (locked) one by one.
    let clients: Vec<Uuid> = due.iter().map(|(c, _)| *c).collect();
    let with_credit = credits::holders(&mut tx, &clients).await?;
    let mut lookups = Lookups::default();
    let mut outcome = BatchOutcome::default();
    let mut written = Vec::new();
    for (client, list) in due {
        let mut failure = None;
        for d in &list {
            let mut sp = (&mut *tx).begin().await?;
            let credit_read = if with_credit.contains(&client) {
                CreditRead::Locked
            } else {
                CreditRead::NoneOpen
            };
            let billed = bill_one(
                &mut sp,
                req.tenant_id,
                client,
                d,
                terms_days,
                credit_read,
                &mut lookups,
            );
            match billed.await {
                Ok(Billed::Written(w)) => {
                    sp.commit().await?;
                    outcome.invoiced += 1;
                    written.push(w);
                }
                Ok(Billed::Already) => {
                    sp.rollback().await?;
                    outcome.already += 1;
                }
                Ok(Billed::Empty) => {
                    sp.rollback().await?;
                    outcome.empty += 1;
                }
                // The database is away: the whole batch is retried, nothing is reported.
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => {
                    sp.rollback().await?;
                    tracing::warn!(%client, period_start = %d.period_start, error = %e,
                        "invoice run: the client's invoice could not be made");
                    failure.get_or_insert_with(|| ClientFailure {
                        client_id: client,
                        reason: format!("period starting {}: {e}", d.period_start),
                    });
                }
            }
        }
        outcome.failed.extend(failure);
    }
    let numbers = invoices::take_numbers(&mut tx, req.tenant_id, written.len()).await?;
    let ids: Vec<Uuid> = written.iter().map(|w| w.id).collect();
    let statuses: Vec<String> = written
        .iter()
        .map(|w| finalized_status(w.total, w.applied).as_str().to_owned())
        .collect();
    let applied: Vec<Decimal> = written.iter().map(|w| w.applied).collect();
    sqlx::query!(
        "UPDATE invoices i SET number = n.number, status = n.status, credits_applied = n.applied,
                finalized_at = now(), updated_at = now()
         FROM unnest($1::uuid[], $2::text[], $3::text[], $4::numeric[])
              AS n(id, number, status, applied)
         WHERE i.id = n.id",
        &ids,
        &numbers,
        &statuses,
        &applied,
    )
    .execute(&mut *tx)
    .await?;
    // Each invoice announces itself once, committed with it (the client's billing contact is
    // e-mailed from the event).
    let now = Utc::now();
    let events: Vec<Envelope> = written
        .into_iter()
        .zip(numbers)
        .map(|(w, number)| Envelope {
            event_id: new_id(),
            tenant_id: req.tenant_id,
            occurred_at: now,
            actor: Actor::System,
            event: Event::InvoiceGenerated(InvoiceGenerated {
                invoice_id: w.id,
                client_id: w.client,
                number,
                total: Money::new(w.total, &w.currency),
                period_start: w.period_start,
                period_end: w.period_end,
            }),
        })
        .collect();
    outbox::enqueue_many(&mut tx, &events).await?;
    outbox::commit(tx, pool).await?;
    Ok(outcome)
}

/// Bills one client period inside the caller's savepoint.
async fn bill_one(
    conn: &mut PgConnection,
    tenant: Uuid,
    client: Uuid,
    due: &DueInvoice,
    terms_days: u64,
    credit_read: CreditRead,
    lookups: &mut Lookups,
) -> Result<Billed, StoreError> {
    let out_of_range = || StoreError::invalid("period_start", "is out of range");
    let invoice_date = due.billing_day;
    let due_date = invoice_date
        .checked_add_days(Days::new(terms_days))
        .ok_or_else(out_of_range)?;
    let currency = Some(due.currency.as_str());
    let built = client_preview::build(
        conn,
        client,
        due.period_start,
        currency,
        credit_read,
        lookups,
    )
    .await?;
    let request = built.request.clone();
    let draft = crate::compute::bounded("the invoice", move || {
        billing::read_request(&request).and_then(|input| billing::compute(&input))
    })
    .await?
    .map_err(|e| StoreError::invalid(&e.field, e.message))?;
    if draft.items.is_empty() {
        // Nothing to bill, or nothing left because the period's invoice took it.
        let made = runs::already_made(conn, client, due).await?;
        return Ok(if made { Billed::Already } else { Billed::Empty });
    }
    // The claim: see the module doc.
    let id = new_id();
    let claimed = sqlx::query_scalar!(
        "INSERT INTO invoices (tenant_id, id, client_id, source, currency, period_start,
             period_end, invoice_date, due_date, subtotal, tax_total, total, reverse_charge)
         VALUES ($1, $2, $3, 'run', $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (tenant_id, client_id, period_start, currency)
            WHERE source = 'run' AND status <> 'void' DO NOTHING
         RETURNING id",
        tenant,
        id,
        client,
        due.currency,
        due.period_start,
        built.period_end,
        invoice_date,
        due_date,
        draft.subtotal.value,
        draft.tax_total.value,
        draft.total.value,
        draft.reverse_charge,
    )
    .fetch_optional(&mut *conn)
    .await?;
    if claimed.is_none() {
        return Ok(Billed::Already);
    }
    write_items(conn, tenant, id, &built, &draft, due.period_start).await?;
    let applied = invoices::post(conn, tenant, client, &built.currency, id, &draft).await?;
    Ok(Billed::Written(Written {
        id,
        client,
        currency: built.currency.clone(),
        period_start: due.period_start,
        period_end: built.period_end,
        total: draft.total.value,
        applied,
    }))
}

/// The draft's items and tax rows, and the time and usage they bill marked with them.
async fn write_items(
    conn: &mut PgConnection,
    tenant: Uuid,
    invoice: Uuid,
    built: &Built,
    draft: &InvoiceDraft,
    period_start: NaiveDate,
) -> Result<(), StoreError> {
    let n = draft.items.len();
    let mut ids = Vec::with_capacity(n);
    let mut positions = Vec::with_capacity(n);
    let mut kinds = Vec::with_capacity(n);
    let mut lines = Vec::with_capacity(n);
    let mut texts = Vec::with_capacity(n);
    let mut minutes = Vec::with_capacity(n);
    let mut quantities = Vec::with_capacity(n);
    let mut rates = Vec::with_capacity(n);
    let mut amounts = Vec::with_capacity(n);
    let mut taxable = Vec::with_capacity(n);
    let mut allocations = Vec::with_capacity(n);
    // The item that bills each time entry, and each line's first item.
    let mut by_entry: HashMap<&str, Uuid> = HashMap::new();
    let mut by_line: HashMap<&str, Uuid> = HashMap::new();
    let taxable_lines = taxable_lines(&built.request);
    for (i, item) in draft.items.iter().enumerate() {
        let item_id = new_id();
        ids.push(item_id);
        positions.push(i32::try_from(i).map_err(StoreError::internal)?);
        kinds.push(kind_name(item.kind).to_owned());
        let line = built.lines.get(&item.line_id).copied();
        lines.push(line);
        texts.push(
            built
                .descriptions
                .get(&item.line_id)
                .cloned()
                .unwrap_or_else(|| default_description(item.kind, period_start)),
        );
        minutes.push(item.minutes.map(|m| i32::try_from(m).unwrap_or(i32::MAX)));
        quantities.push(item.quantity.map(|q| q.0));
        rates.push(item.rate.map(|r| r.0));
        amounts.push(item.amount.value);
        taxable.push(
            taxable_lines
                .get(item.line_id.as_str())
                .copied()
                .unwrap_or(false),
        );
        allocations.push(
            item.allocations
                .as_ref()
                .map(serde_json::to_value)
                .transpose()
                .map_err(StoreError::internal)?,
        );
        if let Some(entry) = &item.entry_id {
            by_entry.entry(entry.as_str()).or_insert(item_id);
        }
        by_line.entry(item.line_id.as_str()).or_insert(item_id);
    }
    sqlx::query!(
        "INSERT INTO invoice_items (tenant_id, id, invoice_id, position, kind, contract_line_id,
             description, minutes, quantity, rate, amount, taxable, allocations)
         SELECT $1, x.id, $2, x.position, x.kind, x.line, x.description, x.minutes, x.quantity,
                x.rate, x.amount, x.taxable, x.allocations
         FROM unnest($3::uuid[], $4::int[], $5::text[], $6::uuid[], $7::text[], $8::int[],
                     $9::numeric[], $10::numeric[], $11::numeric[], $12::bool[], $13::jsonb[])
              AS x(id, position, kind, line, description, minutes, quantity, rate, amount,
                   taxable, allocations)",
        tenant,
        invoice,
        &ids,
        &positions,
        &kinds,
        &lines as &[Option<Uuid>],
        &texts,
        &minutes as &[Option<i32>],
        &quantities as &[Option<Decimal>],
        &rates as &[Option<Decimal>],
        &amounts,
        &taxable,
        &allocations as &[Option<serde_json::Value>],
    )
    .execute(&mut *conn)
    .await?;
    for (i, t) in draft.tax.iter().enumerate() {
        sqlx::query!(
            "INSERT INTO invoice_tax (tenant_id, invoice_id, position, region, name, base, amount)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            tenant,
            invoice,
            i32::try_from(i).map_err(StoreError::internal)?,
            t.region,
            t.name,
            t.base.value,
            t.amount.value,
        )
        .execute(&mut *conn)
        .await?;
    }

    // Time an item bills is marked with it (a bucket's with its fee); time and usage the engine
    // took but billed nothing for are marked with their line's first item, so they are not
    // offered again next period.
    let (mut entry_ids, mut entry_items) = (Vec::new(), Vec::new());
    for (entry, line) in &built.time {
        let key = entry.to_string();
        if let Some(item) = by_entry
            .get(key.as_str())
            .or_else(|| by_line.get(line.as_str()))
        {
            entry_ids.push(*entry);
            entry_items.push(*item);
        }
    }
    let mut marked = 0;
    if !entry_ids.is_empty() {
        marked = sqlx::query!(
            "UPDATE time_entries e SET invoice_item_id = m.item, updated_at = now()
             FROM unnest($1::uuid[], $2::uuid[]) AS m(id, item)
             WHERE e.id = m.id AND e.invoice_item_id IS NULL",
            &entry_ids,
            &entry_items,
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    let (mut usage_ids, mut usage_items) = (Vec::new(), Vec::new());
    for (record, line) in &built.usage {
        if let Some(item) = by_line.get(line.as_str()) {
            usage_ids.push(*record);
            usage_items.push(*item);
        }
    }
    let mut marked_usage = 0;
    if !usage_ids.is_empty() {
        marked_usage = sqlx::query!(
            "UPDATE usage_records u SET invoice_item_id = m.item
             FROM unnest($1::uuid[], $2::uuid[]) AS m(id, item)
             WHERE u.id = m.id AND u.invoice_item_id IS NULL",
            &usage_ids,
            &usage_items,
        )
        .execute(&mut *conn)
        .await?
        .rows_affected();
    }
    // Another invoice took some of them after they were read (a manual change under way):
    // this client is retried rather than billing them twice.
    if usize::try_from(marked).ok() != Some(entry_ids.len())
        || usize::try_from(marked_usage).ok() != Some(usage_ids.len())
    {
        return Err(StoreError::WrongState(
            "time or usage of the period was invoiced while the invoice was being made".into(),
        ));
    }
    Ok(())
}

/// Each engine line's `taxable` flag in the request.
fn taxable_lines(request: &serde_json::Value) -> HashMap<&str, bool> {
    request["lines"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| Some((l["id"].as_str()?, l["taxable"].as_bool().unwrap_or(false))))
        .collect()
}

fn kind_name(kind: ItemKind) -> &'static str {
    match kind {
        ItemKind::Fixed => "fixed",
        ItemKind::Time => "time",
        ItemKind::Overtime => "overtime",
        ItemKind::BucketFee => "bucket_fee",
        ItemKind::BucketOverage => "bucket_overage",
        ItemKind::Usage => "usage",
        ItemKind::Product => "product",
        ItemKind::Discount => "discount",
    }
}

fn default_description(kind: ItemKind, period_start: NaiveDate) -> String {
    format!("{} from {period_start}", kind_name(kind).replace('_', " "))
}
