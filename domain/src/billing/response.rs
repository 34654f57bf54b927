//! The invoice draft a preview answers with, serialised exactly in the contract's shape.
//!
//! Money values carry their currency's minor units so that they print with exactly m decimals
//! ("1500.00", JPY "1500") wherever they appear; rates and quantities print as written.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use super::decimal::{format_money, format_plain};

/// A money value of the invoice, printed with exactly `minor_units` decimals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amount {
    pub value: Decimal,
    pub minor_units: u32,
}

impl Amount {
    pub fn new(value: Decimal, minor_units: u32) -> Self {
        Self { value, minor_units }
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_money(self.value, self.minor_units))
    }
}

/// A rate or quantity echoed back as written ("150.00", "2.5").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plain(pub Decimal);

impl Serialize for Plain {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_plain(self.0))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceDraft {
    pub currency: &'static str,
    pub period: PeriodEcho,
    pub items: Vec<Item>,
    pub subtotal: Amount,
    pub tax: Vec<TaxRow>,
    pub tax_total: Amount,
    pub total: Amount,
    pub credits_applied: Vec<CreditApplied>,
    pub amount_due: Amount,
    pub credit_created: Amount,
    pub reverse_charge: bool,
    pub buckets: Vec<BucketReport>,
}

/// Serialised "YYYY-MM-DD", as the request wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeriodEcho {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemKind {
    Fixed,
    Time,
    Overtime,
    BucketFee,
    BucketOverage,
    Usage,
    Product,
    Discount,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Item {
    /// The line's id, or the discount's id for a discount item.
    pub line_id: String,
    pub kind: ItemKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity: Option<Plain>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate: Option<Plain>,
    pub amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocations: Option<Vec<Allocation>>,
}

impl Item {
    /// An item with only the always-present fields set.
    pub fn new(line_id: &str, kind: ItemKind, amount: Amount) -> Self {
        Self {
            line_id: line_id.to_owned(),
            kind,
            entry_id: None,
            minutes: None,
            quantity: None,
            rate: None,
            amount,
            allocations: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Allocation {
    pub service_id: String,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaxRow {
    pub region: String,
    pub name: String,
    pub base: Amount,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CreditApplied {
    pub credit_id: String,
    pub amount: Amount,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketReport {
    pub line_id: String,
    pub used_minutes: u64,
    pub overage_minutes: u64,
    pub unused_minutes: u64,
    pub rollover_out_minutes: u64,
}
