//! OpenAPI schemas of the invoice preview (`psa_domain::billing`): its request, described
//! field by field in the contract README.md points to, and its answer, whose shape the contract
//! check validates live answers against (no other fields allowed).

#![allow(dead_code)]

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// An invoice what-if for one period: contract lines, time entries, usage, discounts, tax and
/// credits, all given inline. Money, quantities, prices, rates, percents and weights are
/// decimal strings (no JSON numbers, no exponent); minutes are integers; dates `YYYY-MM-DD`.
/// Every list is optional; without `tax` nothing is taxed. Nothing is stored.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({
    "currency": "USD",
    "period": {"start": "2026-01-01", "end": "2026-02-01"},
    "lines": [
        {"id": "support", "type": "fixed", "amount": "500.00", "tax_region": "NY",
         "services": [{"id": "helpdesk", "weight": "1"}, {"id": "monitoring", "weight": "3"}]},
        {"id": "onsite", "type": "hourly", "rate": "150", "minimum_minutes": 30,
         "round_up_to_minutes": 15, "tax_region": "NY"}
    ],
    "time_entries": [{"id": "e1", "line": "onsite", "minutes": 70}],
    "discounts": [{"id": "loyalty", "type": "percentage", "percent": "10"}],
    "tax": {"regions": {"NY": [{"name": "Sales tax", "rate": "8.875"}]}},
    "credits": [{"id": "c1", "amount": "20.00", "currency": "USD"}]
}))]
pub struct InvoicePreviewRequest {
    /// ISO 4217 code; its minor units fix every rounding.
    pub currency: String,
    /// `[start, end)`, at most 366 days.
    pub period: PreviewPeriod,
    /// Contract lines, each `{"id", "type": "fixed" | "hourly" | "bucket" | "usage" |
    /// "product", "tax_region"?, "taxable"?, …}` with the fields of its type.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub lines: Vec<Value>,
    /// `{"id", "line", "minutes", "billable"?, "rate"?}` on hourly and bucket lines.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub time_entries: Vec<Value>,
    /// `{"line", "quantity"}` on usage lines.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub usage: Vec<Value>,
    /// `{"id", "type": "percentage", "percent", "lines"?}` or `{"id", "type": "fixed",
    /// "amount", "lines"?}`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub discounts: Vec<Value>,
    /// `{"exempt"?, "reverse_charge"?, "regions": {"NAME": [{"name", "rate"? | "brackets"?,
    /// "compound"?}]}}`.
    #[schema(value_type = Object)]
    pub tax: Option<Value>,
    /// `{"id", "amount", "currency", "expires_on"?}`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub credits: Vec<Value>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewPeriod {
    #[schema(format = Date)]
    pub start: String,
    #[schema(format = Date)]
    pub end: String,
}

/// The invoice the request describes. Every money value has exactly the currency's minor
/// units of decimals ("1500.00"; JPY "1500").
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoicePreview {
    pub currency: String,
    pub period: PreviewPeriod,
    /// By line (request order), then the discounts.
    pub items: Vec<InvoiceItem>,
    pub subtotal: String,
    /// One row per component of each region with a positive base, by region name.
    pub tax: Vec<TaxRow>,
    pub tax_total: String,
    /// `subtotal + tax_total`.
    pub total: String,
    pub credits_applied: Vec<CreditApplied>,
    pub amount_due: String,
    /// What a negative total leaves the client in credit.
    pub credit_created: String,
    pub reverse_charge: bool,
    /// One per bucket line, in line order.
    pub buckets: Vec<BucketReport>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvoiceItem {
    /// The line's id; a discount's own id for a discount item.
    pub line_id: String,
    #[schema(value_type = String, example = "time")]
    /// `fixed`, `time`, `overtime`, `bucket_fee`, `bucket_overage`, `usage`, `product` or
    /// `discount`.
    pub kind: String,
    /// Time and overtime items: the time entry billed.
    pub entry_id: Option<String>,
    /// Time, overtime and bucket overage items.
    pub minutes: Option<u64>,
    /// Usage and product items.
    pub quantity: Option<String>,
    /// Time, overtime and bucket overage items: per hour.
    pub rate: Option<String>,
    pub amount: String,
    /// A fixed line's split over its services, summing to `amount`.
    pub allocations: Option<Vec<Allocation>>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Allocation {
    pub service_id: String,
    pub amount: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaxRow {
    pub region: String,
    pub name: String,
    pub base: String,
    pub amount: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditApplied {
    pub credit_id: String,
    pub amount: String,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BucketReport {
    pub line_id: String,
    pub used_minutes: u64,
    pub overage_minutes: u64,
    pub unused_minutes: u64,
    pub rollover_out_minutes: u64,
}
