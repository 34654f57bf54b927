//! The day's billing upkeep, run for each tenant by its daily Schedule: invoices unpaid past
//! their due date become overdue, and credits past their expiry lapse (their remaining money
//! leaves the client's credit account through a `credit_expired` ledger row). Both are
//! idempotent: a second run on the same day finds nothing left to change. Each invoice that
//! turns overdue raises `invoice.overdue` (its client's billing contact gets a reminder).

use super::invoices;
use super::ledger::{self, Account, Entry, Kind};
use crate::error::StoreError;
use crate::{outbox, tenant};
use chrono::{NaiveDate, Utc};
use psa_domain::billing::run::UpkeepOutcome;
use psa_domain::events::{Actor, Envelope, Event, InvoiceOverdue};
use psa_domain::ids::new_id;
use psa_domain::money::Money;
use sqlx::PgPool;
use uuid::Uuid;

/// Tenants and the zone their billing days are counted in (across tenants, for the worker
/// that keeps their Schedules).
pub async fn zones(pool: &PgPool) -> Result<Vec<(Uuid, String)>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", timezone AS "timezone!" FROM billing_schedule_zones()"#
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.tenant_id, r.timezone))
        .collect())
}

/// Runs the upkeep of `day` (the tenant's local date) for `tenant`.
pub async fn run(pool: &PgPool, tenant: Uuid, day: NaiveDate) -> Result<UpkeepOutcome, StoreError> {
    let mut tx = tenant::begin_for(pool, tenant).await?;
    let overdue = sqlx::query!(
        "UPDATE invoices SET status = 'overdue', updated_at = now()
         WHERE status IN ('finalized', 'partially_paid') AND due_date < $1
         RETURNING id, client_id, due_date, currency",
        day
    )
    .fetch_all(&mut *tx)
    .await?;
    let now = Utc::now();
    let mut reminders = Vec::with_capacity(overdue.len());
    for i in &overdue {
        let balance = invoices::amount_due(&mut tx, i.id).await?;
        reminders.push(Envelope {
            event_id: new_id(),
            tenant_id: tenant,
            occurred_at: now,
            actor: Actor::System,
            event: Event::InvoiceOverdue(InvoiceOverdue {
                invoice_id: i.id,
                client_id: i.client_id,
                due_date: i.due_date,
                balance: Money::new(balance.max(rust_decimal::Decimal::ZERO), &i.currency),
            }),
        });
    }
    outbox::enqueue_many(&mut tx, &reminders).await?;
    // A credit can be used through its expiry day.
    let lapsed = sqlx::query!(
        "UPDATE credits c SET remaining = 0, updated_at = now()
         FROM (SELECT id, remaining FROM credits
               WHERE expires_on < $1 AND remaining > 0 FOR UPDATE) old
         WHERE c.id = old.id
         RETURNING c.id, c.client_id, c.currency, old.remaining",
        day
    )
    .fetch_all(&mut *tx)
    .await?;
    for c in &lapsed {
        ledger::append(
            &mut tx,
            tenant,
            Entry {
                client_id: c.client_id,
                account: Account::Credit,
                kind: Kind::CreditExpired,
                amount: -c.remaining,
                currency: &c.currency,
                invoice_id: None,
                payment_id: None,
                credit_id: Some(c.id),
                note: None,
            },
        )
        .await?;
    }
    outbox::commit(tx, pool).await?;
    Ok(UpkeepOutcome {
        invoices_overdue: u32::try_from(overdue.len()).unwrap_or(u32::MAX),
        credits_expired: u32::try_from(lapsed.len()).unwrap_or(u32::MAX),
    })
}
