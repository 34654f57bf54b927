//! A day of the week as schedules name it, valid by construction.
//!
//! Schedules store ISO weekdays (1 = Monday … 7 = Sunday: the `sla_schedule_hours.weekday`
//! check). A bare integer let a 0 or an 8 reach a query or an array index wherever a
//! conversion fell back to a default; a [`Weekday`] is always one of the seven.

use serde::{Deserialize, Serialize};
use std::fmt;

/// An ISO weekday: 1 = Monday … 7 = Sunday. Serialized as that number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u8")]
pub struct Weekday(u8);

/// A value that is not an ISO weekday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{value} is not an ISO weekday (1 = Monday … 7 = Sunday)")]
pub struct WeekdayError {
    /// What was given (widened, so the message shows it exactly).
    pub value: i128,
}

impl Weekday {
    pub const MONDAY: Weekday = Weekday(1);
    pub const TUESDAY: Weekday = Weekday(2);
    pub const WEDNESDAY: Weekday = Weekday(3);
    pub const THURSDAY: Weekday = Weekday(4);
    pub const FRIDAY: Weekday = Weekday(5);
    pub const SATURDAY: Weekday = Weekday(6);
    pub const SUNDAY: Weekday = Weekday(7);
    /// Monday to Sunday.
    pub const ALL: [Weekday; 7] = [
        Self::MONDAY,
        Self::TUESDAY,
        Self::WEDNESDAY,
        Self::THURSDAY,
        Self::FRIDAY,
        Self::SATURDAY,
        Self::SUNDAY,
    ];

    /// The ISO number, 1 = Monday … 7 = Sunday (what the database stores).
    pub const fn iso(self) -> u8 {
        self.0
    }

    /// Position in a Monday-first week, 0 = Monday … 6 = Sunday (for per-day arrays).
    pub const fn index(self) -> usize {
        self.0 as usize - 1
    }

    /// The weekday at `index` of a Monday-first week, counted round the week.
    pub const fn from_index(index: usize) -> Weekday {
        // `index % 7` is below 7, so the cast keeps it.
        Weekday((index % 7) as u8 + 1)
    }

    /// The day after (Sunday is followed by Monday).
    pub const fn succ(self) -> Weekday {
        Self::from_index(self.index() + 1)
    }
}

impl fmt::Display for Weekday {
    /// The ISO number, as messages printed the integer before.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl From<chrono::Weekday> for Weekday {
    fn from(day: chrono::Weekday) -> Weekday {
        Self::from_index(day.num_days_from_monday() as usize)
    }
}

impl From<Weekday> for chrono::Weekday {
    fn from(day: Weekday) -> chrono::Weekday {
        const DAYS: [chrono::Weekday; 7] = [
            chrono::Weekday::Mon,
            chrono::Weekday::Tue,
            chrono::Weekday::Wed,
            chrono::Weekday::Thu,
            chrono::Weekday::Fri,
            chrono::Weekday::Sat,
            chrono::Weekday::Sun,
        ];
        DAYS[day.index()]
    }
}

macro_rules! try_from_int {
    ($($int:ty),*) => {$(
        impl TryFrom<$int> for Weekday {
            type Error = WeekdayError;
            fn try_from(value: $int) -> Result<Self, Self::Error> {
                u8::try_from(value)
                    .ok()
                    .filter(|d| (1..=7).contains(d))
                    .map(Weekday)
                    .ok_or(WeekdayError { value: i128::from(value) })
            }
        }
    )*};
}
try_from_int!(i16, i32, i64, u8, u16, u32, u64);

macro_rules! into_int {
    ($($int:ty),*) => {$(
        impl From<Weekday> for $int {
            fn from(d: Weekday) -> $int {
                <$int>::from(d.0)
            }
        }
    )*};
}
into_int!(u8, u16, u32, i16, i32, i64);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, NaiveDate};
    use proptest::prelude::*;

    #[test]
    fn iso_numbers_one_to_seven() {
        assert_eq!(Weekday::try_from(1i64), Ok(Weekday::MONDAY));
        assert_eq!(Weekday::try_from(7i16), Ok(Weekday::SUNDAY));
        assert_eq!(
            Weekday::try_from(0i64),
            Err(WeekdayError { value: 0 }),
            "0 is Sunday elsewhere, never here"
        );
        assert!(Weekday::try_from(8u8).is_err());
        assert!(Weekday::try_from(-1i32).is_err());
        assert!(Weekday::try_from(i64::MAX).is_err());
        assert_eq!(
            Weekday::try_from(9i64).unwrap_err().to_string(),
            "9 is not an ISO weekday (1 = Monday … 7 = Sunday)"
        );
    }

    #[test]
    fn matches_chrono() {
        // 2026-03-02 is a Monday.
        let monday = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        for (i, day) in Weekday::ALL.into_iter().enumerate() {
            let date = monday + chrono::Days::new(i as u64);
            assert_eq!(Weekday::from(date.weekday()), day);
            assert_eq!(chrono::Weekday::from(day), date.weekday());
            assert_eq!(u32::from(day.iso()), date.weekday().number_from_monday());
            assert_eq!(day.index(), i);
        }
        assert_eq!(Weekday::SUNDAY.succ(), Weekday::MONDAY);
    }

    #[test]
    fn serializes_as_the_iso_number() {
        assert_eq!(serde_json::to_string(&Weekday::FRIDAY).unwrap(), "5");
        assert_eq!(
            serde_json::from_str::<Weekday>("6").unwrap(),
            Weekday::SATURDAY
        );
        for bad in ["0", "8", "-1", "1.5", "\"Mon\""] {
            assert!(serde_json::from_str::<Weekday>(bad).is_err(), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn accepts_exactly_one_to_seven(v in any::<i64>()) {
            let d = Weekday::try_from(v);
            prop_assert_eq!(d.is_ok(), (1..=7).contains(&v));
            if let Ok(d) = d {
                prop_assert_eq!(i64::from(d), v);
                prop_assert_eq!(Weekday::from_index(d.index()), d);
            }
        }

        #[test]
        fn succ_walks_the_week(i in 0usize..1000) {
            let d = Weekday::from_index(i);
            prop_assert_eq!(d.index(), i % 7);
            prop_assert_eq!(d.succ().index(), (i + 1) % 7);
            prop_assert_eq!(
                chrono::Weekday::from(d.succ()),
                chrono::Weekday::from(d).succ()
            );
        }
    }
}
