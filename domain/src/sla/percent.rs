//! A percentage of an SLA phase's target, valid by construction.
//!
//! Thresholds, escalation points and the breach are all "this much of the target": a bare
//! integer let a 0 or a 65 535 slip in wherever a conversion fell back to a default. A
//! [`Percent`] is always in `1..=1000` (the range the API accepts and the `sla_*` tables'
//! checks enforce), so a value read from storage or a workflow history is either usable or a
//! typed error naming it, never silently something else.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole percentage of a target, from [`Percent::MIN`] to [`Percent::MAX`].
///
/// Serialized as a bare number, as the `u16` it replaces was, so events and workflow
/// histories written before it read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u16")]
pub struct Percent(u16);

/// A value outside `1..=1000` where a [`Percent`] was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "{value} is not a percentage between {} and {}",
    Percent::MIN,
    Percent::MAX
)]
pub struct PercentError {
    /// What was given (widened, so the message shows it exactly).
    pub value: i128,
}

impl Percent {
    /// The smallest percentage a threshold may name.
    pub const MIN: Percent = Percent(1);
    /// The largest: ten times the target.
    pub const MAX: Percent = Percent(1000);
    /// The whole target: reaching it breaches the phase. Every "100" that means the breach
    /// is this constant.
    pub const BREACH: Percent = Percent(100);

    /// `value` as a percentage, if it is in range. `const`, so fixed lists of percentages
    /// are checked when they are compiled.
    pub const fn new(value: u16) -> Result<Percent, PercentError> {
        if value >= Self::MIN.0 && value <= Self::MAX.0 {
            Ok(Percent(value))
        } else {
            Err(PercentError {
                value: value as i128,
            })
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }

    /// Below the breach: a warning.
    pub const fn is_warning(self) -> bool {
        self.0 < Self::BREACH.0
    }
}

/// A [`Percent`] from a literal, checked when the crate is compiled (an out-of-range literal
/// fails the build), for fixed lists such as the defaults.
macro_rules! percent {
    ($value:literal) => {{
        const P: $crate::sla::Percent = match $crate::sla::Percent::new($value) {
            Ok(p) => p,
            Err(_) => panic!(concat!(stringify!($value), " is not a percentage")),
        };
        P
    }};
}
pub(crate) use percent;

impl fmt::Display for Percent {
    /// The bare number: step keys and messages that printed the `u16` print the same.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

macro_rules! try_from_int {
    ($($int:ty),*) => {$(
        impl TryFrom<$int> for Percent {
            type Error = PercentError;
            fn try_from(value: $int) -> Result<Self, Self::Error> {
                u16::try_from(value)
                    .ok()
                    .and_then(|v| Percent::new(v).ok())
                    .ok_or(PercentError { value: i128::from(value) })
            }
        }
    )*};
}
try_from_int!(i16, i32, i64, u16, u32, u64);

macro_rules! into_int {
    ($($int:ty),*) => {$(
        impl From<Percent> for $int {
            fn from(p: Percent) -> $int {
                <$int>::from(p.0)
            }
        }
    )*};
}
into_int!(u16, u32, u64, u128, i32, i64);

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bounds_are_inclusive() {
        assert_eq!(Percent::try_from(1i64).map(Percent::get), Ok(1));
        assert_eq!(Percent::try_from(1000i64).map(Percent::get), Ok(1000));
        assert_eq!(
            Percent::try_from(0i64),
            Err(PercentError { value: 0 }),
            "zero is no threshold"
        );
        assert!(Percent::try_from(1001i32).is_err());
        assert!(Percent::try_from(-1i16).is_err());
        assert!(Percent::try_from(u64::MAX).is_err());
        assert!(Percent::try_from(i64::MIN).is_err());
    }

    #[test]
    fn the_breach_is_the_whole_target() {
        assert_eq!(Percent::BREACH.get(), 100);
        assert!(Percent::try_from(99u16).is_ok_and(Percent::is_warning));
        assert!(!Percent::BREACH.is_warning());
        assert!(Percent::MIN < Percent::BREACH && Percent::BREACH < Percent::MAX);
    }

    #[test]
    fn errors_name_the_value() {
        assert_eq!(
            Percent::try_from(-70_000i64).unwrap_err().to_string(),
            "-70000 is not a percentage between 1 and 1000"
        );
        assert_eq!(
            Percent::try_from(u64::MAX).unwrap_err().value,
            i128::from(u64::MAX)
        );
    }

    #[test]
    fn serializes_as_the_bare_number_and_refuses_out_of_range() {
        assert_eq!(serde_json::to_string(&Percent::BREACH).unwrap(), "100");
        assert_eq!(
            serde_json::from_str::<Percent>("75").unwrap(),
            Percent::try_from(75u16).unwrap()
        );
        for bad in ["0", "1001", "-5", "70000", "12.5", "\"50\""] {
            assert!(serde_json::from_str::<Percent>(bad).is_err(), "{bad}");
        }
        assert_eq!(Percent::BREACH.to_string(), "100");
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_range(v in any::<i64>()) {
            let p = Percent::try_from(v);
            prop_assert_eq!(p.is_ok(), (1..=1000).contains(&v));
            if let Ok(p) = p {
                prop_assert_eq!(i64::from(p), v);
            }
        }

        #[test]
        fn conversions_agree_across_widths(v in any::<u16>()) {
            let narrow = Percent::try_from(v).ok();
            prop_assert_eq!(narrow, Percent::try_from(i32::from(v)).ok());
            prop_assert_eq!(narrow, Percent::try_from(u64::from(v)).ok());
            prop_assert_eq!(narrow, Percent::new(v).ok());
        }

        #[test]
        fn json_round_trips(v in 1u16..=1000) {
            let p = Percent::new(v).unwrap();
            let json = serde_json::to_string(&p).unwrap();
            prop_assert_eq!(&json, &v.to_string());
            prop_assert_eq!(serde_json::from_str::<Percent>(&json).unwrap(), p);
        }

        #[test]
        fn order_is_the_numbers_order(a in 1u16..=1000, b in 1u16..=1000) {
            let (pa, pb) = (Percent::new(a).unwrap(), Percent::new(b).unwrap());
            prop_assert_eq!(pa.cmp(&pb), a.cmp(&b));
        }
    }
}
