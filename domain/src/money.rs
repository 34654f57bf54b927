//! Money: an exact decimal amount with its ISO 4217 currency. Never a float.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Serialised as a string ("12.50") so no JSON reader turns it into a float.
    pub amount: Decimal,
    /// ISO 4217 code, upper case (`USD`, `EUR`).
    pub currency: String,
}

impl Money {
    pub fn new(amount: Decimal, currency: &str) -> Self {
        Self {
            amount,
            currency: currency.to_owned(),
        }
    }

    /// Whether `currency` has the shape of an ISO 4217 code.
    pub fn currency_is_valid(&self) -> bool {
        self.currency.len() == 3 && self.currency.bytes().all(|b| b.is_ascii_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_travel_as_exact_strings() {
        let m = Money::new(
            Decimal::from_str("0.10").unwrap() + Decimal::from_str("0.20").unwrap(),
            "USD",
        );
        let json = serde_json::to_value(&m).unwrap();
        assert_eq!(json["amount"], "0.30");
        assert_eq!(serde_json::from_value::<Money>(json).unwrap(), m);
    }

    #[test]
    fn currency_shape() {
        assert!(Money::new(Decimal::ONE, "EUR").currency_is_valid());
        for bad in ["eur", "EURO", "E1R", ""] {
            assert!(!Money::new(Decimal::ONE, bad).currency_is_valid(), "{bad}");
        }
    }
}
