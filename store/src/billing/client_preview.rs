//! `POST /v1/clients/{id}/invoice-preview`: the invoice one client's stored data would make
//! for the period starting on a given day. It writes the same request the stateless preview
//! takes (contract lines, approved uninvoiced time, uninvoiced usage, tax, open credits) and
//! hands it to the same engine, so the two paths cannot disagree.
//!
//! How stored records become the engine's input:
//! - Assignments take part when the day is the start of one of their billing periods and they
//!   cover a day of it; all that take part must be in one currency (or the caller names one)
//!   and share the period's end.
//! - Each line of their contracts, in assignment then line order, is one engine line (its id
//!   the contract line's id). Fixed lines are active only over the assignment's dates, so a
//!   client joining mid-period pays the prorated part. A price a line leaves out is its
//!   service's default rate in the invoice's currency. A line is taxable when it and its
//!   service are, with the client's region.
//! - Arrears assignments bill the period's time and usage; advance ones bill the previous
//!   period's, next to this period's fixed fees.
//! - A time entry goes to the first hourly or bucket line of its service whose assignment's
//!   window holds its day, else to the first such line with no service; usage goes to the
//!   first usage line of its service. What no line takes is not billed.
//! - Bucket rollover carried in from earlier invoices is not yet recorded (invoice runs will
//!   record it) and counts as 0.

use super::assignments::{self, Assignment};
use super::contracts::{self, ContractLine, LineKind};
use super::{credits, tax, time_entries, usage};
use crate::compute;
use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use chrono::{Duration, NaiveDate};
use psa_domain::auth::Permission;
use psa_domain::billing::{
    self, CycleError, MAX_PERIOD_DAYS, Timing, period_starting, previous_period,
};
use psa_domain::validation::{FieldError, ValidationErrors};
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// One assignment taking part, with the days whose time and usage it bills.
struct Part {
    assignment: Assignment,
    lines: Vec<ContractLine>,
    /// `[from, to)`: the days of time and usage this invoice bills for it, within its dates.
    window: Option<(NaiveDate, NaiveDate)>,
}

/// Contract lines and services read once per transaction and kept: an invoice run's batch bills
/// many clients on the same few contracts.
#[derive(Default)]
pub(crate) struct Lookups {
    lines: HashMap<Uuid, Vec<ContractLine>>,
    services: HashMap<Uuid, ServiceTerms>,
}

/// How [`build`] reads the client's open credits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CreditRead {
    Plain,
    /// Locked until the caller's transaction ends, so no other invoice spends them meanwhile.
    Locked,
    /// The caller knows the client has none.
    NoneOpen,
}

fn invalid(field: &str, message: impl Into<String>) -> StoreError {
    StoreError::invalid(field, message)
}

/// The invoice draft for `client`'s period starting on `period_start`, in the preview
/// contract's response shape.
pub async fn preview(
    pool: &sqlx::PgPool,
    p: &Principal,
    client: Uuid,
    period_start: NaiveDate,
    currency: Option<&str>,
) -> Result<Value, StoreError> {
    let request = request(pool, p, client, period_start, currency).await?;
    compute::bounded("the preview", move || billing::preview(&request))
        .await?
        // The stored records were checked when written; a refusal here means they no longer
        // fit together (a rate missing for this currency, say): the caller fixes the data.
        .map_err(|e| {
            StoreError::Invalid(ValidationErrors(vec![FieldError::new(e.field, e.message)]))
        })
}

/// The stateless preview request the client's stored data makes for the period starting on
/// `period_start`.
pub async fn request(
    pool: &sqlx::PgPool,
    p: &Principal,
    client: Uuid,
    period_start: NaiveDate,
    currency: Option<&str>,
) -> Result<Value, StoreError> {
    p.require(Permission::ManageBilling)?;
    let mut tx = tenant::begin(pool, p).await?;
    let built = build(
        &mut tx,
        client,
        period_start,
        currency,
        CreditRead::Plain,
        &mut Lookups::default(),
    )
    .await?;
    tx.commit().await?;
    Ok(built.request)
}

/// The engine request for one client period, and what in it stands for which stored record:
/// an invoice run writes the items with these links.
pub(crate) struct Built {
    pub request: Value,
    pub currency: String,
    pub period_end: NaiveDate,
    /// Engine line id → the contract line it is.
    pub lines: HashMap<String, Uuid>,
    /// Engine line id → what an invoice item of it is called: the line's description, else its
    /// service's name.
    pub descriptions: HashMap<String, String>,
    /// Each stored time entry in the request, with the engine line that bills it.
    pub time: Vec<(Uuid, String)>,
    /// Each stored usage record in the request, with the engine line that bills it.
    pub usage: Vec<(Uuid, String)>,
}

/// [`request`] in the caller's transaction, with the links an invoice run needs.
pub(crate) async fn build(
    conn: &mut PgConnection,
    client: Uuid,
    period_start: NaiveDate,
    currency: Option<&str>,
    credit_read: CreditRead,
    lookups: &mut Lookups,
) -> Result<Built, StoreError> {
    let tax = client_tax(conn, client).await?;
    let far = period_start
        .checked_add_signed(Duration::days(MAX_PERIOD_DAYS))
        .ok_or_else(|| invalid("period_start", "is out of range"))?;
    let candidates = assignments::active_in(conn, client, period_start, far).await?;
    let (period_end, parts) =
        participants(conn, candidates, period_start, currency, lookups).await?;
    let currency = parts[0].assignment.currency.clone();

    let service_rates = services_of(conn, &parts, lookups).await?;
    let mut lines = Vec::new();
    let mut line_ids = HashMap::new();
    let mut descriptions = HashMap::new();
    // Per part, the engine id of each of its lines, in order.
    let mut ids: Vec<Vec<String>> = Vec::new();
    for part in &parts {
        let mut part_ids = Vec::new();
        for line in &part.lines {
            let mut id = line.id.to_string();
            if line_ids.contains_key(&id) {
                id = format!("{}@{}", line.id, part.assignment.id);
            }
            line_ids.insert(id.clone(), line.id);
            let service = line.service_id.and_then(|s| service_rates.get(&s));
            if let Some(text) = line
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .or(service.map(|s| s.name.as_str()))
            {
                descriptions.insert(id.clone(), text.to_owned());
            }
            if let Some(l) = engine_line(
                &id,
                line,
                part,
                &currency,
                &service_rates,
                tax.region.as_deref(),
            )? {
                lines.push(l);
                part_ids.push(id);
            } else {
                part_ids.push(String::new());
            }
        }
        ids.push(part_ids);
    }

    let time = time_for(conn, client, &parts, &ids).await?;
    let usage = usage_for(conn, client, &parts, &ids).await?;
    let open = match credit_read {
        CreditRead::Plain => credits::open_of(conn, client).await?,
        CreditRead::Locked => credits::open_of_locked(conn, client).await?,
        CreditRead::NoneOpen => Vec::new(),
    };
    let credits = open
        .into_iter()
        .map(|c| {
            json!({"id": c.id.to_string(), "amount": c.remaining.to_string(),
                   "currency": c.currency, "expires_on": c.expires_on})
        })
        .collect::<Vec<_>>();

    let mut request = json!({
        "currency": currency,
        "period": {"start": period_start, "end": period_end},
        "lines": lines,
        "time_entries": time.iter().map(|(id, line, minutes)| {
            json!({"id": id.to_string(), "line": line, "minutes": minutes})
        }).collect::<Vec<_>>(),
        "usage": usage.iter().map(|(_, line, quantity)| {
            json!({"line": line, "quantity": quantity.to_string()})
        }).collect::<Vec<_>>(),
        "credits": credits,
    });
    if let Some(t) = tax.object {
        request["tax"] = t;
    }
    Ok(Built {
        request,
        currency,
        period_end,
        lines: line_ids,
        descriptions,
        time: time.into_iter().map(|(id, line, _)| (id, line)).collect(),
        usage: usage.into_iter().map(|(id, line, _)| (id, line)).collect(),
    })
}

/// How a client is taxed, in the engine's terms.
pub(crate) struct ClientTax {
    /// The request's `tax` object; none when the client is not taxed at all.
    pub object: Option<Value>,
    /// The region taxable lines name.
    pub region: Option<String>,
}

/// The client's tax settings as the engine takes them; `NotFound` for no such client.
pub(crate) async fn client_tax(
    conn: &mut PgConnection,
    client: Uuid,
) -> Result<ClientTax, StoreError> {
    let settings = tax::settings_of(conn, client).await?;
    let region = match settings.region_id {
        Some(id) => tax::region(conn, id).await?,
        None => None,
    };
    if region.is_none() && !settings.exempt && !settings.reverse_charge {
        return Ok(ClientTax {
            object: None,
            region: None,
        });
    }
    let mut regions = Map::new();
    if let Some(r) = &region {
        regions.insert(r.name.clone(), r.components.clone());
    }
    Ok(ClientTax {
        object: Some(json!({
            "exempt": settings.exempt,
            "reverse_charge": settings.reverse_charge,
            "regions": regions,
        })),
        region: region.map(|r| r.name),
    })
}

/// The assignments billing on `period_start`, with the period's end.
async fn participants(
    conn: &mut PgConnection,
    candidates: Vec<Assignment>,
    period_start: NaiveDate,
    currency: Option<&str>,
    lookups: &mut Lookups,
) -> Result<(NaiveDate, Vec<Part>), StoreError> {
    let mut parts: Vec<(NaiveDate, Assignment)> = Vec::new();
    let mut next_start: Option<NaiveDate> = None;
    for a in candidates {
        if currency.is_some_and(|c| c != a.currency) {
            continue;
        }
        match period_starting(a.billing_cycle, a.anchor, a.start_date, period_start) {
            Ok((_, end)) => {
                let last = a.end_date.unwrap_or(NaiveDate::MAX);
                if a.start_date < end && last >= period_start {
                    parts.push((end, a));
                }
            }
            Err(CycleError::NotAPeriodStart { next }) => {
                next_start = Some(next_start.map_or(next, |n| n.min(next)));
            }
            Err(_) => {}
        }
    }
    let Some((end, first)) = parts.first().map(|(e, a)| (*e, a.clone())) else {
        let hint = next_start
            .map(|n| format!("; the client's next billing period starts on {n}"))
            .unwrap_or_default();
        return Err(invalid(
            "period_start",
            format!("no billing period of the client's contracts starts on this day{hint}"),
        ));
    };
    if let Some((_, other)) = parts.iter().find(|(_, a)| a.currency != first.currency) {
        return Err(invalid(
            "currency",
            format!(
                "the client is billed in {} and {} for this period; name one",
                first.currency, other.currency
            ),
        ));
    }
    if let Some((other_end, other)) = parts.iter().find(|(e, _)| *e != end) {
        return Err(invalid(
            "period_start",
            format!(
                "the client's assignments {} and {} have periods ending on {end} and {other_end}; \
                 their invoices are made separately",
                first.id, other.id
            ),
        ));
    }
    let mut out = Vec::with_capacity(parts.len());
    for (end, a) in parts {
        let lines = match lookups.lines.get(&a.contract_id) {
            Some(lines) => lines.clone(),
            None => {
                let lines = contracts::lines_of(conn, a.contract_id).await?;
                lookups.lines.insert(a.contract_id, lines.clone());
                lines
            }
        };
        let (from, to) = match a.timing {
            Timing::Arrears => (period_start, end),
            Timing::Advance => {
                previous_period(a.billing_cycle, a.anchor, a.start_date, period_start)
                    .map_err(|e| invalid("period_start", e.to_string()))?
            }
        };
        // Clip to the assignment's own days: end_date is inclusive.
        let from = from.max(a.start_date);
        let to = a
            .end_date
            .and_then(|d| d.succ_opt())
            .map_or(to, |last| to.min(last));
        let window = (from < to).then_some((from, to));
        out.push(Part {
            assignment: a,
            lines,
            window,
        });
    }
    Ok((end, out))
}

/// Each service the parts' lines name: taxable, and its default rates.
/// What the invoice needs of a service its lines name.
#[derive(Clone)]
struct ServiceTerms {
    name: String,
    taxable: bool,
    /// Default rate by currency.
    rates: HashMap<String, String>,
}

async fn services_of(
    conn: &mut PgConnection,
    parts: &[Part],
    lookups: &mut Lookups,
) -> Result<HashMap<Uuid, ServiceTerms>, StoreError> {
    let wanted: HashSet<Uuid> = parts
        .iter()
        .flat_map(|p| p.lines.iter().filter_map(|l| l.service_id))
        .collect();
    let missing: Vec<Uuid> = wanted
        .iter()
        .filter(|id| !lookups.services.contains_key(id))
        .copied()
        .collect();
    if !missing.is_empty() {
        lookups
            .services
            .extend(read_services(conn, &missing).await?);
    }
    Ok(wanted
        .into_iter()
        .filter_map(|id| Some((id, lookups.services.get(&id)?.clone())))
        .collect())
}

async fn read_services(
    conn: &mut PgConnection,
    ids: &[Uuid],
) -> Result<HashMap<Uuid, ServiceTerms>, StoreError> {
    let rows = sqlx::query!(
        r#"SELECT id, name, taxable,
                  rates AS "rates: sqlx::types::Json<HashMap<String, String>>"
           FROM services WHERE id = ANY($1)"#,
        ids,
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let terms = ServiceTerms {
                name: r.name,
                taxable: r.taxable,
                rates: r.rates.0,
            };
            (r.id, terms)
        })
        .collect())
}

/// One contract line as the engine's line, or `None` when a fixed line covers none of the
/// assignment's days.
fn engine_line(
    id: &str,
    line: &ContractLine,
    part: &Part,
    currency: &str,
    services: &HashMap<Uuid, ServiceTerms>,
    region: Option<&str>,
) -> Result<Option<Value>, StoreError> {
    let mut l = match &line.terms {
        Value::Object(t) => t.clone(),
        _ => Map::new(),
    };
    let service = line.service_id.and_then(|s| services.get(&s));
    if let Some(field) = line.kind.price_field() {
        let has_tiers = line.kind == LineKind::Usage && l.contains_key("tiers");
        if !l.contains_key(field) && !has_tiers {
            let rate = service.and_then(|s| s.rates.get(currency)).ok_or_else(|| {
                invalid(
                    &format!("lines.{}.terms.{field}", line.id),
                    format!("is not set, and the line's service has no rate in {currency}"),
                )
            })?;
            l.insert(field.into(), Value::String(rate.clone()));
        }
    }
    if line.kind == LineKind::Fixed {
        let a = &part.assignment;
        let date = |k: &str| {
            l.get(k)
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<NaiveDate>().ok())
        };
        let from = date("active_from").map_or(a.start_date, |d| d.max(a.start_date));
        let after_last = a.end_date.and_then(|d| d.succ_opt());
        let to = match (date("active_to"), after_last) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        };
        if to.is_some_and(|to| to <= from) {
            return Ok(None);
        }
        l.insert("active_from".into(), json!(from));
        if let Some(to) = to {
            l.insert("active_to".into(), json!(to));
        }
    }
    let taxable = line.taxable && service.is_none_or(|s| s.taxable);
    l.insert("id".into(), json!(id));
    l.insert("type".into(), json!(line.kind.as_str()));
    l.insert("taxable".into(), json!(taxable));
    if let (true, Some(r)) = (taxable, region) {
        l.insert("tax_region".into(), json!(r));
    }
    Ok(Some(Value::Object(l)))
}

/// The engine line that bills something of `service` on `day`: the first line of a matching
/// kind whose part's window holds the day, preferring one of that service over one of none.
fn line_for<'a>(
    parts: &[Part],
    ids: &'a [Vec<String>],
    service: Uuid,
    day: NaiveDate,
    kind_ok: impl Fn(LineKind) -> bool,
    allow_unnamed: bool,
) -> Option<&'a str> {
    let mut fallback = None;
    for (part, part_ids) in parts.iter().zip(ids) {
        let Some((from, to)) = part.window else {
            continue;
        };
        if day < from || day >= to {
            continue;
        }
        for (line, id) in part.lines.iter().zip(part_ids) {
            if id.is_empty() || !kind_ok(line.kind) {
                continue;
            }
            match line.service_id {
                Some(s) if s == service => return Some(id),
                None if allow_unnamed && fallback.is_none() => fallback = Some(id.as_str()),
                _ => {}
            }
        }
    }
    fallback
}

/// The smallest span holding every part's window.
fn span(parts: &[Part]) -> Option<(NaiveDate, NaiveDate)> {
    let from = parts.iter().filter_map(|p| p.window.map(|w| w.0)).min()?;
    let to = parts.iter().filter_map(|p| p.window.map(|w| w.1)).max()?;
    Some((from, to))
}

async fn time_for(
    conn: &mut PgConnection,
    client: Uuid,
    parts: &[Part],
    ids: &[Vec<String>],
) -> Result<Vec<(Uuid, String, i32)>, StoreError> {
    let Some((from, to)) = span(parts) else {
        return Ok(Vec::new());
    };
    let entries = time_entries::approved_unbilled(conn, client, from, to).await?;
    Ok(entries
        .into_iter()
        .filter(|e| e.billable)
        .filter_map(|e| {
            let line = line_for(
                parts,
                ids,
                e.service_id,
                e.work_date,
                LineKind::bills_time,
                true,
            )?;
            Some((e.id, line.to_owned(), e.minutes))
        })
        .collect())
}

async fn usage_for(
    conn: &mut PgConnection,
    client: Uuid,
    parts: &[Part],
    ids: &[Vec<String>],
) -> Result<Vec<(Uuid, String, rust_decimal::Decimal)>, StoreError> {
    let Some((from, to)) = span(parts) else {
        return Ok(Vec::new());
    };
    let records = usage::unbilled(conn, client, from, to).await?;
    Ok(records
        .into_iter()
        .filter_map(|u| {
            let day = u.occurred_at.date_naive();
            let line = line_for(
                parts,
                ids,
                u.service_id,
                day,
                |k| k == LineKind::Usage,
                false,
            )?;
            Some((u.id, line.to_owned(), u.quantity))
        })
        .collect())
}
