//! Which currencies an invoice (or a credit) may be written in, and their minor units.
//!
//! The minor units come from ISO 4217 through `iso_currency` rather than a table of our own, so
//! they stay right when the standard changes. Codes without minor units (gold, SDR, ...) cannot
//! be rounded to a cent and are refused for invoicing.

use iso_currency::Currency;

/// An ISO 4217 currency with a defined number of minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InvoiceCurrency {
    currency: Currency,
    minor_units: u32,
}

impl InvoiceCurrency {
    /// `None` for anything but an upper-case ISO 4217 code that has minor units.
    pub fn from_code(code: &str) -> Option<Self> {
        let currency = Currency::from_code(code)?;
        let minor_units = u32::from(currency.exponent()?);
        Some(Self {
            currency,
            minor_units,
        })
    }

    pub fn code(&self) -> &'static str {
        self.currency.code()
    }

    /// m: every amount in this currency is rounded to this many decimals.
    pub fn minor_units(&self) -> u32 {
        self.minor_units
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_come_from_iso_4217() {
        for (code, m) in [("USD", 2), ("JPY", 0), ("KWD", 3), ("EUR", 2), ("CLF", 4)] {
            let c = InvoiceCurrency::from_code(code).expect(code);
            assert_eq!(c.minor_units(), m, "{code}");
            assert_eq!(c.code(), code);
        }
    }

    #[test]
    fn unknown_lower_case_and_unitless_codes_are_refused() {
        for bad in ["XAU", "XDR", "usd", "ABC", "", "USDX"] {
            assert!(InvoiceCurrency::from_code(bad).is_none(), "{bad}");
        }
    }
}
