//! Whole request documents through `billing::preview`, compared with the exact answer.
//!
//! The expected answers were worked out by hand (and with exact fractions) from the contract,
//! not copied from the engine's output; the comments show the arithmetic.

#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test.

use psa_domain::billing::preview;
use serde_json::{Value, json};

fn field_of(body: Value) -> String {
    preview(&body).unwrap_err().field
}

#[test]
fn usd_invoice_with_every_line_kind_discounts_tax_and_credits() {
    let body = json!({
        "currency": "USD",
        "period": {"start": "2026-01-01", "end": "2026-02-01"},
        "lines": [
            {"id": "mgd", "type": "fixed", "amount": "1550.00", "active_from": "2026-01-11", "prorate": true,
             "tax_region": "CA-QC", "services": [{"id": "helpdesk", "weight": "2"}, {"id": "backup", "weight": "1"}]},
            {"id": "support", "type": "hourly", "rate": "150.00", "minimum_minutes": 30, "round_up_to_minutes": 15,
             "overtime": {"after_minutes": 120, "rate": "225"}, "tax_region": "CA-QC"},
            {"id": "block", "type": "bucket", "included_minutes": 600, "fee": "800.00", "overage_rate": "120",
             "rollover_minutes": 30, "max_rollover_minutes": 60, "round_up_to_minutes": 15,
             "tax_region": "CA-QC", "taxable": false},
            {"id": "storage", "type": "usage", "tax_region": "US-NY", "tiers": [
                {"up_to": "100", "unit_price": "0.50"}, {"up_to": "500", "unit_price": "0.25"},
                {"up_to": null, "unit_price": "0.10"}]},
            {"id": "licenses", "type": "product", "unit_price": "12.99", "quantity": "7", "tax_region": "US-NY"},
            {"id": "flatvol", "type": "usage", "tier_mode": "volume", "tiers": [
                {"up_to": "100", "unit_price": "0.50"}, {"up_to": null, "unit_price": "0.10"}]}
        ],
        "time_entries": [
            {"id": "e1", "line": "support", "minutes": 70},
            {"id": "e2", "line": "support", "minutes": 10, "billable": false},
            {"id": "e3", "line": "support", "minutes": 20, "rate": "100"},
            {"id": "e4", "line": "support", "minutes": 50},
            {"id": "b1", "line": "block", "minutes": 400, "rate": "999"},
            {"id": "b2", "line": "block", "minutes": 250}
        ],
        "usage": [
            {"line": "storage", "quantity": "250.5"},
            {"line": "flatvol", "quantity": "100"},
            {"line": "storage", "quantity": "400"}
        ],
        "discounts": [
            {"id": "loyal", "type": "percentage", "percent": "10", "lines": ["support"]},
            {"id": "welcome", "type": "fixed", "amount": "100.00"},
            {"id": "promo", "type": "fixed", "amount": "5.00", "lines": ["licenses"]}
        ],
        "tax": {"regions": {
            "US-NY": [{"name": "state", "brackets": [{"up_to": "100.00", "rate": "4"}, {"up_to": null, "rate": "8.875"}]}],
            "CA-QC": [{"name": "GST", "rate": "5"}, {"name": "QST", "rate": "9.975", "compound": true}]
        }},
        "credits": [
            {"id": "c-never", "amount": "500.00", "currency": "USD"},
            {"id": "c-soon", "amount": "200.00", "currency": "USD", "expires_on": "2026-03-01"},
            {"id": "c-expired", "amount": "50.00", "currency": "USD", "expires_on": "2026-01-15"},
            {"id": "c-eur", "amount": "10.00", "currency": "EUR"},
            {"id": "c-zero", "amount": "0.00", "currency": "USD", "expires_on": "2026-02-01"}
        ],
        "ignored_extra_field": {"anything": 1}
    });
    // mgd: 1550 × 21/31 = 1050.00, split 2:1.
    // support: e1 70→75 (time 187.50); e2 unbillable; e3 20→30 at its own 100/h (50.00);
    //   e4 50→60 crosses 120 after 105: 15 time (37.50) + 45 overtime at 225 (168.75).
    // block: 400→405, 250→255: used 660 of 600+30, overage 30 × 120/60 = 60.00.
    // storage: q 650.5 → 100×0.5 + 400×0.25 + 150.5×0.1 = 165.05; licenses 7×12.99 = 90.93;
    // flatvol: q 100 ≤ 100 → 100 × 0.50 = 50.00.
    // loyal: 10% of 443.75 = 44.375 → 44.38; welcome: 100.00 over all line items; promo: 5.00.
    // Line items 2659.73 − 149.38 = 2510.35.
    // CA-QC base: mgd + support − their shares = 1393.21; GST 69.6605 → 69.67;
    //   QST on 1462.88 at 9.975% = 145.922… → 145.93.
    // US-NY base: 165.05 + 90.93 − 6.20 − 8.42 = 241.36; 100×4% + 141.36×8.875% = 16.5457… → 16.55.
    // Total 2742.50; c-soon 200 then c-never 500; due 2042.50.
    let expected = json!({
        "currency": "USD",
        "period": {"start": "2026-01-01", "end": "2026-02-01"},
        "items": [
            {"line_id": "mgd", "kind": "fixed", "amount": "1050.00", "allocations": [
                {"service_id": "helpdesk", "amount": "700.00"}, {"service_id": "backup", "amount": "350.00"}]},
            {"line_id": "support", "kind": "time", "entry_id": "e1", "minutes": 75, "rate": "150.00", "amount": "187.50"},
            {"line_id": "support", "kind": "time", "entry_id": "e3", "minutes": 30, "rate": "100", "amount": "50.00"},
            {"line_id": "support", "kind": "time", "entry_id": "e4", "minutes": 15, "rate": "150.00", "amount": "37.50"},
            {"line_id": "support", "kind": "overtime", "entry_id": "e4", "minutes": 45, "rate": "225", "amount": "168.75"},
            {"line_id": "block", "kind": "bucket_fee", "amount": "800.00"},
            {"line_id": "block", "kind": "bucket_overage", "minutes": 30, "rate": "120", "amount": "60.00"},
            {"line_id": "storage", "kind": "usage", "quantity": "650.5", "amount": "165.05"},
            {"line_id": "licenses", "kind": "product", "quantity": "7", "amount": "90.93"},
            {"line_id": "flatvol", "kind": "usage", "quantity": "100", "amount": "50.00"},
            {"line_id": "loyal", "kind": "discount", "amount": "-44.38"},
            {"line_id": "welcome", "kind": "discount", "amount": "-100.00"},
            {"line_id": "promo", "kind": "discount", "amount": "-5.00"}
        ],
        "subtotal": "2510.35",
        "tax": [
            {"region": "CA-QC", "name": "GST", "base": "1393.21", "amount": "69.67"},
            {"region": "CA-QC", "name": "QST", "base": "1462.88", "amount": "145.93"},
            {"region": "US-NY", "name": "state", "base": "241.36", "amount": "16.55"}
        ],
        "tax_total": "232.15",
        "total": "2742.50",
        "credits_applied": [
            {"credit_id": "c-soon", "amount": "200.00"},
            {"credit_id": "c-never", "amount": "500.00"}
        ],
        "amount_due": "2042.50",
        "credit_created": "0.00",
        "reverse_charge": false,
        "buckets": [
            {"line_id": "block", "used_minutes": 660, "overage_minutes": 30, "unused_minutes": 0, "rollover_out_minutes": 0}
        ]
    });
    assert_eq!(preview(&body).unwrap(), expected);
}

#[test]
fn jpy_stacked_discounts_under_reverse_charge_create_a_credit() {
    let body = json!({
        "currency": "JPY",
        "period": {"start": "2026-03-01", "end": "2026-03-31"},
        "lines": [
            {"id": "plan", "type": "fixed", "amount": "10000", "active_from": "2026-03-11", "prorate": true, "tax_region": "EU"},
            {"id": "h", "type": "hourly", "rate": "5000", "tax_region": "EU"}
        ],
        "time_entries": [
            {"id": "long", "line": "h", "minutes": 45},
            {"id": "short", "line": "h", "minutes": 1}
        ],
        "discounts": [
            {"id": "all", "type": "fixed", "amount": "8000"},
            {"id": "half", "type": "percentage", "percent": "50"}
        ],
        "tax": {"reverse_charge": true, "regions": {"EU": [{"name": "VAT", "rate": "19"}]}},
        "credits": [{"id": "jp", "amount": "1000", "currency": "JPY"}]
    });
    // plan: 10000 × 20/30 = 6666.67 → 6667; long 3750; short 83.33 → 83; base 10500.
    // all: min(8000, 10500); half: 5250; subtotal −2750; reverse charge: no tax.
    let expected = json!({
        "currency": "JPY",
        "period": {"start": "2026-03-01", "end": "2026-03-31"},
        "items": [
            {"line_id": "plan", "kind": "fixed", "amount": "6667"},
            {"line_id": "h", "kind": "time", "entry_id": "long", "minutes": 45, "rate": "5000", "amount": "3750"},
            {"line_id": "h", "kind": "time", "entry_id": "short", "minutes": 1, "rate": "5000", "amount": "83"},
            {"line_id": "all", "kind": "discount", "amount": "-8000"},
            {"line_id": "half", "kind": "discount", "amount": "-5250"}
        ],
        "subtotal": "-2750",
        "tax": [],
        "tax_total": "0",
        "total": "-2750",
        "credits_applied": [],
        "amount_due": "0",
        "credit_created": "2750",
        "reverse_charge": true,
        "buckets": []
    });
    assert_eq!(preview(&body).unwrap(), expected);
}

#[test]
fn kwd_exempt_invoice_spends_credits_by_expiry() {
    let body = json!({
        "currency": "KWD",
        "period": {"start": "2026-02-01", "end": "2026-03-01"},
        "lines": [
            {"id": "svc", "type": "fixed", "amount": "12.345", "tax_region": "KW"},
            {"id": "p", "type": "product", "unit_price": "0.1235", "quantity": "3", "tax_region": "KW"}
        ],
        "discounts": [{"id": "d", "type": "percentage", "percent": "12.5"}],
        "tax": {"exempt": true, "regions": {"KW": [{"name": "VAT", "rate": "5"}]}},
        "credits": [
            {"id": "late", "amount": "0.500", "currency": "KWD", "expires_on": "2026-06-01"},
            {"id": "tie-a", "amount": "5", "currency": "KWD", "expires_on": "2026-03-01"},
            {"id": "expired", "amount": "1.000", "currency": "KWD", "expires_on": "2026-02-28"},
            {"id": "tie-b", "amount": "5.000", "currency": "KWD", "expires_on": "2026-03-01"},
            {"id": "forever", "amount": "100", "currency": "KWD", "expires_on": null}
        ]
    });
    // p: 0.3705 → 0.371; base 12.716; 12.5% = 1.5895 → 1.590; total 11.126.
    let expected = json!({
        "currency": "KWD",
        "period": {"start": "2026-02-01", "end": "2026-03-01"},
        "items": [
            {"line_id": "svc", "kind": "fixed", "amount": "12.345"},
            {"line_id": "p", "kind": "product", "quantity": "3", "amount": "0.371"},
            {"line_id": "d", "kind": "discount", "amount": "-1.590"}
        ],
        "subtotal": "11.126",
        "tax": [],
        "tax_total": "0.000",
        "total": "11.126",
        "credits_applied": [
            {"credit_id": "tie-a", "amount": "5.000"},
            {"credit_id": "tie-b", "amount": "5.000"},
            {"credit_id": "late", "amount": "0.500"},
            {"credit_id": "forever", "amount": "0.626"}
        ],
        "amount_due": "0.000",
        "credit_created": "0.000",
        "reverse_charge": false,
        "buckets": []
    });
    assert_eq!(preview(&body).unwrap(), expected);
}

#[test]
fn bad_documents_name_the_field() {
    let period = json!({"start": "2026-01-01", "end": "2026-02-01"});
    assert_eq!(field_of(json!("not an object")), "body");
    assert_eq!(field_of(json!({"currency": "USD"})), "period");
    assert_eq!(
        field_of(json!({"currency": "EURO", "period": period})),
        "currency"
    );
    assert_eq!(
        field_of(json!({"currency": "USD", "period": period,
            "lines": [{"id": "a", "type": "fixed", "amount": "1", "tax_region": "EU"}],
            "tax": {"regions": {"VAT": [{"name": "v", "rate": "20"}]}}})),
        "lines[0].tax_region"
    );
    assert_eq!(
        field_of(json!({"currency": "USD", "period": period,
            "tax": {"regions": {"VAT": [{"name": "v", "rate": "20.0000001"}]}}})),
        "tax.regions.VAT[0].rate"
    );
    assert_eq!(
        field_of(json!({"currency": "USD", "period": period,
            "lines": [{"id": "a", "type": "fixed", "amount": 10}]})),
        "lines[0].amount"
    );
    assert_eq!(
        field_of(json!({"currency": "USD", "period": period,
            "lines": [{"id": "h", "type": "hourly", "rate": "1"}],
            "time_entries": [{"id": "t", "line": "h", "minutes": 60.0}]})),
        "time_entries[0].minutes"
    );
}
