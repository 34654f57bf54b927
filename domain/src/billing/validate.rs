//! The business rules a request must keep before anything is computed.
//!
//! Separate from the JSON reader so that a `PreviewInput` assembled from the database passes
//! the same checks; every refusal names the field the way the request spells it.

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;

use super::decimal::written_decimals;
use super::error::InputError;
use super::input::{
    Bracket, DiscountKind, LineKind, MAX_MINUTES, PreviewInput, TaxRate, Tier, UsageLine,
};

/// The longest period an invoice may cover.
pub const MAX_PERIOD_DAYS: i64 = 366;
/// Unit prices and rates may carry at most this many decimals.
pub const MAX_RATE_DECIMALS: u32 = 6;
/// Discounts one invoice may carry. Each is split over every item it covers, so the work is
/// discounts × items: unbounded, a 4 MiB request (tens of thousands of each) would hold a core
/// for many seconds. No real invoice comes near this.
pub const MAX_DISCOUNTS: usize = 100;

/// The kinds a time entry or usage record may point at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Fixed,
    Hourly,
    Bucket,
    Usage,
    Product,
}

pub fn validate(input: &PreviewInput) -> Result<(), InputError> {
    let m = input.currency.minor_units();
    let days = (input.period.end - input.period.start).num_days();
    if days <= 0 {
        return Err(InputError::new("period.end", "must be after period.start"));
    }
    if days > MAX_PERIOD_DAYS {
        return Err(InputError::new(
            "period.end",
            format!("the period may cover at most {MAX_PERIOD_DAYS} days"),
        ));
    }

    let mut kinds: HashMap<&str, Kind> = HashMap::with_capacity(input.lines.len());
    for (i, line) in input.lines.iter().enumerate() {
        let at = |f: &str| format!("lines[{i}].{f}");
        id(&line.id, &at("id"))?;
        let kind = match &line.kind {
            LineKind::Fixed(f) => {
                money(f.amount, m, &at("amount"))?;
                if let (Some(from), Some(to)) = (f.active_from, f.active_to)
                    && to <= from
                {
                    return Err(InputError::new(
                        at("active_to"),
                        "must be after active_from",
                    ));
                }
                if let Some(services) = &f.services {
                    if services.is_empty() {
                        return Err(InputError::new(
                            at("services"),
                            "must name at least one service (or be left out)",
                        ));
                    }
                    let mut seen = HashSet::with_capacity(services.len());
                    for (j, s) in services.iter().enumerate() {
                        let sat = |f: &str| format!("lines[{i}].services[{j}].{f}");
                        id(&s.id, &sat("id"))?;
                        if !seen.insert(s.id.as_str()) {
                            return Err(InputError::new(sat("id"), "duplicate service id"));
                        }
                        if s.weight <= Decimal::ZERO {
                            return Err(InputError::new(sat("weight"), "must be above 0"));
                        }
                    }
                }
                Kind::Fixed
            }
            LineKind::Hourly(h) => {
                rate(h.rate, &at("rate"))?;
                minutes(h.minimum_minutes, &at("minimum_minutes"))?;
                minutes(h.round_up_to_minutes, &at("round_up_to_minutes"))?;
                if let Some(ot) = &h.overtime {
                    minutes(ot.after_minutes, &at("overtime.after_minutes"))?;
                    rate(ot.rate, &at("overtime.rate"))?;
                }
                Kind::Hourly
            }
            LineKind::Bucket(b) => {
                minutes(b.included_minutes, &at("included_minutes"))?;
                money(b.fee, m, &at("fee"))?;
                rate(b.overage_rate, &at("overage_rate"))?;
                minutes(b.rollover_minutes, &at("rollover_minutes"))?;
                minutes(b.max_rollover_minutes, &at("max_rollover_minutes"))?;
                minutes(b.minimum_minutes, &at("minimum_minutes"))?;
                minutes(b.round_up_to_minutes, &at("round_up_to_minutes"))?;
                Kind::Bucket
            }
            LineKind::Usage(UsageLine::Flat { unit_price }) => {
                rate(*unit_price, &at("unit_price"))?;
                Kind::Usage
            }
            LineKind::Usage(UsageLine::Tiered { tiers, .. }) => {
                tiers_ok(tiers, &at("tiers"))?;
                Kind::Usage
            }
            LineKind::Product(p) => {
                rate(p.unit_price, &at("unit_price"))?;
                non_negative(p.quantity, &at("quantity"))?;
                Kind::Product
            }
        };
        if kinds.insert(line.id.as_str(), kind).is_some() {
            return Err(InputError::new(at("id"), "duplicate line id"));
        }
        if let (Some(tax), Some(region)) = (&input.tax, &line.tax_region)
            && !tax.regions.contains_key(region)
        {
            return Err(InputError::new(
                at("tax_region"),
                "must name one of the regions in tax.regions",
            ));
        }
    }
    let mut entry_ids = HashSet::with_capacity(input.time_entries.len());
    for (k, e) in input.time_entries.iter().enumerate() {
        let at = |f: &str| format!("time_entries[{k}].{f}");
        id(&e.id, &at("id"))?;
        if !entry_ids.insert(e.id.as_str()) {
            return Err(InputError::new(at("id"), "duplicate time entry id"));
        }
        match kinds.get(e.line.as_str()) {
            Some(Kind::Hourly | Kind::Bucket) => {}
            Some(_) => {
                return Err(InputError::new(
                    at("line"),
                    "must name an hourly or bucket line",
                ));
            }
            None => return Err(InputError::new(at("line"), "names no line of this request")),
        }
        minutes(e.minutes, &at("minutes"))?;
        if let Some(r) = e.rate {
            rate(r, &at("rate"))?;
        }
    }

    for (k, u) in input.usage.iter().enumerate() {
        let at = |f: &str| format!("usage[{k}].{f}");
        match kinds.get(u.line.as_str()) {
            Some(Kind::Usage) => {}
            Some(_) => return Err(InputError::new(at("line"), "must name a usage line")),
            None => return Err(InputError::new(at("line"), "names no line of this request")),
        }
        non_negative(u.quantity, &at("quantity"))?;
    }

    if input.discounts.len() > MAX_DISCOUNTS {
        return Err(InputError::new(
            "discounts",
            format!("an invoice may carry at most {MAX_DISCOUNTS} discounts"),
        ));
    }
    let mut discount_ids = HashSet::with_capacity(input.discounts.len());
    for (i, d) in input.discounts.iter().enumerate() {
        let at = |f: &str| format!("discounts[{i}].{f}");
        id(&d.id, &at("id"))?;
        if kinds.contains_key(d.id.as_str()) {
            return Err(InputError::new(at("id"), "must differ from every line id"));
        }
        if !discount_ids.insert(d.id.as_str()) {
            return Err(InputError::new(at("id"), "duplicate discount id"));
        }
        match d.kind {
            DiscountKind::Percentage { percent } => {
                non_negative(percent, &at("percent"))?;
                if percent > Decimal::ONE_HUNDRED {
                    return Err(InputError::new(at("percent"), "must be at most 100"));
                }
            }
            DiscountKind::Fixed { amount } => money(amount, m, &at("amount"))?,
        }
        if let Some(lines) = &d.lines {
            if lines.is_empty() {
                return Err(InputError::new(
                    at("lines"),
                    "must name at least one line (leave it out to cover every line)",
                ));
            }
            let mut seen = HashSet::with_capacity(lines.len());
            for (j, l) in lines.iter().enumerate() {
                let f = format!("discounts[{i}].lines[{j}]");
                if !kinds.contains_key(l.as_str()) {
                    return Err(InputError::new(f, "names no line of this request"));
                }
                if !seen.insert(l.as_str()) {
                    return Err(InputError::new(f, "names a line twice"));
                }
            }
        }
    }

    if let Some(tax) = &input.tax {
        for (region, components) in &tax.regions {
            for (j, c) in components.iter().enumerate() {
                let at = |f: &str| format!("tax.regions.{region}[{j}].{f}");
                match &c.rate {
                    TaxRate::Flat(r) => rate(*r, &at("rate"))?,
                    TaxRate::Brackets(b) => brackets_ok(b, &at("brackets"))?,
                }
            }
        }
    }

    let mut credit_ids = HashSet::with_capacity(input.credits.len());
    for (i, c) in input.credits.iter().enumerate() {
        let at = |f: &str| format!("credits[{i}].{f}");
        id(&c.id, &at("id"))?;
        if !credit_ids.insert(c.id.as_str()) {
            return Err(InputError::new(at("id"), "duplicate credit id"));
        }
        money(c.amount, c.currency.minor_units(), &at("amount"))?;
    }
    Ok(())
}

fn id(value: &str, field: &str) -> Result<(), InputError> {
    if value.is_empty() {
        return Err(InputError::new(field, "must not be empty"));
    }
    Ok(())
}

fn non_negative(d: Decimal, field: &str) -> Result<(), InputError> {
    if d.is_sign_negative() && !d.is_zero() {
        return Err(InputError::new(field, "must not be negative"));
    }
    Ok(())
}

/// A money input: non-negative and written with no more decimals than the currency has.
fn money(d: Decimal, m: u32, field: &str) -> Result<(), InputError> {
    non_negative(d, field)?;
    if written_decimals(d) > m {
        return Err(InputError::new(
            field,
            format!("has more decimals than the currency's {m}"),
        ));
    }
    Ok(())
}

/// A unit price or rate: non-negative with at most six decimals.
fn rate(d: Decimal, field: &str) -> Result<(), InputError> {
    non_negative(d, field)?;
    if written_decimals(d) > MAX_RATE_DECIMALS {
        return Err(InputError::new(
            field,
            format!("may have at most {MAX_RATE_DECIMALS} decimals"),
        ));
    }
    Ok(())
}

fn minutes(n: u64, field: &str) -> Result<(), InputError> {
    if n > MAX_MINUTES {
        return Err(InputError::new(
            field,
            format!("must be a whole number of minutes from 0 to {MAX_MINUTES}"),
        ));
    }
    Ok(())
}

/// Ascending inclusive upper bounds, the last one (and only it) null.
fn bounds_ok(
    bounds: impl ExactSizeIterator<Item = Option<Decimal>>,
    path: &str,
    what: &str,
) -> Result<(), InputError> {
    let n = bounds.len();
    if n == 0 {
        return Err(InputError::new(
            path,
            format!("must list at least one {what}"),
        ));
    }
    let mut previous: Option<Decimal> = None;
    for (k, up_to) in bounds.enumerate() {
        let field = format!("{path}[{k}].up_to");
        let last = k + 1 == n;
        match up_to {
            None if !last => {
                return Err(InputError::new(
                    field,
                    format!("only the last {what}'s up_to may be null"),
                ));
            }
            Some(_) if last => {
                return Err(InputError::new(
                    field,
                    format!("the last {what}'s up_to must be null"),
                ));
            }
            Some(v) => {
                non_negative(v, &field)?;
                if previous.is_some_and(|p| v <= p) {
                    return Err(InputError::new(field, "must be strictly ascending"));
                }
                previous = Some(v);
            }
            None => {}
        }
    }
    Ok(())
}

fn tiers_ok(tiers: &[Tier], path: &str) -> Result<(), InputError> {
    bounds_ok(tiers.iter().map(|t| t.up_to), path, "tier")?;
    for (k, t) in tiers.iter().enumerate() {
        rate(t.unit_price, &format!("{path}[{k}].unit_price"))?;
    }
    Ok(())
}

fn brackets_ok(brackets: &[Bracket], path: &str) -> Result<(), InputError> {
    bounds_ok(brackets.iter().map(|b| b.up_to), path, "bracket")?;
    for (k, b) in brackets.iter().enumerate() {
        rate(b.rate, &format!("{path}[{k}].rate"))?;
    }
    Ok(())
}
