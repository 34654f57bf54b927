//! Engine-level tests: the golden cases and the composition rules, through the JSON API.

use serde_json::{Value, json};

use super::*;

fn request(extra: Value) -> Value {
    let mut body =
        json!({"currency": "USD", "period": {"start": "2026-01-01", "end": "2026-02-01"}});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    body
}

fn ok(extra: Value) -> Value {
    preview(&request(extra)).unwrap()
}

fn field(extra: Value) -> String {
    preview(&request(extra)).unwrap_err().field
}

#[test]
fn golden_hourly_minimum_and_round_up() {
    let out = ok(json!({
        "lines": [{"id": "h", "type": "hourly", "rate": "60", "minimum_minutes": 30, "round_up_to_minutes": 15}],
        "time_entries": [{"id": "t1", "line": "h", "minutes": 70}]
    }));
    assert_eq!(out["items"][0]["minutes"], 75);
    assert_eq!(out["items"][0]["amount"], "75.00");
}

fn amounts(out: &Value) -> Vec<(String, String)> {
    out["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["kind"].as_str().unwrap().to_owned(),
                i["amount"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

#[test]
fn golden_services_split_500_over_10000_and_30000() {
    let out = ok(
        json!({"lines": [{"id": "f", "type": "fixed", "amount": "500.00",
        "services": [{"id": "s1", "weight": "10000"}, {"id": "s2", "weight": "30000"}]}]}),
    );
    assert_eq!(
        out["items"][0]["allocations"],
        json!([{"service_id": "s1", "amount": "125.00"}, {"service_id": "s2", "amount": "375.00"}])
    );
}

#[test]
fn services_leftover_cents_go_to_largest_remainders() {
    let out = ok(
        json!({"lines": [{"id": "f", "type": "fixed", "amount": "100.00",
        "services": [{"id": "a", "weight": "1"}, {"id": "b", "weight": "1"}, {"id": "c", "weight": "1"}]}]}),
    );
    let shares: Vec<&str> = out["items"][0]["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["amount"].as_str().unwrap())
        .collect();
    assert_eq!(shares, vec!["33.34", "33.33", "33.33"]);
}

#[test]
fn fixed_lines_prorate_over_the_covered_days() {
    let out = ok(json!({"lines": [
        {"id": "half", "type": "fixed", "amount": "310.00", "active_from": "2026-01-16", "prorate": true},
        {"id": "full", "type": "fixed", "amount": "310.00", "active_from": "2026-01-16"},
        {"id": "gone", "type": "fixed", "amount": "310.00", "active_to": "2026-01-01", "prorate": true},
        {"id": "later", "type": "fixed", "amount": "310.00", "active_from": "2026-02-01"},
        {"id": "ends", "type": "fixed", "amount": "100.00", "active_to": "2026-01-11", "prorate": true}
    ]}));
    assert_eq!(
        amounts(&out),
        pairs(&[("fixed", "160.00"), ("fixed", "310.00"), ("fixed", "32.26")])
    );
    assert_eq!(out["items"][2]["line_id"], "ends");
}

#[test]
fn hourly_overtime_splits_the_crossing_entry() {
    let out = ok(json!({
        "lines": [{"id": "h", "type": "hourly", "rate": "120.00",
                   "overtime": {"after_minutes": 120, "rate": "180"}}],
        "time_entries": [
            {"id": "a", "line": "h", "minutes": 90, "rate": "100"},
            {"id": "skip", "line": "h", "minutes": 500, "billable": false},
            {"id": "zero", "line": "h", "minutes": 0},
            {"id": "b", "line": "h", "minutes": 60},
            {"id": "c", "line": "h", "minutes": 30}
        ]
    }));
    assert_eq!(
        out["items"],
        json!([
            {"line_id": "h", "kind": "time", "entry_id": "a", "minutes": 90, "rate": "100", "amount": "150.00"},
            {"line_id": "h", "kind": "time", "entry_id": "b", "minutes": 30, "rate": "120.00", "amount": "60.00"},
            {"line_id": "h", "kind": "overtime", "entry_id": "b", "minutes": 30, "rate": "180", "amount": "90.00"},
            {"line_id": "h", "kind": "overtime", "entry_id": "c", "minutes": 30, "rate": "180", "amount": "90.00"}
        ])
    );
    assert_eq!(out["subtotal"], "390.00");
}

#[test]
fn hourly_amounts_round_half_away_from_zero() {
    // 1 minute at 0.30/h is 0.005 → 0.01.
    let out = ok(json!({
        "lines": [{"id": "h", "type": "hourly", "rate": "0.30"}],
        "time_entries": [{"id": "a", "line": "h", "minutes": 1}]
    }));
    assert_eq!(out["items"][0]["amount"], "0.01");
}

#[test]
fn buckets_bill_fee_overage_and_report_minutes() {
    let out = ok(json!({
        "lines": [
            {"id": "over", "type": "bucket", "included_minutes": 600, "fee": "500.00", "overage_rate": "90",
             "rollover_minutes": 60, "max_rollover_minutes": 120, "round_up_to_minutes": 15},
            {"id": "under", "type": "bucket", "included_minutes": 600, "fee": "500.00", "overage_rate": "90",
             "max_rollover_minutes": 120, "minimum_minutes": 30}
        ],
        "time_entries": [
            {"id": "a", "line": "over", "minutes": 400, "rate": "999"},
            {"id": "b", "line": "over", "minutes": 290},
            {"id": "n", "line": "over", "minutes": 290, "billable": false},
            {"id": "c", "line": "under", "minutes": 10}
        ]
    }));
    assert_eq!(
        out["items"],
        json!([
            {"line_id": "over", "kind": "bucket_fee", "amount": "500.00"},
            {"line_id": "over", "kind": "bucket_overage", "minutes": 45, "rate": "90", "amount": "67.50"},
            {"line_id": "under", "kind": "bucket_fee", "amount": "500.00"}
        ])
    );
    assert_eq!(
        out["buckets"],
        json!([
            {"line_id": "over", "used_minutes": 705, "overage_minutes": 45, "unused_minutes": 0, "rollover_out_minutes": 0},
            {"line_id": "under", "used_minutes": 30, "overage_minutes": 0, "unused_minutes": 570, "rollover_out_minutes": 120}
        ])
    );
}

#[test]
fn usage_flat_graduated_and_volume() {
    let tiers = json!([
        {"up_to": "100", "unit_price": "1"},
        {"up_to": "1000", "unit_price": "0.5"},
        {"up_to": null, "unit_price": "0.1"}
    ]);
    let out = ok(json!({
        "lines": [
            {"id": "flat", "type": "usage", "unit_price": "0.10"},
            {"id": "grad", "type": "usage", "tiers": tiers},
            {"id": "vol", "type": "usage", "tiers": tiers, "tier_mode": "volume"},
            {"id": "edge", "type": "usage", "tiers": tiers, "tier_mode": "volume"},
            {"id": "none", "type": "usage", "unit_price": "1"}
        ],
        "usage": [
            {"line": "flat", "quantity": "10"}, {"line": "flat", "quantity": "5.50"},
            {"line": "grad", "quantity": "1500"}, {"line": "vol", "quantity": "1500"},
            {"line": "edge", "quantity": "100"}
        ]
    }));
    assert_eq!(
        amounts(&out),
        pairs(&[
            ("usage", "1.55"),
            ("usage", "600.00"),
            ("usage", "150.00"),
            ("usage", "100.00")
        ])
    );
    // "10" + "5.50": the sum keeps the most decimals written.
    assert_eq!(out["items"][0]["quantity"], "15.50");
}

#[test]
fn products_round_once() {
    let out = ok(
        json!({"lines": [{"id": "p", "type": "product", "unit_price": "19.995", "quantity": "3"}]}),
    );
    assert_eq!(out["items"][0]["amount"], "59.99");
    assert_eq!(out["items"][0]["quantity"], "3");
}

#[test]
fn golden_tax_cases() {
    let rate = |r: &str| {
        json!({"lines": [{"id": "l", "type": "fixed", "amount": "100.00", "tax_region": "R"}],
        "tax": {"regions": {"R": [{"name": "t", "rate": r}]}}})
    };
    assert_eq!(ok(rate("8.875"))["tax_total"], "8.88");
    let out = ok(
        json!({"lines": [{"id": "l", "type": "fixed", "amount": "100.00", "tax_region": "QC"}],
        "tax": {"regions": {"QC": [{"name": "GST", "rate": "5"}, {"name": "PST", "rate": "2", "compound": true}]}}}),
    );
    assert_eq!(
        out["tax"],
        json!([
            {"region": "QC", "name": "GST", "base": "100.00", "amount": "5.00"},
            {"region": "QC", "name": "PST", "base": "105.00", "amount": "2.10"}
        ])
    );
    assert_eq!(out["tax_total"], "7.10");
    let out = ok(
        json!({"lines": [{"id": "l", "type": "fixed", "amount": "100.00", "tax_region": "QC"}],
        "tax": {"regions": {"QC": [{"name": "GST", "rate": "5"}, {"name": "PST", "rate": "2"}]}}}),
    );
    assert_eq!(out["tax_total"], "7.00");
    let out = ok(
        json!({"lines": [{"id": "l", "type": "fixed", "amount": "1500.00", "tax_region": "B"}],
        "tax": {"regions": {"B": [{"name": "b", "brackets": [{"up_to": "1000.00", "rate": "5"}, {"up_to": null, "rate": "10"}]}]}}}),
    );
    assert_eq!(out["tax_total"], "100.00");
    assert_eq!(out["total"], "1600.00");
}

#[test]
fn discounts_lower_the_taxable_base_of_covered_items_only() {
    let out = ok(json!({
        "lines": [
            {"id": "a", "type": "fixed", "amount": "100.00", "tax_region": "R"},
            {"id": "b", "type": "fixed", "amount": "100.00", "tax_region": "R", "taxable": false},
            {"id": "c", "type": "fixed", "amount": "100.00"}
        ],
        "discounts": [
            {"id": "d1", "type": "percentage", "percent": "10", "lines": ["a"]},
            {"id": "d2", "type": "fixed", "amount": "30.00"},
            {"id": "d3", "type": "fixed", "amount": "0.00"}
        ],
        "tax": {"regions": {"R": [{"name": "t", "rate": "10"}]}}
    }));
    // a's base: 100 − 10 − 10 = 80.
    assert_eq!(
        out["tax"],
        json!([{"region": "R", "name": "t", "base": "80.00", "amount": "8.00"}])
    );
    assert_eq!(
        amounts(&out)[3..].to_vec(),
        pairs(&[("discount", "-10.00"), ("discount", "-30.00")])
    );
    assert_eq!(out["items"][3]["line_id"], "d1");
    assert_eq!(out["subtotal"], "260.00");
    assert_eq!(out["total"], "268.00");
}

#[test]
fn stacked_discounts_create_a_credit_and_apply_none() {
    let out = ok(json!({
        "lines": [{"id": "a", "type": "fixed", "amount": "50.00", "tax_region": "R"}],
        "discounts": [
            {"id": "d1", "type": "fixed", "amount": "40.00"},
            {"id": "d2", "type": "percentage", "percent": "50"}
        ],
        "tax": {"regions": {"R": [{"name": "t", "rate": "10"}]}},
        "credits": [{"id": "c", "amount": "5.00", "currency": "USD"}]
    }));
    assert_eq!(out["subtotal"], "-15.00");
    assert_eq!(out["tax"], json!([]));
    assert_eq!(out["total"], "-15.00");
    assert_eq!(out["amount_due"], "0.00");
    assert_eq!(out["credit_created"], "15.00");
    assert_eq!(out["credits_applied"], json!([]));
}

#[test]
fn exempt_and_reverse_charge_owe_no_tax() {
    let body = |flag: &str| {
        json!({
            "lines": [{"id": "a", "type": "fixed", "amount": "50.00", "tax_region": "R"}],
            "tax": {flag: true, "regions": {"R": [{"name": "t", "rate": "10"}]}}
        })
    };
    let out = ok(body("exempt"));
    assert_eq!(
        (out["tax_total"].clone(), out["reverse_charge"].clone()),
        (json!("0.00"), json!(false))
    );
    let out = ok(body("reverse_charge"));
    assert_eq!(
        (out["tax_total"].clone(), out["reverse_charge"].clone()),
        (json!("0.00"), json!(true))
    );
    assert_eq!(ok(json!({}))["reverse_charge"], false);
}

#[test]
fn credits_pay_soonest_expiring_first() {
    let out = ok(json!({
        "lines": [{"id": "a", "type": "fixed", "amount": "100.00"}],
        "credits": [
            {"id": "never", "amount": "80.00", "currency": "USD"},
            {"id": "soon", "amount": "30.00", "currency": "USD", "expires_on": "2026-02-01"},
            {"id": "old", "amount": "30.00", "currency": "USD", "expires_on": "2026-01-31"},
            {"id": "eur", "amount": "30.00", "currency": "EUR"},
            {"id": "spare", "amount": "30.00", "currency": "USD", "expires_on": null}
        ]
    }));
    assert_eq!(
        out["credits_applied"],
        json!([{"credit_id": "soon", "amount": "30.00"}, {"credit_id": "never", "amount": "70.00"}])
    );
    assert_eq!(out["amount_due"], "0.00");
    assert_eq!(out["credit_created"], "0.00");
}

#[test]
fn minor_units_follow_the_currency() {
    let out = preview(
        &json!({"currency": "JPY", "period": {"start": "2026-01-01", "end": "2026-02-01"},
        "lines": [{"id": "p", "type": "product", "unit_price": "333.5", "quantity": "3"}]}),
    )
    .unwrap();
    assert_eq!(out["items"][0]["amount"], "1001");
    assert_eq!(out["total"], "1001");
    let out = preview(
        &json!({"currency": "KWD", "period": {"start": "2026-01-01", "end": "2026-02-01"},
        "lines": [{"id": "p", "type": "product", "unit_price": "0.0005", "quantity": "3"}]}),
    )
    .unwrap();
    assert_eq!(out["items"][0]["amount"], "0.002");
    assert_eq!(out["amount_due"], "0.002");
}

#[test]
fn empty_request_is_an_empty_invoice() {
    let out = ok(json!({}));
    assert_eq!(
        out,
        json!({"currency": "USD", "period": {"start": "2026-01-01", "end": "2026-02-01"}, "items": [],
            "subtotal": "0.00", "tax": [], "tax_total": "0.00", "total": "0.00", "credits_applied": [],
            "amount_due": "0.00", "credit_created": "0.00", "reverse_charge": false, "buckets": []})
    );
}

#[test]
fn every_400_rule_names_its_field() {
    let fixed = |extra: Value| {
        let mut l = json!({"id": "f", "type": "fixed", "amount": "10.00"});
        for (k, v) in extra.as_object().unwrap() {
            l[k] = v.clone();
        }
        json!({"lines": [l]})
    };
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"period": {"start": "2026-01-01", "end": "2026-01-01"}}),
            "period.end",
        ),
        (
            json!({"period": {"start": "2026-01-01", "end": "2027-01-03"}}),
            "period.end",
        ),
        (json!({"period": {"start": "2026-01-01"}}), "period.end"),
        (json!({"currency": "usd"}), "currency"),
        (json!({"currency": "XAU"}), "currency"),
        (fixed(json!({"amount": "10.500"})), "lines[0].amount"),
        (fixed(json!({"amount": "-1.00"})), "lines[0].amount"),
        (fixed(json!({"amount": "1."})), "lines[0].amount"),
        (fixed(json!({"amount": ".5"})), "lines[0].amount"),
        (
            fixed(json!({"amount": "99999999999999999999999999999999"})),
            "lines[0].amount",
        ),
        (
            fixed(json!({"active_from": "2026-01-10", "active_to": "2026-01-10"})),
            "lines[0].active_to",
        ),
        (
            fixed(json!({"active_from": "2026-01-32"})),
            "lines[0].active_from",
        ),
        (fixed(json!({"services": []})), "lines[0].services"),
        (
            fixed(json!({"services": [{"id": "s", "weight": "0"}]})),
            "lines[0].services[0].weight",
        ),
        (
            fixed(json!({"services": [{"id": "s", "weight": "1"}, {"id": "s", "weight": "1"}]})),
            "lines[0].services[1].id",
        ),
        (
            fixed(json!({"tax_region": "NOPE"}))
                .as_object()
                .unwrap()
                .clone()
                .into_iter()
                .chain([("tax".to_owned(), json!({"regions": {"R": []}}))])
                .collect::<serde_json::Map<_, _>>()
                .into(),
            "lines[0].tax_region",
        ),
        (fixed(json!({"prorate": "yes"})), "lines[0].prorate"),
        (fixed(json!({"id": 7})), "lines[0].id"),
        (
            json!({"lines": [{"id": "a", "type": "fixed", "amount": "1"}, {"id": "a", "type": "fixed", "amount": "1"}]}),
            "lines[1].id",
        ),
        (
            json!({"lines": [{"id": "h", "type": "hourly", "rate": "1.0000001"}]}),
            "lines[0].rate",
        ),
        (
            json!({"lines": [{"id": "h", "type": "hourly", "rate": "1", "round_up_to_minutes": -15}]}),
            "lines[0].round_up_to_minutes",
        ),
        (
            json!({"lines": [{"id": "h", "type": "hourly", "rate": "1", "overtime": {"after_minutes": 1.5, "rate": "2"}}]}),
            "lines[0].overtime.after_minutes",
        ),
        (
            json!({"lines": [{"id": "b", "type": "bucket", "included_minutes": "600", "fee": "1", "overage_rate": "1"}]}),
            "lines[0].included_minutes",
        ),
        (
            json!({"lines": [{"id": "b", "type": "bucket", "included_minutes": 600, "fee": "1.001", "overage_rate": "1"}]}),
            "lines[0].fee",
        ),
        (
            json!({"lines": [{"id": "u", "type": "usage", "tiers": [{"up_to": "10", "unit_price": "1"}]}]}),
            "lines[0].tiers[0].up_to",
        ),
        (
            json!({"lines": [{"id": "u", "type": "usage", "tiers": [{"up_to": null, "unit_price": "1"}, {"up_to": null, "unit_price": "1"}]}]}),
            "lines[0].tiers[0].up_to",
        ),
        (
            json!({"lines": [{"id": "u", "type": "usage", "tiers": [{"up_to": "10", "unit_price": "1"}, {"up_to": "10", "unit_price": "1"}, {"up_to": null, "unit_price": "1"}]}]}),
            "lines[0].tiers[1].up_to",
        ),
        (
            json!({"lines": [{"id": "u", "type": "usage", "tiers": []}]}),
            "lines[0].tiers",
        ),
        (
            json!({"lines": [{"id": "u", "type": "usage", "unit_price": "1", "tier_mode": "stairs"}]}),
            "lines[0].tier_mode",
        ),
        (
            json!({"lines": [{"id": "p", "type": "product", "unit_price": "1", "quantity": "-2"}]}),
            "lines[0].quantity",
        ),
        (
            json!({"time_entries": [{"id": "t", "line": "x", "minutes": 5}]}),
            "time_entries[0].line",
        ),
        (
            json!({"lines": [{"id": "p", "type": "product", "unit_price": "1", "quantity": "2"}],
                "time_entries": [{"id": "t", "line": "p", "minutes": 5}]}),
            "time_entries[0].line",
        ),
        (
            json!({"lines": [{"id": "h", "type": "hourly", "rate": "1"}],
                "time_entries": [{"id": "t", "line": "h", "minutes": 5}, {"id": "t", "line": "h", "minutes": 5}]}),
            "time_entries[1].id",
        ),
        (
            json!({"lines": [{"id": "h", "type": "hourly", "rate": "1"}],
                "time_entries": [{"id": "t", "line": "h", "minutes": 5, "rate": "-1"}]}),
            "time_entries[0].rate",
        ),
        (
            json!({"lines": [{"id": "h", "type": "hourly", "rate": "1"}],
                "usage": [{"line": "h", "quantity": "1"}]}),
            "usage[0].line",
        ),
        (
            json!({"lines": [{"id": "u", "type": "usage", "unit_price": "1"}],
                "usage": [{"line": "u", "quantity": 1}]}),
            "usage[0].quantity",
        ),
        (
            json!({"lines": [{"id": "a", "type": "fixed", "amount": "1"}],
                "discounts": [{"id": "a", "type": "fixed", "amount": "1"}]}),
            "discounts[0].id",
        ),
        (
            json!({"discounts": [{"id": "d", "type": "fixed", "amount": "1"}, {"id": "d", "type": "fixed", "amount": "1"}]}),
            "discounts[1].id",
        ),
        (
            json!({"discounts": [{"id": "d", "type": "percentage", "percent": "100.01"}]}),
            "discounts[0].percent",
        ),
        (
            json!({"discounts": [{"id": "d", "type": "percentage", "percent": "-1"}]}),
            "discounts[0].percent",
        ),
        (
            json!({"discounts": [{"id": "d", "type": "fixed", "amount": "1", "lines": []}]}),
            "discounts[0].lines",
        ),
        (
            json!({"discounts": [{"id": "d", "type": "fixed", "amount": "1", "lines": ["ghost"]}]}),
            "discounts[0].lines[0]",
        ),
        (
            json!({"discounts": [{"id": "d", "type": "fixed", "amount": "0.001"}]}),
            "discounts[0].amount",
        ),
        (
            json!({"discounts": [{"id": "d", "type": "coupon"}]}),
            "discounts[0].type",
        ),
        (
            json!({"tax": {"regions": {"VAT": [{"name": "v", "rate": "-20"}]}}}),
            "tax.regions.VAT[0].rate",
        ),
        (
            json!({"tax": {"regions": {"VAT": [{"name": "v", "brackets": [{"up_to": "5", "rate": "1"}, {"up_to": "4", "rate": "1"}, {"up_to": null, "rate": "1"}]}]}}}),
            "tax.regions.VAT[0].brackets[1].up_to",
        ),
        (
            json!({"tax": {"regions": {"VAT": [{"name": "v", "brackets": [{"up_to": "5", "rate": "1"}]}]}}}),
            "tax.regions.VAT[0].brackets[0].up_to",
        ),
        (
            json!({"tax": {"regions": {"VAT": [{"rate": "1"}]}}}),
            "tax.regions.VAT[0].name",
        ),
        (
            json!({"credits": [{"id": "c", "amount": "1.001", "currency": "USD"}]}),
            "credits[0].amount",
        ),
        (
            json!({"credits": [{"id": "c", "amount": "1.5", "currency": "JPY"}]}),
            "credits[0].amount",
        ),
        (
            json!({"credits": [{"id": "c", "amount": "1", "currency": "XXX"}]}),
            "credits[0].currency",
        ),
        (
            json!({"credits": [{"id": "c", "amount": "1", "currency": "USD"}, {"id": "c", "amount": "1", "currency": "USD"}]}),
            "credits[1].id",
        ),
        (
            json!({"credits": [{"id": "c", "amount": "1", "currency": "USD", "expires_on": "soon"}]}),
            "credits[0].expires_on",
        ),
    ];
    for (extra, expected) in cases {
        assert_eq!(field(extra.clone()), expected, "{extra}");
    }
}

#[test]
fn more_discounts_than_an_invoice_may_carry_are_refused() {
    let discounts = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| json!({"id": format!("d{i}"), "type": "percentage", "percent": "1"}))
            .collect()
    };
    let lines = json!([{"id": "p", "type": "product", "unit_price": "10", "quantity": "1"}]);
    let at_most = ok(json!({"lines": lines, "discounts": discounts(MAX_DISCOUNTS)}));
    assert_eq!(
        at_most["items"].as_array().map(Vec::len),
        Some(1 + MAX_DISCOUNTS)
    );
    assert_eq!(
        field(json!({"lines": lines, "discounts": discounts(MAX_DISCOUNTS + 1)})),
        "discounts"
    );
}

#[test]
fn hostile_magnitudes_are_refused_not_panicked_on() {
    let huge = "10000000000000000000";
    let cases = vec![
        json!({"lines": [{"id": "p", "type": "product", "unit_price": huge, "quantity": huge}]}),
        json!({"lines": [{"id": "u", "type": "usage", "unit_price": huge}],
               "usage": [{"line": "u", "quantity": "79228162514264337593543950335"},
                         {"line": "u", "quantity": "79228162514264337593543950335"}]}),
        json!({"lines": [
            {"id": "a", "type": "fixed", "amount": "79228162514264337593543950335"},
            {"id": "b", "type": "fixed", "amount": "79228162514264337593543950335"}]}),
        json!({"lines": [{"id": "a", "type": "fixed", "amount": "79228162514264337593543950335", "prorate": true, "active_from": "2026-01-02"}]}),
        json!({"lines": [{"id": "h", "type": "hourly", "rate": "79228162514264337593543950335"}],
               "time_entries": [{"id": "t", "line": "h", "minutes": 1000000000}]}),
    ];
    for c in cases {
        let e = preview(&request(c.clone())).unwrap_err();
        assert!(!e.field.is_empty(), "{c}: {e}");
    }
    // Weights that cannot share one scale in 128 bits are refused on the services.
    let e = preview(&request(json!({"lines": [{"id": "f", "type": "fixed", "amount": "1.00",
        "services": [{"id": "a", "weight": "79228162514264337593543950335"}, {"id": "b", "weight": "0.0000000000000000000000000001"}]}]})))
    .unwrap_err();
    assert_eq!(e.field, "lines[0].services");
    // Products beyond 128 bits still split exactly (the 256-bit path).
    let out = ok(
        json!({"lines": [{"id": "f", "type": "fixed", "amount": "1000000000000000000000.00",
        "services": [{"id": "a", "weight": "79228162514264337593543950335"}, {"id": "b", "weight": "1"}]}]}),
    );
    assert_eq!(
        out["items"][0]["allocations"][0]["amount"],
        "1000000000000000000000.00"
    );
    assert_eq!(out["items"][0]["allocations"][1]["amount"], "0.00");
}

#[test]
fn a_thousand_lines_and_ten_thousand_entries_stay_fast() {
    let lines: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"id": format!("h{i}"), "type": "hourly", "rate": "97.50", "tax_region": "R",
            "overtime": {"after_minutes": 300, "rate": "150"}})
        })
        .collect();
    let entries: Vec<Value> = (0..10_000)
        .map(|k| json!({"id": format!("t{k}"), "line": format!("h{}", k % 1000), "minutes": 37 + k % 50}))
        .collect();
    let discounts: Vec<Value> = (0..100)
        .map(|d| json!({"id": format!("d{d}"), "type": "percentage", "percent": "0.5"}))
        .collect();
    let body = request(
        json!({"lines": lines, "time_entries": entries, "discounts": discounts,
        "tax": {"regions": {"R": [{"name": "t", "rate": "7.25"}]}}}),
    );
    let started = std::time::Instant::now();
    let out = preview(&body).unwrap();
    // Debug builds are several times slower than the edge's release build.
    assert!(
        started.elapsed().as_secs_f64() < 2.0,
        "{:?}",
        started.elapsed()
    );
    assert!(out["items"].as_array().unwrap().len() >= 10_100);
}
