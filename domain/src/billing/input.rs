//! The typed preview request, and the JSON reader that builds it with a field path per error.
//!
//! The reader checks shape and syntax only (JSON types, strict decimals and dates, integer
//! minutes, known currencies); the business rules live in `validate.rs` so that a request the
//! stored path assembles from the database is checked by exactly the same rules.
//! Unknown fields are ignored, as most JSON APIs do; `null` on an optional field means absent.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Map, Value};

use super::currency::InvoiceCurrency;
use super::decimal::parse_strict;
use super::error::InputError;

/// The most minutes any one minutes field may hold (about 1,900 years); it keeps every minute
/// sum of 10,000 entries far inside `u64` and `Decimal`.
pub const MAX_MINUTES: u64 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewInput {
    pub currency: InvoiceCurrency,
    pub period: Period,
    pub lines: Vec<Line>,
    pub time_entries: Vec<TimeEntry>,
    pub usage: Vec<UsageRecord>,
    pub discounts: Vec<Discount>,
    pub tax: Option<Tax>,
    pub credits: Vec<Credit>,
}

/// `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub start: NaiveDate,
    pub end: NaiveDate,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub id: String,
    pub tax_region: Option<String>,
    pub taxable: bool,
    pub kind: LineKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LineKind {
    Fixed(FixedLine),
    Hourly(HourlyLine),
    Bucket(BucketLine),
    Usage(UsageLine),
    Product(ProductLine),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FixedLine {
    pub amount: Decimal,
    pub active_from: Option<NaiveDate>,
    /// Exclusive.
    pub active_to: Option<NaiveDate>,
    pub prorate: bool,
    pub services: Option<Vec<Service>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: String,
    pub weight: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HourlyLine {
    pub rate: Decimal,
    pub minimum_minutes: u64,
    pub round_up_to_minutes: u64,
    pub overtime: Option<Overtime>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Overtime {
    pub after_minutes: u64,
    pub rate: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BucketLine {
    pub included_minutes: u64,
    pub fee: Decimal,
    pub overage_rate: Decimal,
    pub rollover_minutes: u64,
    pub max_rollover_minutes: u64,
    pub minimum_minutes: u64,
    pub round_up_to_minutes: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub enum UsageLine {
    Flat { unit_price: Decimal },
    Tiered { tiers: Vec<Tier>, mode: TierMode },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tier {
    /// Inclusive upper bound; `None` only on the last tier.
    pub up_to: Option<Decimal>,
    pub unit_price: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TierMode {
    Graduated,
    Volume,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProductLine {
    pub unit_price: Decimal,
    pub quantity: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimeEntry {
    pub id: String,
    pub line: String,
    pub minutes: u64,
    pub billable: bool,
    pub rate: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UsageRecord {
    pub line: String,
    pub quantity: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Discount {
    pub id: String,
    pub kind: DiscountKind,
    /// `None`: every line.
    pub lines: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DiscountKind {
    Percentage { percent: Decimal },
    Fixed { amount: Decimal },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tax {
    pub exempt: bool,
    pub reverse_charge: bool,
    /// Ordered by name, which is the order of the answer's tax rows.
    pub regions: BTreeMap<String, Vec<TaxComponent>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TaxComponent {
    pub name: String,
    pub compound: bool,
    pub rate: TaxRate,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TaxRate {
    /// Percent.
    Flat(Decimal),
    Brackets(Vec<Bracket>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Bracket {
    /// Inclusive upper bound in major units; `None` only on the last bracket.
    pub up_to: Option<Decimal>,
    /// Percent.
    pub rate: Decimal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Credit {
    pub id: String,
    pub amount: Decimal,
    pub currency: InvoiceCurrency,
    pub expires_on: Option<NaiveDate>,
}

impl PreviewInput {
    /// Reads the request body (shape and syntax); call `validate` for the business rules.
    pub fn from_json(body: &Value) -> Result<Self, InputError> {
        let root = Obj::root(body)?;
        let currency = root.currency("currency")?;
        let p = root.req_obj("period")?;
        let period = Period {
            start: p.req_date("start")?,
            end: p.req_date("end")?,
        };
        let lines = root.list("lines", read_line)?;
        let time_entries = root.list("time_entries", |o| {
            Ok(TimeEntry {
                id: o.req_str("id")?,
                line: o.req_str("line")?,
                minutes: o.req_minutes("minutes")?,
                billable: o.opt_bool("billable")?.unwrap_or(true),
                rate: o.opt_decimal("rate")?,
            })
        })?;
        let usage = root.list("usage", |o| {
            Ok(UsageRecord {
                line: o.req_str("line")?,
                quantity: o.req_decimal("quantity")?,
            })
        })?;
        let discounts = root.list("discounts", read_discount)?;
        let tax = match root.opt_obj("tax")? {
            Some(t) => Some(read_tax(&t)?),
            None => None,
        };
        let credits = root.list("credits", |o| {
            Ok(Credit {
                id: o.req_str("id")?,
                amount: o.req_decimal("amount")?,
                currency: o.currency("currency")?,
                expires_on: o.opt_date("expires_on")?,
            })
        })?;
        Ok(Self {
            currency,
            period,
            lines,
            time_entries,
            usage,
            discounts,
            tax,
            credits,
        })
    }
}

fn read_line(o: &Obj<'_>) -> Result<Line, InputError> {
    let kind = match o.req_str("type")?.as_str() {
        "fixed" => LineKind::Fixed(FixedLine {
            amount: o.req_decimal("amount")?,
            active_from: o.opt_date("active_from")?,
            active_to: o.opt_date("active_to")?,
            prorate: o.opt_bool("prorate")?.unwrap_or(false),
            services: o.opt_list("services", |s| {
                Ok(Service {
                    id: s.req_str("id")?,
                    weight: s.req_decimal("weight")?,
                })
            })?,
        }),
        "hourly" => LineKind::Hourly(HourlyLine {
            rate: o.req_decimal("rate")?,
            minimum_minutes: o.opt_minutes("minimum_minutes")?.unwrap_or(0),
            round_up_to_minutes: o.opt_minutes("round_up_to_minutes")?.unwrap_or(0),
            overtime: match o.opt_obj("overtime")? {
                Some(ot) => Some(Overtime {
                    after_minutes: ot.req_minutes("after_minutes")?,
                    rate: ot.req_decimal("rate")?,
                }),
                None => None,
            },
        }),
        "bucket" => LineKind::Bucket(BucketLine {
            included_minutes: o.req_minutes("included_minutes")?,
            fee: o.req_decimal("fee")?,
            overage_rate: o.req_decimal("overage_rate")?,
            rollover_minutes: o.opt_minutes("rollover_minutes")?.unwrap_or(0),
            max_rollover_minutes: o.opt_minutes("max_rollover_minutes")?.unwrap_or(0),
            minimum_minutes: o.opt_minutes("minimum_minutes")?.unwrap_or(0),
            round_up_to_minutes: o.opt_minutes("round_up_to_minutes")?.unwrap_or(0),
        }),
        "usage" => {
            let unit_price = o.opt_decimal("unit_price")?;
            let tiers = o.opt_list("tiers", |t| {
                Ok(Tier {
                    up_to: t.nullable_decimal("up_to")?,
                    unit_price: t.req_decimal("unit_price")?,
                })
            })?;
            let mode = match o.opt_str("tier_mode")?.as_deref() {
                None | Some("graduated") => TierMode::Graduated,
                Some("volume") => TierMode::Volume,
                Some(_) => {
                    return Err(o.err("tier_mode", "must be \"graduated\" or \"volume\""));
                }
            };
            LineKind::Usage(match (unit_price, tiers) {
                (Some(unit_price), None) => UsageLine::Flat { unit_price },
                (None, Some(tiers)) => UsageLine::Tiered { tiers, mode },
                (Some(_), Some(_)) => {
                    return Err(o.err("tiers", "give either unit_price or tiers, not both"));
                }
                (None, None) => {
                    return Err(o.err("unit_price", "is required (or give tiers)"));
                }
            })
        }
        "product" => LineKind::Product(ProductLine {
            unit_price: o.req_decimal("unit_price")?,
            quantity: o.req_decimal("quantity")?,
        }),
        _ => {
            return Err(o.err(
                "type",
                "must be one of \"fixed\", \"hourly\", \"bucket\", \"usage\", \"product\"",
            ));
        }
    };
    Ok(Line {
        id: o.req_str("id")?,
        tax_region: o.opt_str("tax_region")?,
        taxable: o.opt_bool("taxable")?.unwrap_or(true),
        kind,
    })
}

fn read_discount(o: &Obj<'_>) -> Result<Discount, InputError> {
    let id = o.req_str("id")?;
    let kind = match o.req_str("type")?.as_str() {
        "percentage" => DiscountKind::Percentage {
            percent: o.req_decimal("percent")?,
        },
        "fixed" => DiscountKind::Fixed {
            amount: o.req_decimal("amount")?,
        },
        _ => return Err(o.err("type", "must be \"percentage\" or \"fixed\"")),
    };
    let lines = match o.get("lines") {
        None => None,
        Some(v) => {
            let path = o.path("lines");
            let items = v
                .as_array()
                .ok_or_else(|| InputError::new(&path, "must be an array of line ids"))?;
            let mut ids = Vec::with_capacity(items.len());
            for (j, item) in items.iter().enumerate() {
                let id = item
                    .as_str()
                    .ok_or_else(|| InputError::new(format!("{path}[{j}]"), "must be a string"))?;
                ids.push(id.to_owned());
            }
            Some(ids)
        }
    };
    Ok(Discount { id, kind, lines })
}

fn read_tax(t: &Obj<'_>) -> Result<Tax, InputError> {
    let exempt = t.opt_bool("exempt")?.unwrap_or(false);
    let reverse_charge = t.opt_bool("reverse_charge")?.unwrap_or(false);
    let regions_obj = t.req_obj("regions")?;
    let mut regions = BTreeMap::new();
    for (name, value) in regions_obj.map {
        let path = regions_obj.path(name);
        let components = value
            .as_array()
            .ok_or_else(|| InputError::new(&path, "must be an array of tax components"))?;
        let mut list = Vec::with_capacity(components.len());
        for (j, c) in components.iter().enumerate() {
            let c = Obj::at(c, format!("{path}[{j}]"))?;
            let rate = c.opt_decimal("rate")?;
            let brackets = c.opt_list("brackets", |b| {
                Ok(Bracket {
                    up_to: b.nullable_decimal("up_to")?,
                    rate: b.req_decimal("rate")?,
                })
            })?;
            let rate = match (rate, brackets) {
                (Some(r), None) => TaxRate::Flat(r),
                (None, Some(b)) => TaxRate::Brackets(b),
                (Some(_), Some(_)) => {
                    return Err(c.err("brackets", "give either rate or brackets, not both"));
                }
                (None, None) => return Err(c.err("rate", "is required (or give brackets)")),
            };
            list.push(TaxComponent {
                name: c.req_str("name")?,
                compound: c.opt_bool("compound")?.unwrap_or(false),
                rate,
            });
        }
        regions.insert(name.clone(), list);
    }
    Ok(Tax {
        exempt,
        reverse_charge,
        regions,
    })
}

/// A JSON object with the path it sits at, so every error can name its field.
struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    fn root(v: &'a Value) -> Result<Self, InputError> {
        Self::at(v, String::new())
    }

    fn at(v: &'a Value, path: String) -> Result<Self, InputError> {
        match v.as_object() {
            Some(map) => Ok(Self { map, path }),
            None => {
                let field = if path.is_empty() {
                    "body".to_owned()
                } else {
                    path
                };
                Err(InputError::new(field, "must be a JSON object"))
            }
        }
    }

    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    fn err(&self, key: &str, message: &str) -> InputError {
        InputError::new(self.path(key), message)
    }

    /// Present and not null.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn required(&self, key: &str) -> Result<&'a Value, InputError> {
        self.get(key).ok_or_else(|| self.err(key, "is required"))
    }

    fn req_str(&self, key: &str) -> Result<String, InputError> {
        self.required(key)?
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.err(key, "must be a string"))
    }

    fn opt_str(&self, key: &str) -> Result<Option<String>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or_else(|| self.err(key, "must be a string")),
        }
    }

    fn opt_bool(&self, key: &str) -> Result<Option<bool>, InputError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| self.err(key, "must be true or false")),
        }
    }

    fn decimal_of(&self, key: &str, v: &Value) -> Result<Decimal, InputError> {
        let s = v.as_str().ok_or_else(|| {
            self.err(
                key,
                "must be a decimal written as a JSON string, such as \"12.50\"",
            )
        })?;
        parse_strict(s).map_err(|e| self.err(key, e.message()))
    }

    fn req_decimal(&self, key: &str) -> Result<Decimal, InputError> {
        self.decimal_of(key, self.required(key)?)
    }

    fn opt_decimal(&self, key: &str) -> Result<Option<Decimal>, InputError> {
        self.get(key).map(|v| self.decimal_of(key, v)).transpose()
    }

    /// A field that must be present but whose `null` carries meaning ("no upper bound").
    fn nullable_decimal(&self, key: &str) -> Result<Option<Decimal>, InputError> {
        match self.map.get(key) {
            None => Err(self.err(key, "is required (null for no upper bound)")),
            Some(Value::Null) => Ok(None),
            Some(v) => self.decimal_of(key, v).map(Some),
        }
    }

    fn minutes_of(&self, key: &str, v: &Value) -> Result<u64, InputError> {
        match v.as_u64() {
            Some(n) if n <= MAX_MINUTES => Ok(n),
            _ => Err(self.err(
                key,
                &format!("must be a whole number of minutes from 0 to {MAX_MINUTES}"),
            )),
        }
    }

    fn req_minutes(&self, key: &str) -> Result<u64, InputError> {
        self.minutes_of(key, self.required(key)?)
    }

    fn opt_minutes(&self, key: &str) -> Result<Option<u64>, InputError> {
        self.get(key).map(|v| self.minutes_of(key, v)).transpose()
    }

    fn date_of(&self, key: &str, v: &Value) -> Result<NaiveDate, InputError> {
        v.as_str()
            .and_then(parse_date)
            .ok_or_else(|| self.err(key, "must be a date written \"YYYY-MM-DD\""))
    }

    fn req_date(&self, key: &str) -> Result<NaiveDate, InputError> {
        self.date_of(key, self.required(key)?)
    }

    fn opt_date(&self, key: &str) -> Result<Option<NaiveDate>, InputError> {
        self.get(key).map(|v| self.date_of(key, v)).transpose()
    }

    fn currency(&self, key: &str) -> Result<InvoiceCurrency, InputError> {
        let code = self.req_str(key)?;
        InvoiceCurrency::from_code(&code).ok_or_else(|| {
            self.err(
                key,
                "must be an ISO 4217 currency code with minor units, such as \"USD\"",
            )
        })
    }

    fn req_obj(&self, key: &str) -> Result<Obj<'a>, InputError> {
        Obj::at(self.required(key)?, self.path(key))
    }

    fn opt_obj(&self, key: &str) -> Result<Option<Obj<'a>>, InputError> {
        self.get(key)
            .map(|v| Obj::at(v, self.path(key)))
            .transpose()
    }

    fn opt_list<T>(
        &self,
        key: &str,
        read: impl Fn(&Obj<'a>) -> Result<T, InputError>,
    ) -> Result<Option<Vec<T>>, InputError> {
        let Some(v) = self.get(key) else {
            return Ok(None);
        };
        let path = self.path(key);
        let items = v
            .as_array()
            .ok_or_else(|| InputError::new(&path, "must be an array"))?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            out.push(read(&Obj::at(item, format!("{path}[{i}]"))?)?);
        }
        Ok(Some(out))
    }

    fn list<T>(
        &self,
        key: &str,
        read: impl Fn(&Obj<'a>) -> Result<T, InputError>,
    ) -> Result<Vec<T>, InputError> {
        Ok(self.opt_list(key, read)?.unwrap_or_default())
    }
}

/// Exactly "YYYY-MM-DD": chrono alone would also take "2026-1-1" or "+2026-01-01".
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(body: Value) -> InputError {
        PreviewInput::from_json(&body).unwrap_err()
    }

    fn base() -> Value {
        json!({"currency": "USD", "period": {"start": "2026-01-01", "end": "2026-02-01"}})
    }

    fn with(key: &str, v: Value) -> Value {
        let mut b = base();
        b[key] = v;
        b
    }

    #[test]
    fn minimal_request_reads_with_empty_lists() {
        let input = PreviewInput::from_json(&base()).unwrap();
        assert_eq!(input.currency.code(), "USD");
        assert!(input.lines.is_empty() && input.tax.is_none() && input.credits.is_empty());
    }

    #[test]
    fn dates_are_strict() {
        for bad in [
            "2026-1-01",
            "2026-02-30",
            "+2026-01-01",
            "20260101",
            "2026-01-01T00:00",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
        assert!(parse_date("2024-02-29").is_some());
        let e =
            err(json!({"currency": "USD", "period": {"start": "2026-01-01", "end": "2026/02/01"}}));
        assert_eq!(e.field, "period.end");
    }

    #[test]
    fn body_and_currency_errors_name_the_field() {
        assert_eq!(err(json!([1])).field, "body");
        assert_eq!(err(json!({"period": {}})).field, "currency");
        assert_eq!(err(with("currency", json!("XAU"))).field, "currency");
        assert_eq!(err(with("currency", json!(840))).field, "currency");
        assert_eq!(err(with("period", json!("2026-01"))).field, "period");
    }

    #[test]
    fn decimals_must_be_strings_and_minutes_integers() {
        let e = err(with(
            "lines",
            json!([{"id": "a", "type": "fixed", "amount": 10.5}]),
        ));
        assert_eq!(e.field, "lines[0].amount");
        let e = err(with(
            "lines",
            json!([{"id": "a", "type": "fixed", "amount": "1e3"}]),
        ));
        assert_eq!(e.field, "lines[0].amount");
        for bad in [
            json!(60.0),
            json!(1.5),
            json!("60"),
            json!(-1),
            json!(1_000_000_001u64),
            json!(1e30),
        ] {
            let e = err(with(
                "time_entries",
                json!([{"id": "t", "line": "h", "minutes": bad}]),
            ));
            assert_eq!(e.field, "time_entries[0].minutes", "{bad}");
        }
        let e = err(with(
            "lines",
            json!([{"id": "h", "type": "hourly", "rate": "1", "minimum_minutes": 2.5}]),
        ));
        assert_eq!(e.field, "lines[0].minimum_minutes");
    }

    #[test]
    fn usage_and_tax_need_exactly_one_pricing() {
        let e = err(with(
            "lines",
            json!([{"id": "u", "type": "usage", "unit_price": "1", "tiers": [{"up_to": null, "unit_price": "1"}]}]),
        ));
        assert_eq!(e.field, "lines[0].tiers");
        let e = err(with("lines", json!([{"id": "u", "type": "usage"}])));
        assert_eq!(e.field, "lines[0].unit_price");
        let e = err(with("tax", json!({"regions": {"VAT": [{"name": "v"}]}})));
        assert_eq!(e.field, "tax.regions.VAT[0].rate");
        let e = err(with(
            "tax",
            json!({"regions": {"VAT": [{"name": "v", "rate": "1", "brackets": []}]}}),
        ));
        assert_eq!(e.field, "tax.regions.VAT[0].brackets");
        let e = err(with(
            "tax",
            json!({"regions": {"VAT": [{"name": "v", "rate": 20}]}}),
        ));
        assert_eq!(e.field, "tax.regions.VAT[0].rate");
        let e = err(with("tax", json!({"exempt": true})));
        assert_eq!(e.field, "tax.regions");
    }

    #[test]
    fn unknown_kinds_and_credit_currencies_are_refused() {
        let e = err(with("lines", json!([{"id": "x", "type": "subscription"}])));
        assert_eq!(e.field, "lines[0].type");
        let e = err(with(
            "credits",
            json!([{"id": "c", "amount": "1", "currency": "ZZZ"}]),
        ));
        assert_eq!(e.field, "credits[0].currency");
        let e = err(with(
            "discounts",
            json!([{"id": "d", "type": "fixed", "amount": "1", "lines": [3]}]),
        ));
        assert_eq!(e.field, "discounts[0].lines[0]");
        let e = err(with("lines", json!({"id": "x"})));
        assert_eq!(e.field, "lines");
    }
}
