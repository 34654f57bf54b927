//! Composing the invoice draft: lines, then discounts, tax, totals and credits.
//!
//! This is the one computation the preview endpoint and the stored path share; it validates its
//! input itself so that a `PreviewInput` assembled anywhere is held to the same rules.

use std::collections::HashMap;
use std::ops::Range;

use rust_decimal::Decimal;

use super::credits::apply_credits;
use super::discounts::apply_discounts;
use super::error::InputError;
use super::input::{PreviewInput, TimeEntry, UsageRecord};
use super::lines::{LineRecords, bill_line};
use super::response::{Amount, CreditApplied, InvoiceDraft, Item, PeriodEcho};
use super::tax::{TaxableItem, tax_rows};
use super::validate::validate;

pub fn compute(input: &PreviewInput) -> Result<InvoiceDraft, InputError> {
    validate(input)?;
    let m = input.currency.minor_units();
    let money = |v: Decimal| Amount::new(v, m);

    let line_ids: HashMap<&str, usize> = input
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();
    let mut entries: Vec<Vec<(usize, &TimeEntry)>> = vec![Vec::new(); input.lines.len()];
    for (k, e) in input.time_entries.iter().enumerate() {
        if let Some(&i) = line_ids.get(e.line.as_str()) {
            entries[i].push((k, e));
        }
    }
    let mut usage: Vec<Vec<(usize, &UsageRecord)>> = vec![Vec::new(); input.lines.len()];
    for (k, u) in input.usage.iter().enumerate() {
        if let Some(&i) = line_ids.get(u.line.as_str()) {
            usage[i].push((k, u));
        }
    }

    let mut items: Vec<Item> = Vec::new();
    let mut item_lines: Vec<usize> = Vec::new();
    let mut line_items: Vec<Range<usize>> = Vec::with_capacity(input.lines.len());
    let mut buckets = Vec::new();
    for (i, ((line, entries), usage)) in input.lines.iter().zip(entries).zip(usage).enumerate() {
        let records = LineRecords { entries, usage };
        let bill = bill_line(i, line, &records, input.period, m)?;
        let start = items.len();
        item_lines.extend(std::iter::repeat_n(i, bill.items.len()));
        items.extend(bill.items);
        line_items.push(start..items.len());
        buckets.extend(bill.bucket);
    }

    let amounts: Vec<Decimal> = items.iter().map(|it| it.amount.value).collect();
    let discounts = apply_discounts(&input.discounts, &line_ids, &line_items, &amounts, m)?;

    let (tax, reverse_charge) = match &input.tax {
        Some(tax) => {
            let mut taxable = Vec::with_capacity(amounts.len());
            for (k, (&amount, &share)) in amounts.iter().zip(&discounts.shares).enumerate() {
                let line = &input.lines[item_lines[k]];
                taxable.push(TaxableItem {
                    region: line.tax_region.as_deref().filter(|_| line.taxable),
                    // Both are non-negative and within `Decimal`, so the difference is too;
                    // stacked discounts may take an item below zero, which tax treats as such.
                    net: amount - share,
                });
            }
            (tax_rows(tax, &taxable, m)?, tax.reverse_charge)
        }
        None => (Vec::new(), false),
    };
    items.extend(discounts.items);

    let total_too_large = || InputError::new("lines", "the invoice total is too large");
    let subtotal = items
        .iter()
        .try_fold(Decimal::ZERO, |acc, it| acc.checked_add(it.amount.value))
        .ok_or_else(total_too_large)?;
    let tax_total = tax
        .iter()
        .try_fold(Decimal::ZERO, |acc, row| acc.checked_add(row.amount.value))
        .ok_or_else(|| InputError::too_large("tax"))?;
    let total = subtotal
        .checked_add(tax_total)
        .ok_or_else(total_too_large)?;

    let applied = apply_credits(&input.credits, input.currency, input.period.end, total);
    let paid = applied.iter().map(|&(_, a)| a).sum::<Decimal>();
    let (amount_due, credit_created) = if total < Decimal::ZERO {
        (Decimal::ZERO, -total)
    } else {
        // Credits apply at most what is due, so this stays ≥ 0.
        (total - paid, Decimal::ZERO)
    };

    Ok(InvoiceDraft {
        currency: input.currency.code(),
        period: PeriodEcho {
            start: input.period.start,
            end: input.period.end,
        },
        items,
        subtotal: money(subtotal),
        tax,
        tax_total: money(tax_total),
        total: money(total),
        credits_applied: applied
            .into_iter()
            .map(|(i, amount)| CreditApplied {
                credit_id: input.credits[i].id.clone(),
                amount: money(amount),
            })
            .collect(),
        amount_due: money(amount_due),
        credit_created: money(credit_created),
        reverse_charge,
        buckets,
    })
}
