//! The items each kind of line bills: fixed, hourly, bucket, usage and product.
//!
//! Each item's amount is rounded once, here; everything after (discounts, tax, totals) works
//! on these rounded amounts. Arithmetic is checked: an overflow names the line.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::allocate::allocate;
use super::decimal::{from_minor_units, round_half_away, to_common_integers, to_minor_units};
use super::error::InputError;
use super::input::{
    BucketLine, FixedLine, HourlyLine, Line, LineKind, Period, ProductLine, Tier, TierMode,
    TimeEntry, UsageLine, UsageRecord,
};
use super::response::{Allocation, Amount, BucketReport, Item, ItemKind, Plain};

const MINUTES_PER_HOUR: Decimal = Decimal::from_parts(60, 0, 0, false, 0);

/// What one line contributes to the invoice.
pub struct LineBill {
    pub items: Vec<Item>,
    pub bucket: Option<BucketReport>,
}

/// The line's own records, already picked out of the request in input order.
pub struct LineRecords<'a> {
    pub entries: Vec<(usize, &'a TimeEntry)>,
    pub usage: Vec<(usize, &'a UsageRecord)>,
}

pub fn bill_line(
    index: usize,
    line: &Line,
    records: &LineRecords<'_>,
    period: Period,
    m: u32,
) -> Result<LineBill, InputError> {
    let field = format!("lines[{index}]");
    let money = |v: Decimal| Amount::new(v, m);
    let mut bucket = None;
    let items = match &line.kind {
        LineKind::Fixed(f) => fixed(line, f, period, m, &field)?.into_iter().collect(),
        LineKind::Hourly(h) => hourly(line, h, &records.entries, m)?,
        LineKind::Bucket(b) => {
            let (items, report) = bucket_line(line, b, &records.entries, m, &field)?;
            bucket = Some(report);
            items
        }
        LineKind::Usage(u) => usage(line, u, &records.usage, m, &field)?
            .into_iter()
            .collect(),
        LineKind::Product(ProductLine {
            unit_price,
            quantity,
        }) => {
            let amount = quantity
                .checked_mul(*unit_price)
                .ok_or_else(|| InputError::too_large(&field))?;
            let mut item = Item::new(
                &line.id,
                ItemKind::Product,
                money(round_half_away(amount, m)),
            );
            item.quantity = Some(Plain(*quantity));
            vec![item]
        }
    };
    Ok(LineBill { items, bucket })
}

fn fixed(
    line: &Line,
    f: &FixedLine,
    period: Period,
    m: u32,
    field: &str,
) -> Result<Option<Item>, InputError> {
    let start: NaiveDate = f.active_from.map_or(period.start, |d| d.max(period.start));
    let end: NaiveDate = f.active_to.map_or(period.end, |d| d.min(period.end));
    if end <= start {
        return Ok(None);
    }
    let amount = if f.prorate {
        let covered = Decimal::from((end - start).num_days());
        let days = Decimal::from((period.end - period.start).num_days());
        f.amount
            .checked_mul(covered)
            .and_then(|v| v.checked_div(days))
            .ok_or_else(|| InputError::too_large(format!("{field}.amount")))?
    } else {
        f.amount
    };
    let amount = round_half_away(amount, m);
    let mut item = Item::new(&line.id, ItemKind::Fixed, Amount::new(amount, m));
    if let Some(services) = &f.services {
        let weights: Vec<Decimal> = services.iter().map(|s| s.weight).collect();
        let shares = to_common_integers(&weights)
            .and_then(|w| allocate(to_minor_units(amount, m)?, &w))
            .ok_or_else(|| {
                InputError::new(
                    format!("{field}.services"),
                    "the weights are too large or too precise to split the amount over",
                )
            })?;
        let mut allocations = Vec::with_capacity(services.len());
        for (s, units) in services.iter().zip(shares) {
            let value = from_minor_units(units, m)
                .ok_or_else(|| InputError::too_large(format!("{field}.services")))?;
            allocations.push(Allocation {
                service_id: s.id.clone(),
                amount: Amount::new(value, m),
            });
        }
        item.allocations = Some(allocations);
    }
    Ok(Some(item))
}

/// b = max(minutes, minimum), then up to a multiple of `round_up_to` when that is above 0.
/// Inputs are at most `MAX_MINUTES`, so the result stays below 2·10⁹.
pub fn billed_minutes(minutes: u64, minimum: u64, round_up_to: u64) -> u64 {
    let b = minutes.max(minimum);
    if round_up_to > 0 {
        b.div_ceil(round_up_to) * round_up_to
    } else {
        b
    }
}

/// round(minutes × rate / 60).
fn minutes_amount(minutes: u64, rate: Decimal, m: u32) -> Option<Decimal> {
    let raw = Decimal::from(minutes)
        .checked_mul(rate)?
        .checked_div(MINUTES_PER_HOUR)?;
    Some(round_half_away(raw, m))
}

fn hourly(
    line: &Line,
    h: &HourlyLine,
    entries: &[(usize, &TimeEntry)],
    m: u32,
) -> Result<Vec<Item>, InputError> {
    let mut items = Vec::new();
    // Billed minutes so far on this line; at most 10⁴·2·10⁹ for any request we accept.
    let mut cumulative: u64 = 0;
    for &(k, e) in entries {
        if !e.billable {
            continue;
        }
        let b = billed_minutes(e.minutes, h.minimum_minutes, h.round_up_to_minutes);
        let (regular, over) = match &h.overtime {
            Some(ot) => {
                let regular = b.min(ot.after_minutes.saturating_sub(cumulative));
                (regular, b - regular)
            }
            None => (b, 0),
        };
        cumulative = cumulative.saturating_add(b);
        let too_large = || InputError::too_large(format!("time_entries[{k}]"));
        let mut push = |kind, minutes: u64, rate: Decimal| -> Result<(), InputError> {
            if minutes == 0 {
                return Ok(());
            }
            let amount = minutes_amount(minutes, rate, m).ok_or_else(too_large)?;
            let mut item = Item::new(&line.id, kind, Amount::new(amount, m));
            item.entry_id = Some(e.id.clone());
            item.minutes = Some(minutes);
            item.rate = Some(Plain(rate));
            items.push(item);
            Ok(())
        };
        push(ItemKind::Time, regular, e.rate.unwrap_or(h.rate))?;
        if let Some(ot) = &h.overtime {
            push(ItemKind::Overtime, over, ot.rate)?;
        }
    }
    Ok(items)
}

fn bucket_line(
    line: &Line,
    b: &BucketLine,
    entries: &[(usize, &TimeEntry)],
    m: u32,
    field: &str,
) -> Result<(Vec<Item>, BucketReport), InputError> {
    let mut items = vec![Item::new(
        &line.id,
        ItemKind::BucketFee,
        Amount::new(b.fee, m),
    )];
    let used = entries
        .iter()
        .filter(|(_, e)| e.billable)
        .map(|(_, e)| billed_minutes(e.minutes, b.minimum_minutes, b.round_up_to_minutes))
        .fold(0u64, u64::saturating_add);
    let available = b.included_minutes.saturating_add(b.rollover_minutes);
    let overage = used.saturating_sub(available);
    if overage > 0 {
        let amount = minutes_amount(overage, b.overage_rate, m)
            .ok_or_else(|| InputError::too_large(field))?;
        let mut item = Item::new(&line.id, ItemKind::BucketOverage, Amount::new(amount, m));
        item.minutes = Some(overage);
        item.rate = Some(Plain(b.overage_rate));
        items.push(item);
    }
    let unused = available.saturating_sub(used);
    let report = BucketReport {
        line_id: line.id.clone(),
        used_minutes: used,
        overage_minutes: overage,
        unused_minutes: unused,
        rollover_out_minutes: unused.min(b.max_rollover_minutes),
    };
    Ok((items, report))
}

fn usage(
    line: &Line,
    u: &UsageLine,
    records: &[(usize, &UsageRecord)],
    m: u32,
    field: &str,
) -> Result<Option<Item>, InputError> {
    if records.is_empty() {
        return Ok(None);
    }
    let mut q = Decimal::ZERO;
    for &(k, r) in records {
        q = q.checked_add(r.quantity).ok_or_else(|| {
            InputError::new(
                format!("usage[{k}].quantity"),
                "the line's total quantity is too large",
            )
        })?;
    }
    let raw = match u {
        UsageLine::Flat { unit_price } => q.checked_mul(*unit_price),
        UsageLine::Tiered {
            tiers,
            mode: TierMode::Graduated,
        } => graduated(q, tiers),
        UsageLine::Tiered {
            tiers,
            mode: TierMode::Volume,
        } => tiers
            .iter()
            .find(|t| t.up_to.is_none_or(|up| up >= q))
            .and_then(|t| q.checked_mul(t.unit_price)),
    }
    .ok_or_else(|| InputError::too_large(field))?;
    let mut item = Item::new(
        &line.id,
        ItemKind::Usage,
        Amount::new(round_half_away(raw, m), m),
    );
    item.quantity = Some(Plain(q));
    Ok(Some(item))
}

/// Each band's part of q at the band's price, summed unrounded.
fn graduated(q: Decimal, tiers: &[Tier]) -> Option<Decimal> {
    let mut sum = Decimal::ZERO;
    let mut lower = Decimal::ZERO;
    for t in tiers {
        let upper = t.up_to.map_or(q, |up| up.min(q));
        if upper > lower {
            sum = sum.checked_add(upper.checked_sub(lower)?.checked_mul(t.unit_price)?)?;
        }
        match t.up_to {
            Some(up) if up < q => lower = up,
            _ => break,
        }
    }
    Some(sum)
}
