//! Properties of the billing preview engine that must hold for every input.
//!
//! Splits are exact, discounts stay within their base, proration is additive to the minor
//! unit, totals are sums of rounded items, money always prints with m decimals, and no input
//! at all (however malformed or huge) makes `preview` panic.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test.

use proptest::prelude::*;
use psa_domain::billing::{allocate, preview};
use rust_decimal::Decimal;
use serde_json::{Value, json};
use std::str::FromStr;

fn dec(v: &Value) -> Decimal {
    Decimal::from_str(v.as_str().expect("a decimal string")).expect("a decimal")
}

fn money_strings(out: &Value) -> Vec<&str> {
    let mut v = Vec::new();
    for it in out["items"].as_array().unwrap() {
        v.push(it["amount"].as_str().unwrap());
        for a in it["allocations"].as_array().into_iter().flatten() {
            v.push(a["amount"].as_str().unwrap());
        }
    }
    for row in out["tax"].as_array().unwrap() {
        v.push(row["base"].as_str().unwrap());
        v.push(row["amount"].as_str().unwrap());
    }
    for c in out["credits_applied"].as_array().unwrap() {
        v.push(c["amount"].as_str().unwrap());
    }
    for k in [
        "subtotal",
        "tax_total",
        "total",
        "amount_due",
        "credit_created",
    ] {
        v.push(out[k].as_str().unwrap());
    }
    v
}

/// A decimal string with at most `dp` decimals below 10^`int_digits`.
fn decimal_str(int_digits: u32, dp: u32) -> impl Strategy<Value = String> {
    (0u64..10u64.pow(int_digits + dp))
        .prop_map(move |n| Decimal::new(i64::try_from(n).unwrap_or(0), dp).to_string())
}

fn currency() -> impl Strategy<Value = (&'static str, u32)> {
    prop_oneof![Just(("USD", 2u32)), Just(("JPY", 0)), Just(("KWD", 3))]
}

/// A valid invoice request in the given currency, exercising every line kind.
fn invoice(code: &'static str, m: u32) -> impl Strategy<Value = Value> {
    let line = (
        0u8..5,
        decimal_str(5, m),
        decimal_str(3, 4),
        0u64..90,
        0u64..31,
        any::<bool>(),
        any::<bool>(),
    );
    (
        prop::collection::vec(line, 0..8),
        prop::collection::vec((0usize..8, 0u64..600, any::<bool>(), decimal_str(4, 2)), 0..20),
        prop::collection::vec((0usize..8, decimal_str(4, 3)), 0..10),
        prop::collection::vec((any::<bool>(), decimal_str(2, 2), decimal_str(4, m), prop::option::of(0usize..8)), 0..4),
        prop::option::of((any::<bool>(), any::<bool>(), decimal_str(2, 3), decimal_str(2, 3), any::<bool>())),
        prop::collection::vec((decimal_str(4, m), prop::option::of(0u32..90), any::<bool>()), 0..4),
    )
        .prop_map(move |(lines, entries, usage, discounts, tax, credits)| {
            let kinds: Vec<u8> = lines.iter().map(|l| l.0).collect();
            let lines_json: Vec<Value> = lines
                .iter()
                .enumerate()
                .map(|(i, (kind, money, rate, minutes, day, flag, taxable))| {
                    let id = format!("l{i}");
                    let region = if *flag { "A" } else { "B" };
                    let mut l = match kind {
                        0 => json!({"id": id, "type": "fixed", "amount": money, "prorate": flag,
                            "active_from": format!("2026-01-{:02}", day + 1),
                            "services": [{"id": "s1", "weight": "1"}, {"id": "s2", "weight": rate.clone() + "1"}]}),
                        1 => json!({"id": id, "type": "hourly", "rate": rate, "minimum_minutes": minutes,
                            "round_up_to_minutes": minutes % 20, "overtime": {"after_minutes": minutes * 3, "rate": rate}}),
                        2 => json!({"id": id, "type": "bucket", "included_minutes": minutes * 5, "fee": money,
                            "overage_rate": rate, "rollover_minutes": minutes, "max_rollover_minutes": 60}),
                        3 => json!({"id": id, "type": "usage", "tier_mode": if *flag { "volume" } else { "graduated" },
                            "tiers": [{"up_to": "10", "unit_price": rate}, {"up_to": "100.5", "unit_price": "0.5"},
                                      {"up_to": null, "unit_price": "0.01"}]}),
                        _ => json!({"id": id, "type": "product", "unit_price": rate, "quantity": money}),
                    };
                    l["taxable"] = json!(taxable);
                    l["tax_region"] = json!(region);
                    l
                })
                .collect();
            let timed: Vec<usize> = kinds.iter().enumerate().filter(|(_, k)| **k == 1 || **k == 2).map(|(i, _)| i).collect();
            let metered: Vec<usize> = kinds.iter().enumerate().filter(|(_, k)| **k == 3).map(|(i, _)| i).collect();
            let entries_json: Vec<Value> = if timed.is_empty() { vec![] } else {
                entries.iter().enumerate().map(|(k, (l, minutes, billable, rate))| {
                    let mut e = json!({"id": format!("e{k}"), "line": format!("l{}", timed[l % timed.len()]),
                        "minutes": minutes, "billable": billable});
                    if k % 3 == 0 { e["rate"] = json!(rate); }
                    e
                }).collect()
            };
            let usage_json: Vec<Value> = if metered.is_empty() { vec![] } else {
                usage.iter().map(|(l, q)| json!({"line": format!("l{}", metered[l % metered.len()]), "quantity": q})).collect()
            };
            let discounts_json: Vec<Value> = discounts.iter().enumerate().map(|(i, (pct, percent, amount, only))| {
                let mut d = if *pct {
                    json!({"id": format!("d{i}"), "type": "percentage", "percent": percent})
                } else {
                    json!({"id": format!("d{i}"), "type": "fixed", "amount": amount})
                };
                if let (Some(l), false) = (only, lines.is_empty()) {
                    d["lines"] = json!([format!("l{}", l % lines.len())]);
                }
                d
            }).collect();
            let mut body = json!({"currency": code, "period": {"start": "2026-01-01", "end": "2026-02-01"},
                "lines": lines_json, "time_entries": entries_json, "usage": usage_json,
                "discounts": discounts_json,
                "credits": credits.iter().enumerate().map(|(i, (amount, expires, same))| {
                    json!({"id": format!("c{i}"), "amount": amount, "currency": if *same { code } else if m == 3 { "BHD" } else { "EUR" },
                        "expires_on": expires.map(|d| (chrono::NaiveDate::from_ymd_opt(2026, 1, 15).unwrap()
                            + chrono::Days::new(u64::from(d))).to_string())})
                }).collect::<Vec<_>>()});
            if let Some((exempt, compound, r1, r2, brackets)) = tax {
                let second = if brackets {
                    json!({"name": "b", "compound": compound, "brackets": [{"up_to": "100.00", "rate": r1}, {"up_to": null, "rate": r2}]})
                } else {
                    json!({"name": "c", "compound": compound, "rate": r2})
                };
                body["tax"] = json!({"exempt": exempt && compound, "regions": {"A": [{"name": "a", "rate": r1}, second], "B": []}});
            }
            body
        })
}

fn any_invoice() -> impl Strategy<Value = (Value, u32)> {
    currency().prop_flat_map(|(code, m)| invoice(code, m).prop_map(move |b| (b, m)))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn allocations_sum_exactly_and_follow_weights(total in 0u128..10u128.pow(15),
            weights in prop::collection::vec(1u128..10u128.pow(12), 1..20)) {
        let shares = allocate(total, &weights).unwrap();
        prop_assert_eq!(shares.len(), weights.len());
        prop_assert_eq!(shares.iter().sum::<u128>(), total);
        let sum: u128 = weights.iter().sum();
        for (s, w) in shares.iter().zip(&weights) {
            let floor = total * w / sum;
            prop_assert!(*s == floor || *s == floor + 1, "share {} of exact {}/{}", s, total * w, sum);
        }
    }

    #[test]
    fn allocations_of_huge_values_are_exact(total in any::<u64>(), w in prop::collection::vec(any::<u64>(), 1..6)) {
        // Large enough that total × weight overflows 128 bits.
        let weights: Vec<u128> = w.iter().map(|&x| u128::from(x) << 60 | 1).collect();
        let total = u128::from(total) << 40;
        let shares = allocate(total, &weights).unwrap();
        prop_assert_eq!(shares.iter().sum::<u128>(), total);
    }

    #[test]
    fn a_discount_never_exceeds_its_base(amounts in prop::collection::vec(decimal_str(6, 2), 1..6),
            percent in decimal_str(2, 3), fixed in decimal_str(7, 2), hundred in any::<bool>()) {
        let percent = if hundred { "100".to_owned() } else { percent };
        let lines: Vec<Value> = amounts.iter().enumerate()
            .map(|(i, a)| json!({"id": format!("l{i}"), "type": "fixed", "amount": a})).collect();
        let out = preview(&json!({"currency": "USD", "period": {"start": "2026-01-01", "end": "2026-02-01"},
            "lines": lines, "discounts": [
                {"id": "p", "type": "percentage", "percent": percent},
                {"id": "f", "type": "fixed", "amount": fixed},
                {"id": "one", "type": "fixed", "amount": fixed, "lines": ["l0"]}]})).unwrap();
        let base: Decimal = amounts.iter().map(|a| Decimal::from_str(a).unwrap()).sum();
        let first = Decimal::from_str(&amounts[0]).unwrap();
        for it in out["items"].as_array().unwrap() {
            if it["kind"] == "discount" {
                let d = -dec(&it["amount"]);
                prop_assert!(d > Decimal::ZERO);
                let cap = if it["line_id"] == "one" { first } else { base };
                prop_assert!(d <= cap, "{} > {}", d, cap);
            }
        }
    }

    #[test]
    fn prorating_two_halves_sums_to_the_whole_within_one_minor_unit(
            (code, m) in currency(), units in 0i64..10_000_000_000, start_day in 0u64..300,
            days in 2u64..=366, split in 1u64..366) {
        let split = 1 + split % (days - 1);
        let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(start_day);
        let mid = start + chrono::Days::new(split);
        let end = start + chrono::Days::new(days);
        let amount = Decimal::new(units, m);
        let out = preview(&json!({"currency": code, "period": {"start": start.to_string(), "end": end.to_string()},
            "lines": [
                {"id": "whole", "type": "fixed", "amount": amount.to_string(), "prorate": true},
                {"id": "first", "type": "fixed", "amount": amount.to_string(), "prorate": true, "active_to": mid.to_string()},
                {"id": "second", "type": "fixed", "amount": amount.to_string(), "prorate": true, "active_from": mid.to_string()}
            ]})).unwrap();
        let items = out["items"].as_array().unwrap();
        prop_assert_eq!(dec(&items[0]["amount"]), amount);
        let halves = dec(&items[1]["amount"]) + dec(&items[2]["amount"]);
        prop_assert!((halves - amount).abs() <= Decimal::new(1, m), "{} vs {}", halves, amount);
    }

    #[test]
    fn totals_are_sums_of_rounded_items_and_money_has_m_decimals((body, m) in any_invoice()) {
        let out = preview(&body).map_err(|e| TestCaseError::fail(format!("{e} for {body}")))?;
        for s in money_strings(&out) {
            let decimals = s.split_once('.').map_or(0, |(_, f)| f.len());
            prop_assert_eq!(decimals as u32, m, "{}", s);
            prop_assert!(m == 0 || s.contains('.'));
        }
        let items: Decimal = out["items"].as_array().unwrap().iter().map(|i| dec(&i["amount"])).sum();
        prop_assert_eq!(dec(&out["subtotal"]), items);
        let tax: Decimal = out["tax"].as_array().unwrap().iter().map(|r| dec(&r["amount"])).sum();
        prop_assert_eq!(dec(&out["tax_total"]), tax);
        let total = dec(&out["total"]);
        prop_assert_eq!(total, items + tax);
        let credits: Decimal = out["credits_applied"].as_array().unwrap().iter().map(|c| dec(&c["amount"])).sum();
        if total >= Decimal::ZERO {
            prop_assert_eq!(dec(&out["amount_due"]), total - credits);
            prop_assert_eq!(dec(&out["credit_created"]), Decimal::ZERO);
        } else {
            prop_assert_eq!(dec(&out["amount_due"]), Decimal::ZERO);
            prop_assert_eq!(dec(&out["credit_created"]), -total);
            prop_assert_eq!(credits, Decimal::ZERO);
        }
        for it in out["items"].as_array().unwrap() {
            if let Some(allocs) = it["allocations"].as_array() {
                let sum: Decimal = allocs.iter().map(|a| dec(&a["amount"])).sum();
                prop_assert_eq!(sum, dec(&it["amount"]));
            }
            if let Some(minutes) = it["minutes"].as_u64() {
                prop_assert!(minutes > 0);
            }
        }
    }
}

/// Values chosen to break readers: wrong types, huge and tiny numbers, bad strings.
fn nasty() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "",
            "-",
            "1.",
            ".5",
            "1e30",
            "-0",
            "-1",
            "0",
            "1",
            "60",
            "100.001",
            "XAU",
            "USD",
            "JPY",
            "2026-02-30",
            "2026-01-15",
            "9999-12-31",
            "0000-01-01",
            "l0",
            "l1",
            "e0",
            "graduated",
            "volume",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "99999999999999999999999999999999999",
            "fixed",
            "hourly",
            "bucket",
            "usage",
            "product",
            "percentage",
            "A",
        ])
        .prop_map(Value::from),
        Just(json!([])),
        Just(json!({})),
        Just(json!([{"up_to": null, "unit_price": "1"}])),
        Just(json!({"A": [{"name": "x", "rate": "79228162514264337593543950335"}]})),
    ]
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    nasty().prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::vec(
                (
                    prop::sample::select(vec![
                        "currency",
                        "period",
                        "start",
                        "end",
                        "lines",
                        "id",
                        "type",
                        "amount",
                        "rate",
                        "minutes",
                        "line",
                        "tiers",
                        "up_to",
                        "unit_price",
                        "quantity",
                        "tax",
                        "regions",
                        "credits",
                        "discounts",
                        "time_entries",
                        "usage",
                        "services",
                        "weight",
                        "overtime",
                        "after_minutes",
                        "percent",
                    ]),
                    inner
                ),
                0..8
            )
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

/// Replaces the value at a pseudo-random place in `v` (chosen by `pick`) with `with`.
fn mutate(v: &mut Value, pick: &mut u64, with: &Value) {
    let here = pick.is_multiple_of(5);
    *pick /= 5;
    if here || *pick == 0 {
        *v = with.clone();
        return;
    }
    match v {
        Value::Object(map) if !map.is_empty() => {
            let n = usize::try_from(*pick % map.len() as u64).unwrap_or(0);
            *pick /= map.len() as u64 + 1;
            if let Some((_, child)) = map.iter_mut().nth(n) {
                mutate(child, pick, with);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let n = usize::try_from(*pick % items.len() as u64).unwrap_or(0);
            *pick /= items.len() as u64 + 1;
            mutate(&mut items[n], pick, with);
        }
        _ => *v = with.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn preview_never_panics_on_mutated_requests((body, _m) in any_invoice(),
            edits in prop::collection::vec((any::<u64>(), nasty()), 1..4)) {
        let mut body = body;
        for (pick, with) in &edits {
            let mut p = *pick | 1 << 63;
            mutate(&mut body, &mut p, with);
        }
        let _ = preview(&body);
    }

    #[test]
    fn preview_never_panics_on_arbitrary_json(body in arbitrary_json()) {
        let _ = preview(&body);
    }

    #[test]
    fn preview_never_panics_on_hostile_magnitudes(
            a in prop::sample::select(vec!["79228162514264337593543950335", "10000000000000000000", "0.0000000000000000000000000001", "1", "0"]),
            b in prop::sample::select(vec!["79228162514264337593543950335", "10000000000000000000", "999999", "0.000001", "0"]),
            minutes in prop::sample::select(vec![0u64, 1, 59, 1_000_000_000])) {
        let body = json!({"currency": "KWD", "period": {"start": "2026-01-01", "end": "2027-01-01"},
            "lines": [
                {"id": "f", "type": "fixed", "amount": a, "prorate": true, "active_from": "2026-01-02", "tax_region": "R",
                 "services": [{"id": "s", "weight": a}, {"id": "t", "weight": b}]},
                {"id": "h", "type": "hourly", "rate": b, "minimum_minutes": minutes, "round_up_to_minutes": minutes,
                 "overtime": {"after_minutes": minutes, "rate": b}, "tax_region": "R"},
                {"id": "k", "type": "bucket", "included_minutes": minutes, "fee": a, "overage_rate": b, "tax_region": "R"},
                {"id": "u", "type": "usage", "tiers": [{"up_to": a, "unit_price": b}, {"up_to": null, "unit_price": b}], "tax_region": "R"},
                {"id": "p", "type": "product", "unit_price": b, "quantity": a, "tax_region": "R"}
            ],
            "time_entries": [{"id": "t1", "line": "h", "minutes": minutes}, {"id": "t2", "line": "k", "minutes": minutes}],
            "usage": [{"line": "u", "quantity": a}, {"line": "u", "quantity": b}],
            "discounts": [{"id": "d", "type": "percentage", "percent": "33.333"}, {"id": "e", "type": "fixed", "amount": a}],
            "tax": {"regions": {"R": [{"name": "x", "rate": b}, {"name": "y", "compound": true,
                "brackets": [{"up_to": a, "rate": b}, {"up_to": null, "rate": b}]}]}},
            "credits": [{"id": "c", "amount": a, "currency": "KWD"}]});
        let _ = preview(&body);
    }
}
