//! Discounts: how much each one takes off, and which items' taxable bases it lowers.
//!
//! Every discount works on the item amounts before any discount, so stacked discounts can take
//! off more than the subtotal (the draft then creates a credit). Each discount is spread over
//! the items it covers with the same largest-remainder split as services, so the shares sum
//! exactly to the discount and tax can be computed per region.

use std::collections::HashMap;
use std::ops::Range;

use rust_decimal::Decimal;

use super::allocate::allocate;
use super::decimal::{from_minor_units, round_half_away, to_minor_units};
use super::error::InputError;
use super::input::{Discount, DiscountKind};
use super::response::{Amount, Item, ItemKind};

/// The discount items (in input order) and, per line item, the total of its discount shares.
pub struct DiscountOutcome {
    pub items: Vec<Item>,
    pub shares: Vec<Decimal>,
}

/// `amounts` are the line items' amounts; `line_items[i]` the range of line i's items in them.
pub fn apply_discounts(
    discounts: &[Discount],
    line_ids: &HashMap<&str, usize>,
    line_items: &[Range<usize>],
    amounts: &[Decimal],
    m: u32,
) -> Result<DiscountOutcome, InputError> {
    // Work in minor units: a discount is split over up to every item, and integers keep that
    // cheap when many discounts cover thousands of items.
    let units: Vec<u128> = amounts
        .iter()
        .map(|&a| to_minor_units(a, m))
        .collect::<Option<_>>()
        .ok_or_else(|| InputError::too_large("lines"))?;
    let mut items = Vec::new();
    let mut share_units = vec![0u128; amounts.len()];
    for (i, discount) in discounts.iter().enumerate() {
        let field = format!("discounts[{i}]");
        let too_large = || InputError::too_large(&field);
        let covered = covered_items(discount, line_ids, line_items, amounts.len(), &field)?;
        let base_units = covered
            .iter()
            .try_fold(0u128, |acc, &k| acc.checked_add(units[k]))
            .ok_or_else(too_large)?;
        let base = from_minor_units(base_units, m).ok_or_else(too_large)?;
        let d = discount_amount(&discount.kind, base, m).ok_or_else(too_large)?;
        if d.is_zero() {
            continue;
        }
        let weights: Vec<u128> = covered.iter().map(|&k| units[k]).collect();
        let split = to_minor_units(d, m)
            .and_then(|d| allocate(d, &weights))
            .ok_or_else(too_large)?;
        for (&k, part) in covered.iter().zip(split) {
            share_units[k] = share_units[k].checked_add(part).ok_or_else(too_large)?;
        }
        items.push(Item::new(
            &discount.id,
            ItemKind::Discount,
            Amount::new(-d, m),
        ));
    }
    let shares = share_units
        .into_iter()
        .map(|u| from_minor_units(u, m))
        .collect::<Option<_>>()
        .ok_or_else(|| InputError::too_large("discounts"))?;
    Ok(DiscountOutcome { items, shares })
}

/// Percentage: round(base × percent / 100); fixed: min(amount, base); nothing when base ≤ 0.
pub fn discount_amount(kind: &DiscountKind, base: Decimal, m: u32) -> Option<Decimal> {
    if base <= Decimal::ZERO {
        return Some(Decimal::ZERO);
    }
    Some(match kind {
        DiscountKind::Percentage { percent } => round_half_away(
            base.checked_mul(*percent)?
                .checked_div(Decimal::ONE_HUNDRED)?,
            m,
        ),
        DiscountKind::Fixed { amount } => (*amount).min(base),
    })
}

/// The covered items' indices in item order.
fn covered_items(
    discount: &Discount,
    line_ids: &HashMap<&str, usize>,
    line_items: &[Range<usize>],
    item_count: usize,
    field: &str,
) -> Result<Vec<usize>, InputError> {
    let Some(names) = &discount.lines else {
        return Ok((0..item_count).collect());
    };
    let mut lines = Vec::with_capacity(names.len());
    for (j, name) in names.iter().enumerate() {
        let line = line_ids.get(name.as_str()).copied().ok_or_else(|| {
            InputError::new(
                format!("{field}.lines[{j}]"),
                "names no line of this request",
            )
        })?;
        lines.push(line);
    }
    lines.sort_unstable();
    lines.dedup();
    Ok(lines
        .into_iter()
        .filter_map(|l| line_items.get(l).cloned())
        .flatten()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts() {
        let pct = |p: &str| DiscountKind::Percentage { percent: d(p) };
        let fixed = |a: &str| DiscountKind::Fixed { amount: d(a) };
        assert_eq!(
            discount_amount(&pct("10"), d("123.45"), 2),
            Some(d("12.35"))
        );
        assert_eq!(
            discount_amount(&pct("100"), d("123.45"), 2),
            Some(d("123.45"))
        );
        assert_eq!(
            discount_amount(&fixed("50"), d("20.00"), 2),
            Some(d("20.00"))
        );
        assert_eq!(discount_amount(&fixed("5"), d("20.00"), 2), Some(d("5")));
        assert_eq!(discount_amount(&fixed("5"), d("0"), 2), Some(d("0")));
        assert_eq!(discount_amount(&pct("10"), d("-1"), 2), Some(d("0")));
        assert_eq!(discount_amount(&pct("33.3"), d("1000"), 0), Some(d("333")));
    }

    #[test]
    fn shares_follow_item_amounts_and_only_covered_lines() {
        let ids: HashMap<&str, usize> = [("a", 0), ("b", 1)].into_iter().collect();
        let ranges = vec![0..2, 2..3];
        let amounts = vec![d("100.00"), d("200.00"), d("50.00")];
        let discounts = vec![
            Discount {
                id: "d1".into(),
                kind: DiscountKind::Fixed { amount: d("10.00") },
                lines: Some(vec!["a".into()]),
            },
            Discount {
                id: "d2".into(),
                kind: DiscountKind::Percentage { percent: d("10") },
                lines: None,
            },
        ];
        let out = apply_discounts(&discounts, &ids, &ranges, &amounts, 2).unwrap();
        assert_eq!(out.items.len(), 2);
        assert_eq!(out.items[0].amount.value, d("-10.00"));
        assert_eq!(out.items[1].amount.value, d("-35.00"));
        // d1: 3.33 / 6.67 (the larger remainder gets the cent); d2: 10 / 20 / 5.
        assert_eq!(out.shares, vec![d("13.33"), d("26.67"), d("5.00")]);
    }
}
