//! Which prepaid credits pay the invoice, in which order, and how much each pays.
//!
//! Credits that expire soonest are spent first (those that never expire last) so the customer
//! loses as little as possible; credits in another currency or expiring before the period ends
//! are left alone.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::currency::InvoiceCurrency;
use super::input::Credit;

/// (credit index, amount applied) in the order applied; nothing when `total` ≤ 0.
pub fn apply_credits(
    credits: &[Credit],
    currency: InvoiceCurrency,
    period_end: NaiveDate,
    total: Decimal,
) -> Vec<(usize, Decimal)> {
    if total <= Decimal::ZERO {
        return Vec::new();
    }
    let mut usable: Vec<(usize, &Credit)> = credits
        .iter()
        .enumerate()
        .filter(|(_, c)| c.currency == currency && c.expires_on.is_none_or(|e| e >= period_end))
        .collect();
    // Stable: equal expiry keeps input order.
    usable.sort_by_key(|(_, c)| (c.expires_on.is_none(), c.expires_on));
    let mut due = total;
    let mut applied = Vec::new();
    for (i, c) in usable {
        let amount = c.amount.min(due);
        if amount > Decimal::ZERO {
            applied.push((i, amount));
            // amount ≤ due, so this cannot underflow.
            due -= amount;
        }
    }
    applied
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn credit(id: &str, amount: &str, currency: &str, expires: Option<&str>) -> Credit {
        Credit {
            id: id.into(),
            amount: Decimal::from_str(amount).unwrap(),
            currency: InvoiceCurrency::from_code(currency).unwrap(),
            expires_on: expires.map(|e| NaiveDate::from_str(e).unwrap()),
        }
    }

    #[test]
    fn soonest_expiry_first_never_expiring_last_ties_in_input_order() {
        let usd = InvoiceCurrency::from_code("USD").unwrap();
        let end = NaiveDate::from_str("2026-02-01").unwrap();
        let credits = vec![
            credit("forever", "100", "USD", None),
            credit("late", "10", "USD", Some("2026-12-31")),
            credit("expired", "10", "USD", Some("2026-01-31")),
            credit("euro", "10", "EUR", None),
            credit("at-end-a", "5", "USD", Some("2026-02-01")),
            credit("at-end-b", "5", "USD", Some("2026-02-01")),
            credit("empty", "0", "USD", Some("2026-03-01")),
        ];
        let applied = apply_credits(&credits, usd, end, Decimal::from(30));
        let ids: Vec<(&str, Decimal)> = applied
            .iter()
            .map(|&(i, a)| (credits[i].id.as_str(), a))
            .collect();
        assert_eq!(
            ids,
            vec![
                ("at-end-a", Decimal::from(5)),
                ("at-end-b", Decimal::from(5)),
                ("late", Decimal::from(10)),
                ("forever", Decimal::from(10)),
            ]
        );
        assert!(apply_credits(&credits, usd, end, Decimal::ZERO).is_empty());
        assert!(apply_credits(&credits, usd, end, Decimal::from(-5)).is_empty());
    }
}
