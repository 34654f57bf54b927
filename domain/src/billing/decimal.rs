//! Exact decimals on the wire: strict parsing, the two roundings, and fixed-width printing.
//!
//! Money never passes through a float. The request carries decimals as strings in one plain
//! shape (`-?digits(.digits)?`), so "1e3", "+5", " 5", "1." and ".5" are refused rather than
//! guessed at; too many digits for `Decimal` is a refusal too, never a silent rounding.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

/// Why a decimal string was refused; the reader turns it into an `InputError` on its field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalSyntaxError {
    Malformed,
    TooManyDigits,
}

impl DecimalSyntaxError {
    pub fn message(self) -> &'static str {
        match self {
            Self::Malformed => {
                "must be a decimal string: an optional '-', digits, and optionally '.' followed by digits"
            }
            Self::TooManyDigits => "has too many digits to be represented exactly",
        }
    }
}

// Anything longer cannot fit 28 significant digits anyway; refusing early bounds the work.
const MAX_DECIMAL_CHARS: usize = 64;

/// Parses `-?[0-9]+(\.[0-9]+)?` exactly, keeping the written scale ("10.50" has scale 2) so
/// that "more than m decimals" can be judged on what the caller wrote.
pub fn parse_strict(s: &str) -> Result<Decimal, DecimalSyntaxError> {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || frac.is_some_and(|f| !digits(f)) {
        return Err(DecimalSyntaxError::Malformed);
    }
    if s.len() > MAX_DECIMAL_CHARS {
        return Err(DecimalSyntaxError::TooManyDigits);
    }
    let value = Decimal::from_str_exact(s).map_err(|_| DecimalSyntaxError::TooManyDigits)?;
    // "-0.00" is zero, not a negative amount.
    Ok(if value.is_zero() {
        Decimal::new(0, value.scale())
    } else {
        value
    })
}

/// "round": half away from zero to `m` decimals.
pub fn round_half_away(d: Decimal, m: u32) -> Decimal {
    d.round_dp_with_strategy(m, RoundingStrategy::MidpointAwayFromZero)
}

/// "round up": away from zero to `m` decimals.
pub fn round_up(d: Decimal, m: u32) -> Decimal {
    d.round_dp_with_strategy(m, RoundingStrategy::AwayFromZero)
}

/// A money value with exactly `m` decimals ("1500.00", JPY "1500"). Built from the digits
/// rather than by rescaling, which `Decimal` cannot do near its upper bound.
pub fn format_money(d: Decimal, m: u32) -> String {
    let r = round_half_away(d, m);
    let text = r.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let mut out = String::with_capacity(text.len() + 2);
    if r.is_sign_negative() && !r.is_zero() {
        out.push('-');
    }
    out.push_str(int);
    if m > 0 {
        out.push('.');
        out.push_str(frac);
        for _ in frac.len()..m as usize {
            out.push('0');
        }
    }
    out
}

/// Rates and quantities echoed back as written ("150.00" stays "150.00"); a usage line's
/// total quantity keeps the most decimals of its records ("10" + "5.50" is "15.50"), as
/// decimal arithmetic does. A zero written "-0" comes back without its sign.
pub fn format_plain(d: Decimal) -> String {
    if d.is_zero() {
        return d.abs().to_string();
    }
    d.to_string()
}

/// Digits after the point as written (`Decimal` keeps the scale it was parsed with).
pub fn written_decimals(d: Decimal) -> u32 {
    d.scale()
}

fn ten_pow(m: u32) -> Option<Decimal> {
    let mut p = Decimal::ONE;
    for _ in 0..m {
        p = p.checked_mul(Decimal::TEN)?;
    }
    Some(p)
}

/// A non-negative amount already rounded to `m` decimals, in minor units.
pub fn to_minor_units(d: Decimal, m: u32) -> Option<u128> {
    if d.is_sign_negative() && !d.is_zero() {
        return None;
    }
    d.checked_mul(ten_pow(m)?)?.trunc().to_u128()
}

/// The inverse of `to_minor_units`.
pub fn from_minor_units(units: u128, m: u32) -> Option<Decimal> {
    let n = i128::try_from(units).ok()?;
    Decimal::try_from_i128_with_scale(n, m).ok()
}

/// Non-negative decimals brought to one common scale as integers, so they can be compared and
/// split exactly. `None` when they cannot share a scale within 128 bits.
pub fn to_common_integers(values: &[Decimal]) -> Option<Vec<u128>> {
    let scale = values.iter().map(|d| d.scale()).max().unwrap_or(0);
    values
        .iter()
        .map(|d| {
            let mantissa = u128::try_from(d.mantissa()).ok()?;
            let mut factor: u128 = 1;
            for _ in d.scale()..scale {
                factor = factor.checked_mul(10)?;
            }
            mantissa.checked_mul(factor)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn strict_syntax() {
        for ok in ["0", "10", "10.50", "-3.2", "007.10", "-0"] {
            assert!(parse_strict(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "-", "1.", ".5", "+1", "1e3", "1E3", " 1", "1 ", "1,5", "1.2.3", "--1", "0x10",
            "NaN", "inf", "١",
        ] {
            assert_eq!(
                parse_strict(bad),
                Err(DecimalSyntaxError::Malformed),
                "{bad}"
            );
        }
    }

    #[test]
    fn keeps_written_scale_and_unsigns_zero() {
        assert_eq!(written_decimals(parse_strict("10.500").unwrap()), 3);
        let z = parse_strict("-0.00").unwrap();
        assert!(!z.is_sign_negative());
        assert_eq!(format_money(z, 2), "0.00");
    }

    #[test]
    fn too_many_digits_is_an_error_not_a_panic() {
        for big in [
            "79228162514264337593543950336",
            "0.00000000000000000000000000001",
            "123456789012345678901234567890.5",
            &"9".repeat(200),
        ] {
            assert_eq!(
                parse_strict(big),
                Err(DecimalSyntaxError::TooManyDigits),
                "{big}"
            );
        }
        assert!(parse_strict("79228162514264337593543950335").is_ok());
    }

    #[test]
    fn roundings() {
        assert_eq!(round_half_away(d("2.345"), 2), d("2.35"));
        assert_eq!(round_half_away(d("-2.345"), 2), d("-2.35"));
        assert_eq!(round_half_away(d("2.344"), 2), d("2.34"));
        assert_eq!(round_up(d("8.875"), 2), d("8.88"));
        assert_eq!(round_up(d("2.341"), 2), d("2.35"));
        assert_eq!(round_up(d("2.34"), 2), d("2.34"));
        assert_eq!(round_up(d("0.1"), 0), d("1"));
    }

    #[test]
    fn money_has_exactly_m_decimals() {
        assert_eq!(format_money(d("1500"), 2), "1500.00");
        assert_eq!(format_money(d("1500"), 0), "1500");
        assert_eq!(format_money(d("1.5"), 3), "1.500");
        assert_eq!(format_money(d("-10.5"), 2), "-10.50");
        assert_eq!(format_money(d("0.005"), 2), "0.01");
        assert_eq!(
            format_money(d("79228162514264337593543950335"), 2),
            "79228162514264337593543950335.00"
        );
        assert_eq!(format_plain(d("150.000")), "150.000");
        assert_eq!(format_plain(d("0.50")), "0.50");
        assert_eq!(format_plain(d("-0.00")), "0.00");
    }

    #[test]
    fn minor_units_round_trip() {
        assert_eq!(to_minor_units(d("125.50"), 2), Some(12550));
        assert_eq!(from_minor_units(12550, 2), Some(d("125.50")));
        assert_eq!(to_minor_units(d("-1"), 2), None);
        assert_eq!(
            to_common_integers(&[d("1.5"), d("2"), d("0.25")]),
            Some(vec![150, 200, 25])
        );
    }
}
