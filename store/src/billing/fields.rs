//! Checks shared by the billing records: decimals as strings, currencies, and the stored JSON
//! (line terms, tax components) checked by running the engine's own reader over a one-line
//! request, so a stored record can never hold what the engine would refuse at invoice time.

use crate::error::StoreError;
use psa_domain::billing::{self, InvoiceCurrency, MAX_RATE_DECIMALS, parse_strict};
use psa_domain::validation::{FieldError, ValidationErrors};
use rust_decimal::Decimal;
use serde_json::{Map, Value, json};

/// Amounts and quantities above this are refused: far past any invoice, and well inside what
/// the engine's arithmetic holds.
fn max_decimal() -> Decimal {
    Decimal::from(1_000_000_000_000_000_000_i64)
}

/// A non-negative decimal written as the preview contract writes them ("150.00"), with at
/// most `max_decimals` places.
pub(crate) fn decimal(
    e: &mut ValidationErrors,
    field: &str,
    s: &str,
    max_decimals: u32,
) -> Option<Decimal> {
    let d = match parse_strict(s) {
        Ok(d) => d,
        Err(err) => {
            e.push(field, err.message());
            return None;
        }
    };
    if d.is_sign_negative() && !d.is_zero() {
        e.push(field, "must not be negative");
        return None;
    }
    if d > max_decimal() {
        e.push(field, "is too large");
        return None;
    }
    if d.scale() > max_decimals {
        e.push(field, format!("must have at most {max_decimals} decimals"));
        return None;
    }
    Some(d)
}

/// A price per unit: at most six decimals, like the engine's rates.
pub(crate) fn rate(e: &mut ValidationErrors, field: &str, s: &str) -> Option<Decimal> {
    decimal(e, field, s, MAX_RATE_DECIMALS)
}

/// A decimal string the engine has already accepted, as a number for its column.
pub(crate) fn parse_decimal(s: &str) -> Result<Decimal, StoreError> {
    parse_strict(s).map_err(|e| StoreError::internal(anyhow::anyhow!("{s}: {}", e.message())))
}

/// An ISO 4217 code.
pub(crate) fn currency(
    e: &mut ValidationErrors,
    field: &str,
    code: &str,
) -> Option<InvoiceCurrency> {
    let c = InvoiceCurrency::from_code(code);
    if c.is_none() {
        e.push(field, "must be an ISO 4217 currency code");
    }
    c
}

/// An amount of money in `currency`: positive, and no finer than its minor unit.
pub(crate) fn money(
    e: &mut ValidationErrors,
    field: &str,
    s: &str,
    currency: InvoiceCurrency,
) -> Option<Decimal> {
    let d = decimal(e, field, s, currency.minor_units())?;
    if d.is_zero() {
        e.push(field, "must be positive");
        return None;
    }
    Some(d)
}

/// A currency with the most minor units, for checking terms before any currency is known:
/// anything finer is wrong in every currency; coarser amounts are checked again per currency
/// when a client is put on the contract.
pub(crate) const FINEST_CURRENCY: &str = "KWD";

/// The keys a stored line's `terms` may not set, because the line record itself holds them.
const LINE_KEYS: [&str; 4] = ["id", "type", "taxable", "tax_region"];

/// The fields the engine reads for each kind of line. The engine passes over others; a stored
/// record refuses them, so a misspelt `minimun_minutes` is an error now rather than a minimum
/// silently missing from every invoice.
fn terms_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "fixed" => &["amount", "active_from", "active_to", "prorate", "services"],
        "hourly" => &["rate", "minimum_minutes", "round_up_to_minutes", "overtime"],
        "bucket" => &[
            "included_minutes",
            "fee",
            "overage_rate",
            "rollover_minutes",
            "max_rollover_minutes",
            "minimum_minutes",
            "round_up_to_minutes",
        ],
        "usage" => &["unit_price", "tiers", "tier_mode"],
        "product" => &["unit_price", "quantity"],
        _ => &[],
    }
}

/// The fields of a tax component, and how many components one region may have.
const COMPONENT_FIELDS: [&str; 4] = ["name", "rate", "compound", "brackets"];
pub(crate) const MAX_COMPONENTS: usize = 20;

/// Runs the engine's reader over a request holding one line of `kind` with `terms` in
/// `currency`, and names any fault as `terms.…`.
pub(crate) fn check_terms(kind: &str, terms: &Value, currency: &str) -> Result<(), StoreError> {
    let Value::Object(fields) = terms else {
        return Err(StoreError::invalid("terms", "must be an object"));
    };
    if let Some(k) = LINE_KEYS.iter().find(|k| fields.contains_key(**k)) {
        return Err(StoreError::invalid(
            &format!("terms.{k}"),
            "is set by the line itself, not its terms",
        ));
    }
    let known = terms_fields(kind);
    if let Some(k) = fields.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(StoreError::invalid(
            &format!("terms.{k}"),
            format!(
                "is not a field of {kind} lines (expected one of {})",
                known.join(", ")
            ),
        ));
    }
    let mut line = Map::new();
    line.insert("id".into(), json!("line"));
    line.insert("type".into(), json!(kind));
    line.extend(fields.clone());
    engine_check(
        &json!({
            "currency": currency,
            "period": {"start": "2026-01-01", "end": "2026-02-01"},
            "lines": [Value::Object(line)],
        }),
        &[("lines[0]", "terms")],
    )
}

/// Runs the engine's reader over a request whose only tax region is `components`, and names
/// any fault as `components…`.
pub(crate) fn check_components(components: &Value) -> Result<(), StoreError> {
    let Some(list) = components.as_array().filter(|c| !c.is_empty()) else {
        return Err(StoreError::invalid(
            "components",
            "must be a non-empty list",
        ));
    };
    if list.len() > MAX_COMPONENTS {
        return Err(StoreError::invalid(
            "components",
            format!("a region has at most {MAX_COMPONENTS} components"),
        ));
    }
    for (i, c) in list.iter().enumerate() {
        let Value::Object(c) = c else {
            return Err(StoreError::invalid(
                &format!("components[{i}]"),
                "must be an object",
            ));
        };
        if let Some(k) = c.keys().find(|k| !COMPONENT_FIELDS.contains(&k.as_str())) {
            return Err(StoreError::invalid(
                &format!("components[{i}].{k}"),
                "is not a field of a tax component (name, rate, compound, brackets)",
            ));
        }
    }
    engine_check(
        &json!({
            "currency": "USD",
            "period": {"start": "2026-01-01", "end": "2026-02-01"},
            "tax": {"regions": {"region": components}},
        }),
        &[("tax.regions.region", "components")],
    )
}

/// The engine's verdict on `request`, with its field paths renamed by `renames` (prefix →
/// replacement) to the caller's field names.
fn engine_check(request: &Value, renames: &[(&str, &str)]) -> Result<(), StoreError> {
    billing::read_request(request).map(|_| ()).map_err(|err| {
        let field = renames
            .iter()
            .find_map(|(from, to)| {
                err.field
                    .strip_prefix(from)
                    .map(|rest| format!("{to}{rest}"))
            })
            .unwrap_or(err.field);
        StoreError::Invalid(ValidationErrors(vec![FieldError::new(field, err.message)]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_strict_non_negative_and_bounded() {
        let mut e = ValidationErrors::default();
        assert_eq!(decimal(&mut e, "q", "1.50", 2), Some(Decimal::new(150, 2)));
        assert_eq!(decimal(&mut e, "q", "1.505", 2), None);
        assert_eq!(decimal(&mut e, "q", "-1", 2), None);
        assert_eq!(decimal(&mut e, "q", "1e3", 2), None);
        assert_eq!(decimal(&mut e, "q", "1000000000000000001", 2), None);
        assert_eq!(e.0.len(), 4);
    }

    #[test]
    fn terms_faults_are_named_under_terms() {
        let err = check_terms("hourly", &json!({"rate": "-1"}), "USD").unwrap_err();
        let StoreError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(v.0[0].field, "terms.rate");
        assert!(check_terms("hourly", &json!({"rate": "150.00"}), "USD").is_ok());
        assert!(check_terms("fixed", &json!({"amount": "10.500"}), "USD").is_err());
        assert!(check_terms("fixed", &json!({"amount": "10.500"}), FINEST_CURRENCY).is_ok());
        assert!(check_terms("fixed", &json!({"id": "x", "amount": "1"}), "USD").is_err());
        let err = check_terms(
            "hourly",
            &json!({"rate": "1", "minimun_minutes": 30}),
            "USD",
        )
        .unwrap_err();
        let StoreError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(v.0[0].field, "terms.minimun_minutes");
    }

    #[test]
    fn component_faults_are_named_under_components() {
        let err = check_components(&json!([{"name": "VAT", "rate": "x"}])).unwrap_err();
        let StoreError::Invalid(v) = err else {
            panic!("{err:?}")
        };
        assert_eq!(v.0[0].field, "components[0].rate");
        assert!(check_components(&json!([{"name": "VAT", "rate": "20"}])).is_ok());
        assert!(check_components(&json!([])).is_err());
        assert!(check_components(&json!([{"name": "VAT", "rate": "20", "rat": "1"}])).is_err());
        let many: Vec<Value> = (0..=MAX_COMPONENTS)
            .map(|i| json!({"name": format!("C{i}"), "rate": "1"}))
            .collect();
        assert!(check_components(&Value::Array(many)).is_err());
    }
}
