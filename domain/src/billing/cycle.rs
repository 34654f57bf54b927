//! Billing cycles of a client contract assignment: which invoice period starts on a date.
//!
//! Invoice previews and invoice runs both compute their periods from the assignment's cycle,
//! anchor and start date; this module is the one place those periods are decided, so a preview
//! and the run that follows it can never disagree about where a period begins or ends.
//! Pure: no I/O and no panics on any input — date arithmetic that leaves chrono's range ends in
//! [`CycleError::OutOfRange`].
//!
//! Periods are half-open, `[start, end)`. The rules:
//!
//! - **Weekly / bi-weekly** periods start on the assignment's start date and every 7 / 14 days
//!   after it (and before it, for [`previous_period`]). They have no anchor day, so their
//!   anchor must be [`Anchor::Calendar`].
//! - **Monthly, quarterly, semi-annual and annual** periods last k = 1, 3, 6 and 12 months and
//!   start on day D of the months whose index `year * 12 + month0` (`month0` is 0 for January)
//!   is divisible by k; D is the anchor day, or 1 for [`Anchor::Calendar`]. So quarterly periods
//!   start in January, April, July and October, semi-annual ones in January and July, annual
//!   ones in January, always on day D. Anchor days stop at 28 so that every month has day D.
//! - The first period of an assignment is the one containing its start date; it may begin
//!   before that date. Prorating that first partial period is the caller's concern (it clips
//!   line activity to the assignment's dates), and no period before it exists, except as the
//!   [`previous_period`] whose time and usage an in-advance invoice bills.

use std::fmt;

use chrono::{Datelike, NaiveDate, TimeDelta};
use serde::de::{self, Unexpected, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How often an assignment is invoiced. Serialized as `weekly`, `bi_weekly`, `monthly`,
/// `quarterly`, `semi_annual` or `annual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingCycle {
    Weekly,
    BiWeekly,
    Monthly,
    Quarterly,
    SemiAnnual,
    Annual,
}

impl BillingCycle {
    /// Every cycle, shortest first.
    pub const ALL: [BillingCycle; 6] = [
        BillingCycle::Weekly,
        BillingCycle::BiWeekly,
        BillingCycle::Monthly,
        BillingCycle::Quarterly,
        BillingCycle::SemiAnnual,
        BillingCycle::Annual,
    ];

    /// The stored and wire spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            BillingCycle::Weekly => "weekly",
            BillingCycle::BiWeekly => "bi_weekly",
            BillingCycle::Monthly => "monthly",
            BillingCycle::Quarterly => "quarterly",
            BillingCycle::SemiAnnual => "semi_annual",
            BillingCycle::Annual => "annual",
        }
    }

    /// Reads the spelling [`BillingCycle::as_str`] writes, exactly.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// How the periods of this cycle advance.
    fn step(self) -> Step {
        match self {
            BillingCycle::Weekly => Step::Days(7),
            BillingCycle::BiWeekly => Step::Days(14),
            BillingCycle::Monthly => Step::Months(1),
            BillingCycle::Quarterly => Step::Months(3),
            BillingCycle::SemiAnnual => Step::Months(6),
            BillingCycle::Annual => Step::Months(12),
        }
    }
}

impl fmt::Display for BillingCycle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which day of the month month-based periods start on. Serialized as `"calendar"` (the 1st)
/// or as the day itself, an integer from 1 to 28; stored as a nullable day (`NULL` for
/// calendar).
///
/// `Day` holds 1..=28 whenever it comes from [`Anchor::from_db`] or serde. A `Day` built by hand
/// outside that range names a day not every month has; the period functions answer it with
/// [`CycleError::OutOfRange`] rather than guess.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Anchor {
    Calendar,
    Day(u8),
}

impl Anchor {
    /// The largest anchor day: every month has a 28th.
    pub const MAX_DAY: u8 = 28;

    /// Reads the stored anchor day: `None` is calendar, 1..=28 a day, anything else `None`.
    pub fn from_db(day: Option<i16>) -> Option<Anchor> {
        match day {
            None => Some(Anchor::Calendar),
            Some(d) => u8::try_from(d).ok().and_then(Anchor::day),
        }
    }

    /// The stored anchor day: `None` for calendar.
    pub fn to_db(&self) -> Option<i16> {
        match self {
            Anchor::Calendar => None,
            Anchor::Day(d) => Some(i16::from(*d)),
        }
    }

    /// `Day(d)` when `d` is a valid anchor day.
    fn day(d: u8) -> Option<Anchor> {
        (1..=Self::MAX_DAY).contains(&d).then_some(Anchor::Day(d))
    }

    /// The day of the month month-based periods start on, if the anchor names a real one.
    fn day_of_month(self) -> Option<u32> {
        match self {
            Anchor::Calendar => Some(1),
            Anchor::Day(d) => Anchor::day(d).map(|_| u32::from(d)),
        }
    }
}

impl Serialize for Anchor {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Anchor::Calendar => serializer.serialize_str("calendar"),
            Anchor::Day(d) => serializer.serialize_u8(*d),
        }
    }
}

impl<'de> Deserialize<'de> for Anchor {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Anchor, D::Error> {
        deserializer.deserialize_any(AnchorVisitor)
    }
}

struct AnchorVisitor;

impl Visitor<'_> for AnchorVisitor {
    type Value = Anchor;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"calendar\" or a day of the month from 1 to 28")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Anchor, E> {
        match v {
            "calendar" => Ok(Anchor::Calendar),
            _ => Err(E::invalid_value(Unexpected::Str(v), &self)),
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Anchor, E> {
        u8::try_from(v)
            .ok()
            .and_then(Anchor::day)
            .ok_or_else(|| E::invalid_value(Unexpected::Unsigned(v), &self))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Anchor, E> {
        match u64::try_from(v) {
            Ok(u) => self.visit_u64(u),
            Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
        }
    }
}

/// When an invoice bills its period's fixed fees: at the period's start (`advance`, with the
/// previous period's time and usage) or at its end (`arrears`, with its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timing {
    Advance,
    Arrears,
}

impl Timing {
    /// Both timings.
    pub const ALL: [Timing; 2] = [Timing::Advance, Timing::Arrears];

    /// The stored and wire spelling.
    pub fn as_str(&self) -> &'static str {
        match self {
            Timing::Advance => "advance",
            Timing::Arrears => "arrears",
        }
    }

    /// Reads the spelling [`Timing::as_str`] writes, exactly.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

impl fmt::Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a period could not be given. The date-related messages begin with "is" so that the
/// caller can put the date or field name in front.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CycleError {
    #[error(
        "weekly and bi-weekly cycles count from the start date; their anchor must be \"calendar\""
    )]
    AnchorNotAllowed,
    #[error("is not the start of a billing period; the next one starts on {next}")]
    NotAPeriodStart { next: NaiveDate },
    #[error("is before the assignment starts ({start})")]
    BeforeStart { start: NaiveDate },
    #[error("the billing period lies outside the supported dates")]
    OutOfRange,
}

/// Weekly and bi-weekly cycles accept only [`Anchor::Calendar`]; the others accept any anchor.
pub fn check_anchor(cycle: BillingCycle, anchor: Anchor) -> Result<(), CycleError> {
    match (cycle.step(), anchor) {
        (Step::Days(_), Anchor::Day(_)) => Err(CycleError::AnchorNotAllowed),
        _ => Ok(()),
    }
}

/// The period `[start, end)` that contains `day`; [`CycleError::BeforeStart`] when `day` is
/// before the assignment's first period.
pub fn period_containing(
    cycle: BillingCycle,
    anchor: Anchor,
    assignment_start: NaiveDate,
    day: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), CycleError> {
    let grid = Grid::new(cycle, anchor, assignment_start)?;
    grid.bounds(grid.index_from_first(day)?)
}

/// The period starting exactly on `period_start`; [`CycleError::NotAPeriodStart`] (naming the
/// next start) when no period does.
pub fn period_starting(
    cycle: BillingCycle,
    anchor: Anchor,
    assignment_start: NaiveDate,
    period_start: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), CycleError> {
    let grid = Grid::new(cycle, anchor, assignment_start)?;
    grid.starting(period_start).map(|(_, period)| period)
}

/// The period just before the one starting on `period_start`, whose time and usage an
/// in-advance invoice bills with this period's fixed fees. It may begin before the assignment
/// starts, or lie wholly before it; callers clip to the assignment's dates.
pub fn previous_period(
    cycle: BillingCycle,
    anchor: Anchor,
    assignment_start: NaiveDate,
    period_start: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), CycleError> {
    let grid = Grid::new(cycle, anchor, assignment_start)?;
    let (index, _) = grid.starting(period_start)?;
    grid.bounds(index.checked_sub(1).ok_or(CycleError::OutOfRange)?)
}

/// How a cycle's periods advance.
#[derive(Debug, Clone, Copy)]
enum Step {
    Days(i64),
    Months(i64),
}

/// An assignment's periods, numbered by consecutive integers so that "the next" and "the
/// previous" period are plain index arithmetic. With [`Step::Days`] period 0 starts on the
/// assignment's start; with [`Step::Months`] period `i` starts on `day` of the month with index
/// `i * len`.
#[derive(Debug, Clone, Copy)]
struct Grid {
    assignment_start: NaiveDate,
    step: Step,
    /// The day of the month month-based periods start on.
    day: u32,
    /// The index of the assignment's first period, the one containing its start.
    first: i64,
}

impl Grid {
    fn new(
        cycle: BillingCycle,
        anchor: Anchor,
        assignment_start: NaiveDate,
    ) -> Result<Grid, CycleError> {
        check_anchor(cycle, anchor)?;
        let grid = Grid {
            assignment_start,
            step: cycle.step(),
            day: anchor.day_of_month().ok_or(CycleError::OutOfRange)?,
            first: 0,
        };
        Ok(Grid {
            first: grid.index_of(assignment_start),
            ..grid
        })
    }

    /// The index of the period containing `date`, whether or not the assignment has begun.
    fn index_of(self, date: NaiveDate) -> i64 {
        match self.step {
            // Flooring division, so days before the assignment fall in negative periods.
            Step::Days(len) => (date - self.assignment_start).num_days().div_euclid(len),
            Step::Months(len) => month_period_index(self.day, len, date),
        }
    }

    /// The index of the period containing `date`, refusing dates before the first period.
    fn index_from_first(self, date: NaiveDate) -> Result<i64, CycleError> {
        let index = self.index_of(date);
        if index < self.first {
            Err(CycleError::BeforeStart {
                start: self.assignment_start,
            })
        } else {
            Ok(index)
        }
    }

    /// The period starting exactly on `period_start`, with its index.
    fn starting(
        self,
        period_start: NaiveDate,
    ) -> Result<(i64, (NaiveDate, NaiveDate)), CycleError> {
        let index = self.index_from_first(period_start)?;
        let (start, end) = self.bounds(index)?;
        if start == period_start {
            Ok((index, (start, end)))
        } else {
            Err(CycleError::NotAPeriodStart { next: end })
        }
    }

    /// Period `index` as `[start, end)`.
    fn bounds(self, index: i64) -> Result<(NaiveDate, NaiveDate), CycleError> {
        let next = index.checked_add(1).ok_or(CycleError::OutOfRange)?;
        Ok((self.start_of(index)?, self.start_of(next)?))
    }

    /// The first day of period `index`.
    fn start_of(self, index: i64) -> Result<NaiveDate, CycleError> {
        match self.step {
            Step::Days(len) => {
                let days = index.checked_mul(len).ok_or(CycleError::OutOfRange)?;
                TimeDelta::try_days(days)
                    .and_then(|delta| self.assignment_start.checked_add_signed(delta))
                    .ok_or(CycleError::OutOfRange)
            }
            Step::Months(len) => {
                let month = index.checked_mul(len).ok_or(CycleError::OutOfRange)?;
                day_of_month_index(month, self.day)
            }
        }
    }
}

/// The index of the month-based period containing `date`: a date before the anchor day belongs
/// to the period of the month before.
fn month_period_index(day: u32, len: i64, date: NaiveDate) -> i64 {
    let month = i64::from(date.year()) * 12 + i64::from(date.month0());
    let anchored = if date.day() < day { month - 1 } else { month };
    anchored.div_euclid(len)
}

/// Day `day` of the month with index `year * 12 + month0`.
fn day_of_month_index(month: i64, day: u32) -> Result<NaiveDate, CycleError> {
    let year = i32::try_from(month.div_euclid(12)).map_err(|_| CycleError::OutOfRange)?;
    let month0 = u32::try_from(month.rem_euclid(12)).map_err(|_| CycleError::OutOfRange)?;
    NaiveDate::from_ymd_opt(year, month0 + 1, day).ok_or(CycleError::OutOfRange)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    use BillingCycle::{Annual, BiWeekly, Monthly, Quarterly, SemiAnnual, Weekly};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn span(start: &str, end: &str) -> Result<(NaiveDate, NaiveDate), CycleError> {
        Ok((d(start), d(end)))
    }

    #[test]
    fn monthly_anchored_periods_start_on_the_anchor_day() {
        let at = |day| period_containing(Monthly, Anchor::Day(15), d("2026-01-20"), d(day));
        assert_eq!(at("2026-01-20"), span("2026-01-15", "2026-02-15"));
        assert_eq!(at("2026-02-14"), span("2026-01-15", "2026-02-15"));
        assert_eq!(at("2026-02-15"), span("2026-02-15", "2026-03-15"));
        assert_eq!(at("2026-12-31"), span("2026-12-15", "2027-01-15"));
        // The first period began before the assignment, but nothing earlier exists.
        let before = Err(CycleError::BeforeStart {
            start: d("2026-01-20"),
        });
        assert_eq!(at("2026-01-14"), before);
    }

    #[test]
    fn quarterly_calendar_periods_start_in_january_april_july_and_october() {
        let starting = |day| period_starting(Quarterly, Anchor::Calendar, d("2026-02-10"), d(day));
        assert_eq!(starting("2026-01-01"), span("2026-01-01", "2026-04-01"));
        assert_eq!(starting("2026-04-01"), span("2026-04-01", "2026-07-01"));
        assert_eq!(starting("2026-10-01"), span("2026-10-01", "2027-01-01"));
        let next = |n| Err(CycleError::NotAPeriodStart { next: d(n) });
        assert_eq!(starting("2026-04-02"), next("2026-07-01"));
        assert_eq!(starting("2026-02-10"), next("2026-04-01"));
        assert_eq!(starting("2026-05-01"), next("2026-07-01"));
    }

    #[test]
    fn semi_annual_and_annual_periods_keep_the_anchor_day() {
        let semi = |day| period_containing(SemiAnnual, Anchor::Day(10), d("2026-07-05"), d(day));
        assert_eq!(semi("2026-07-05"), span("2026-01-10", "2026-07-10"));
        assert_eq!(semi("2026-07-10"), span("2026-07-10", "2027-01-10"));

        let annual = |day| period_containing(Annual, Anchor::Day(28), d("2026-03-01"), d(day));
        assert_eq!(annual("2026-03-01"), span("2026-01-28", "2027-01-28"));
        assert_eq!(annual("2027-01-27"), span("2026-01-28", "2027-01-28"));
        assert_eq!(annual("2028-02-29"), span("2028-01-28", "2029-01-28"));
        let start = d("2026-03-01");
        assert_eq!(annual("2026-01-27"), Err(CycleError::BeforeStart { start }));
        assert_eq!(
            period_starting(Annual, Anchor::Day(28), start, d("2027-01-28")),
            span("2027-01-28", "2028-01-28")
        );
    }

    #[test]
    fn weekly_periods_count_from_the_start_date() {
        let start = d("2026-01-07"); // a Wednesday
        let at = |day| period_containing(Weekly, Anchor::Calendar, start, d(day));
        assert_eq!(at("2026-01-07"), span("2026-01-07", "2026-01-14"));
        assert_eq!(at("2026-01-13"), span("2026-01-07", "2026-01-14"));
        assert_eq!(at("2026-01-14"), span("2026-01-14", "2026-01-21"));
        assert_eq!(at("2026-01-06"), Err(CycleError::BeforeStart { start }));

        let starting = |day| period_starting(Weekly, Anchor::Calendar, start, d(day));
        assert_eq!(starting("2026-01-21"), span("2026-01-21", "2026-01-28"));
        let next = Err(CycleError::NotAPeriodStart {
            next: d("2026-01-28"),
        });
        assert_eq!(starting("2026-01-22"), next);
        assert_eq!(
            starting("2025-12-31"),
            Err(CycleError::BeforeStart { start })
        );
    }

    #[test]
    fn the_previous_period_may_precede_the_assignment() {
        let start = d("2026-01-07");
        let previous = |day| previous_period(BiWeekly, Anchor::Calendar, start, d(day));
        assert_eq!(previous("2026-01-21"), span("2026-01-07", "2026-01-21"));
        assert_eq!(previous("2026-01-07"), span("2025-12-24", "2026-01-07"));
        let next = Err(CycleError::NotAPeriodStart {
            next: d("2026-02-04"),
        });
        assert_eq!(previous("2026-01-22"), next);

        let monthly = previous_period(Monthly, Anchor::Calendar, d("2026-01-10"), d("2026-01-01"));
        assert_eq!(monthly, span("2025-12-01", "2026-01-01"));
        let annual = previous_period(Annual, Anchor::Day(3), d("2026-05-01"), d("2027-01-03"));
        assert_eq!(annual, span("2026-01-03", "2027-01-03"));
    }

    #[test]
    fn years_before_the_common_era_use_the_same_grid() {
        let start = d("-0001-02-15");
        let at = period_containing(Quarterly, Anchor::Calendar, start, start);
        assert_eq!(at, span("-0001-01-01", "-0001-04-01"));
        let previous = previous_period(Quarterly, Anchor::Calendar, start, d("-0001-01-01"));
        assert_eq!(previous, span("-0002-10-01", "-0001-01-01"));
    }

    #[test]
    fn weekly_cycles_refuse_an_anchor_day() {
        for cycle in BillingCycle::ALL {
            let weekly = matches!(cycle, Weekly | BiWeekly);
            assert_eq!(check_anchor(cycle, Anchor::Calendar), Ok(()));
            let day = check_anchor(cycle, Anchor::Day(5));
            assert_eq!(day.is_err(), weekly, "{cycle}");
        }
        let start = d("2026-01-07");
        let e = period_containing(BiWeekly, Anchor::Day(7), start, start);
        assert_eq!(e, Err(CycleError::AnchorNotAllowed));
        assert_eq!(
            CycleError::AnchorNotAllowed.to_string(),
            "weekly and bi-weekly cycles count from the start date; their anchor must be \"calendar\""
        );
    }

    #[test]
    fn hand_built_anchor_days_outside_the_range_are_refused() {
        let start = d("2026-01-31");
        for day in [0, 29, 31, u8::MAX] {
            let e = period_containing(Monthly, Anchor::Day(day), start, start);
            assert_eq!(e, Err(CycleError::OutOfRange), "{day}");
        }
    }

    #[test]
    fn error_messages_name_the_dates() {
        let next = CycleError::NotAPeriodStart {
            next: d("2026-07-01"),
        };
        assert_eq!(
            next.to_string(),
            "is not the start of a billing period; the next one starts on 2026-07-01"
        );
        let before = CycleError::BeforeStart {
            start: d("2026-01-20"),
        };
        assert_eq!(
            before.to_string(),
            "is before the assignment starts (2026-01-20)"
        );
    }

    #[test]
    fn dates_at_the_edges_of_the_calendar_are_errors_not_panics() {
        let (min, max) = (NaiveDate::MIN, NaiveDate::MAX);
        assert_eq!(
            period_containing(Monthly, Anchor::Calendar, max, max),
            Err(CycleError::OutOfRange)
        );
        assert_eq!(
            period_containing(Weekly, Anchor::Calendar, max, max),
            Err(CycleError::OutOfRange)
        );
        assert_eq!(
            previous_period(Weekly, Anchor::Calendar, min, min),
            Err(CycleError::OutOfRange)
        );
        assert_eq!(
            previous_period(Annual, Anchor::Calendar, min, min),
            Err(CycleError::OutOfRange)
        );
        // Year 9999 is still an ordinary date.
        let late = d("9999-12-20");
        let period = period_containing(Monthly, Anchor::Day(15), late, late);
        let year_10000 = NaiveDate::from_ymd_opt(10_000, 1, 15).unwrap();
        assert_eq!(period, Ok((d("9999-12-15"), year_10000)));
    }

    #[test]
    fn cycles_and_timings_use_their_wire_spellings() {
        let names = [
            "weekly",
            "bi_weekly",
            "monthly",
            "quarterly",
            "semi_annual",
            "annual",
        ];
        for (cycle, name) in BillingCycle::ALL.into_iter().zip(names) {
            assert_eq!(cycle.as_str(), name);
            assert_eq!(BillingCycle::parse(name), Some(cycle));
            assert_eq!(serde_json::to_value(cycle).unwrap(), json!(name));
            assert_eq!(
                serde_json::from_value::<BillingCycle>(json!(name)).unwrap(),
                cycle
            );
        }
        for timing in Timing::ALL {
            assert_eq!(Timing::parse(timing.as_str()), Some(timing));
            assert_eq!(
                serde_json::to_value(timing).unwrap(),
                json!(timing.as_str())
            );
        }
        assert_eq!(Timing::Advance.as_str(), "advance");
        assert_eq!(Timing::Arrears.as_str(), "arrears");
        for bad in ["", "Monthly", "biweekly", "bi-weekly", "semiannual"] {
            assert_eq!(BillingCycle::parse(bad), None, "{bad}");
        }
        assert_eq!(Timing::parse("in_advance"), None);
    }

    #[test]
    fn anchors_read_and_write_calendar_or_a_day() {
        assert_eq!(
            serde_json::to_value(Anchor::Calendar).unwrap(),
            json!("calendar")
        );
        assert_eq!(serde_json::to_value(Anchor::Day(15)).unwrap(), json!(15));
        let read = |v| serde_json::from_value::<Anchor>(v);
        assert_eq!(read(json!("calendar")).unwrap(), Anchor::Calendar);
        assert_eq!(read(json!(1)).unwrap(), Anchor::Day(1));
        assert_eq!(read(json!(28)).unwrap(), Anchor::Day(28));
        for bad in [
            json!(0),
            json!(29),
            json!(-1),
            json!(300),
            json!(15.0),
            json!("15"),
        ] {
            let e = read(bad.clone()).unwrap_err().to_string();
            assert!(
                e.contains("\"calendar\" or a day of the month from 1 to 28"),
                "{bad}: {e}"
            );
        }
        let e = read(json!(29)).unwrap_err().to_string();
        assert!(e.starts_with("invalid value: integer `29`"), "{e}");
    }

    #[test]
    fn anchors_are_stored_as_a_nullable_day() {
        assert_eq!(Anchor::from_db(None), Some(Anchor::Calendar));
        assert_eq!(Anchor::from_db(Some(1)), Some(Anchor::Day(1)));
        assert_eq!(Anchor::from_db(Some(28)), Some(Anchor::Day(28)));
        for bad in [0, 29, -1, 256, i16::MIN, i16::MAX] {
            assert_eq!(Anchor::from_db(Some(bad)), None, "{bad}");
        }
        assert_eq!(Anchor::Calendar.to_db(), None);
        assert_eq!(Anchor::Day(9).to_db(), Some(9));
    }

    fn cycle_and_anchor() -> impl Strategy<Value = (BillingCycle, Anchor)> {
        proptest::sample::select(BillingCycle::ALL.to_vec()).prop_flat_map(|cycle| {
            let anchor = match cycle {
                Weekly | BiWeekly => Just(Anchor::Calendar).boxed(),
                _ => prop_oneof![Just(Anchor::Calendar), (1u8..=28).prop_map(Anchor::Day)].boxed(),
            };
            (Just(cycle), anchor)
        })
    }

    /// A date from 1900 to about 2200.
    fn sane_date() -> impl Strategy<Value = NaiveDate> {
        (0u64..110_000).prop_map(|n| d("1900-01-01") + chrono::Days::new(n))
    }

    /// Any date chrono can represent.
    fn any_date() -> impl Strategy<Value = NaiveDate> {
        let (min, max) = (NaiveDate::MIN, NaiveDate::MAX);
        (min.num_days_from_ce()..=max.num_days_from_ce())
            .prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap())
    }

    fn day_before(date: NaiveDate) -> NaiveDate {
        date.pred_opt().unwrap()
    }

    proptest! {
        #[test]
        fn the_period_containing_a_day_contains_it(
            (cycle, anchor) in cycle_and_anchor(),
            start in sane_date(),
            day in sane_date(),
        ) {
            match period_containing(cycle, anchor, start, day) {
                Ok((from, to)) => prop_assert!(from <= day && day < to && from < to),
                Err(e) => {
                    prop_assert_eq!(e, CycleError::BeforeStart { start });
                    prop_assert!(day < start);
                }
            }
            if day >= start {
                prop_assert!(period_containing(cycle, anchor, start, day).is_ok());
            }
        }

        #[test]
        fn periods_have_the_cycles_shape(
            (cycle, anchor) in cycle_and_anchor(),
            start in sane_date(),
            day in sane_date(),
        ) {
            prop_assume!(day >= start);
            let (from, to) = period_containing(cycle, anchor, start, day).unwrap();
            match cycle.step() {
                Step::Days(len) => {
                    prop_assert_eq!((to - from).num_days(), len);
                    prop_assert_eq!((from - start).num_days() % len, 0);
                }
                Step::Months(len) => {
                    let day = anchor.day_of_month().unwrap();
                    prop_assert_eq!(from.day(), day);
                    prop_assert_eq!(to.day(), day);
                    let month = |date: NaiveDate| i64::from(date.year()) * 12 + i64::from(date.month0());
                    prop_assert_eq!(month(from).rem_euclid(len), 0);
                    prop_assert_eq!(month(to) - month(from), len);
                }
            }
        }

        #[test]
        fn periods_start_where_they_start_and_tile(
            (cycle, anchor) in cycle_and_anchor(),
            start in sane_date(),
            day in sane_date(),
        ) {
            prop_assume!(day >= start);
            let (from, to) = period_containing(cycle, anchor, start, day).unwrap();
            prop_assert_eq!(period_starting(cycle, anchor, start, from), Ok((from, to)));
            // The next period starts at this one's end, and the day before it is still here.
            let (next_from, next_to) = period_starting(cycle, anchor, start, to).unwrap();
            prop_assert_eq!(next_from, to);
            prop_assert!(next_to > to);
            prop_assert_eq!(period_containing(cycle, anchor, start, day_before(to)), Ok((from, to)));
            // Any other day of the period points at the next start.
            if day != from {
                let e = period_starting(cycle, anchor, start, day);
                prop_assert_eq!(e, Err(CycleError::NotAPeriodStart { next: to }));
            }
        }

        #[test]
        fn the_previous_period_ends_where_this_one_starts(
            (cycle, anchor) in cycle_and_anchor(),
            start in sane_date(),
            day in sane_date(),
        ) {
            prop_assume!(day >= start);
            let (from, to) = period_containing(cycle, anchor, start, day).unwrap();
            let (prev_from, prev_to) = previous_period(cycle, anchor, start, from).unwrap();
            prop_assert_eq!(prev_to, from);
            prop_assert!(prev_from < prev_to);
            prop_assert_eq!(previous_period(cycle, anchor, start, to), Ok((from, to)));
            if prev_from >= start {
                let before = period_containing(cycle, anchor, start, day_before(from));
                prop_assert_eq!(before, Ok((prev_from, prev_to)));
            }
        }

        #[test]
        fn any_input_ends_in_a_period_or_an_error(
            cycle in proptest::sample::select(BillingCycle::ALL.to_vec()),
            anchor in prop_oneof![Just(Anchor::Calendar), any::<u8>().prop_map(Anchor::Day)],
            start in any_date(),
            day in any_date(),
        ) {
            let usable = check_anchor(cycle, anchor).is_ok() && anchor.day_of_month().is_some();
            let periods = [
                period_containing(cycle, anchor, start, day),
                period_starting(cycle, anchor, start, day),
                previous_period(cycle, anchor, start, day),
            ];
            for (from, to) in periods.into_iter().flatten() {
                prop_assert!(usable);
                prop_assert!(from < to);
            }
        }

        #[test]
        fn edge_dates_never_panic(
            (cycle, anchor) in cycle_and_anchor(),
            start in prop_oneof![any_date(), Just(NaiveDate::MIN), Just(NaiveDate::MAX)],
            day in prop_oneof![Just(NaiveDate::MIN), Just(NaiveDate::MAX)],
        ) {
            let _ = period_containing(cycle, anchor, start, day);
            let _ = period_starting(cycle, anchor, start, day);
            let _ = previous_period(cycle, anchor, start, day);
        }
    }
}
