//! Schedules as users write them ([`ScheduleSpec`]) and as the clock uses them ([`Calendar`]).

use super::Weekday;
use super::weekly::Week;
use crate::validation::ValidationErrors;
use chrono::{Datelike, NaiveDate, NaiveTime, Timelike};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

pub(crate) const DAY_SECONDS: u32 = 86_400;

/// A business-hours schedule as stored and as accepted over the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// IANA zone name, e.g. `Europe/London`.
    pub timezone: String,
    /// Open every second of every day; `hours` and `holidays` are then ignored.
    #[serde(default)]
    pub is_24x7: bool,
    #[serde(default)]
    pub hours: Vec<WindowSpec>,
    #[serde(default)]
    pub holidays: Vec<HolidaySpec>,
}

impl ScheduleSpec {
    /// Removes and returns the holidays whose date cannot be read as `YYYY-MM-DD` (a year
    /// past 9999, say, stored before the API refused it). A schedule read back from storage
    /// drops them, so one bad row closes no day rather than making the whole schedule unusable.
    pub fn take_unreadable_holidays(&mut self) -> Vec<HolidaySpec> {
        let (keep, bad) = std::mem::take(&mut self.holidays)
            .into_iter()
            .partition(|h| NaiveDate::parse_from_str(&h.date, "%Y-%m-%d").is_ok());
        self.holidays = keep;
        bad
    }
}

/// One weekly opening window. `end` earlier than `start` runs past midnight into the next day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// ISO weekday: 1 = Monday … 7 = Sunday. An integer rather than a [`Weekday`] so that
    /// [`Calendar::new`] names every bad window at once instead of the first failing to parse.
    pub weekday: i64,
    /// `"HH:MM"`.
    pub start: String,
    /// `"HH:MM"`, or `"24:00"` for the end of the day.
    pub end: String,
}

/// A closed day. `recurring` repeats its month and day every year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidaySpec {
    /// `YYYY-MM-DD`.
    pub date: String,
    #[serde(default)]
    pub recurring: bool,
}

/// A validated schedule, ready to answer questions (see `clock.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub(crate) tz: Tz,
    pub(crate) always_open: bool,
    /// Per ISO weekday (index 0 = Monday): open `[start, end)` seconds of the local day,
    /// sorted and disjoint. Windows past midnight are already split onto the next weekday.
    pub(crate) days: [Vec<(u32, u32)>; 7],
    pub(crate) holidays: BTreeSet<NaiveDate>,
    /// `(month, day)` closed every year.
    pub(crate) recurring: BTreeSet<(u32, u32)>,
    /// `days` laid end to end over a week, with running totals (see `weekly.rs`).
    pub(crate) week: Week,
}

/// Parses `"HH:MM"` into seconds of the day; `"24:00"` only when `end`.
fn time_of_day(value: &str, end: bool) -> Option<u32> {
    if end && value == "24:00" {
        return Some(DAY_SECONDS);
    }
    let b = value.as_bytes();
    if b.len() != 5
        || b[2] != b':'
        || !b
            .iter()
            .enumerate()
            .all(|(i, c)| i == 2 || c.is_ascii_digit())
    {
        return None;
    }
    NaiveTime::parse_from_str(value, "%H:%M")
        .ok()
        .map(|t| t.num_seconds_from_midnight())
}

impl Calendar {
    /// Validates `spec`, naming every field at fault under `prefix` (e.g. `schedule`).
    pub fn new(spec: &ScheduleSpec, prefix: &str) -> Result<Calendar, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let field = |rest: &str| {
            if prefix.is_empty() {
                rest.to_owned()
            } else {
                format!("{prefix}.{rest}")
            }
        };
        let tz = match spec.timezone.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                errors.push(
                    &field("timezone"),
                    format!(
                        "unknown time zone `{}` (expected an IANA name such as Europe/London)",
                        spec.timezone
                    ),
                );
                None
            }
        };
        // Per weekday: (start, end, index of the window it came from).
        let mut days: [Vec<(u32, u32, usize)>; 7] = Default::default();
        if !spec.is_24x7 {
            for (i, w) in spec.hours.iter().enumerate() {
                let at = |part: &str| field(&format!("hours[{i}].{part}"));
                let weekday = Weekday::try_from(w.weekday)
                    .map_err(|e| errors.push(&at("weekday"), e.to_string()))
                    .ok();
                let start = time_of_day(&w.start, false);
                if start.is_none() {
                    errors.push(
                        &at("start"),
                        format!("`{}` is not a time as \"HH:MM\"", w.start),
                    );
                }
                let end = time_of_day(&w.end, true);
                if end.is_none() {
                    errors.push(
                        &at("end"),
                        format!("`{}` is not a time as \"HH:MM\" (or \"24:00\")", w.end),
                    );
                }
                let (Some(day), Some(start), Some(end)) = (weekday, start, end) else {
                    continue;
                };
                if start == end {
                    errors.push(
                        &at("end"),
                        "must differ from start: a window needs a length",
                    );
                } else if end > start {
                    days[day.index()].push((start, end, i));
                } else {
                    // Past midnight: the rest of this day, then the start of the next.
                    days[day.index()].push((start, DAY_SECONDS, i));
                    if end > 0 {
                        days[day.succ().index()].push((0, end, i));
                    }
                }
            }
            for (day, windows) in days.iter_mut().enumerate() {
                windows.sort_unstable();
                for pair in windows.windows(2) {
                    let ((_, end_a, a), (start_b, _, b)) = (pair[0], pair[1]);
                    if start_b < end_a {
                        let (first, second) = (a.min(b), a.max(b));
                        errors.push(
                            &field(&format!("hours[{second}]")),
                            format!(
                                "overlaps hours[{first}] on weekday {} (windows of one day must not overlap)",
                                Weekday::from_index(day)
                            ),
                        );
                    }
                }
            }
        }
        let mut holidays = BTreeSet::new();
        let mut recurring = BTreeSet::new();
        if !spec.is_24x7 {
            for (i, h) in spec.holidays.iter().enumerate() {
                match NaiveDate::parse_from_str(&h.date, "%Y-%m-%d") {
                    Ok(d) if h.recurring => {
                        recurring.insert((d.month(), d.day()));
                    }
                    Ok(d) => {
                        holidays.insert(d);
                    }
                    Err(_) => errors.push(
                        &field(&format!("holidays[{i}].date")),
                        format!("`{}` is not a date as YYYY-MM-DD", h.date),
                    ),
                }
            }
        }
        errors.into_result()?;
        let Some(tz) = tz else {
            // Unreachable: a bad zone pushed an error above.
            return Err(ValidationErrors::default());
        };
        let days = days.map(|d| d.into_iter().map(|(s, e, _)| (s, e)).collect());
        Ok(Calendar {
            tz,
            always_open: spec.is_24x7,
            week: Week::new(&days),
            days,
            holidays,
            recurring,
        })
    }

    /// The zone local times are read in.
    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// Whether local `date` is a holiday.
    pub(crate) fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date) || self.recurring.contains(&(date.month(), date.day()))
    }

    /// The earliest holiday from `from` through `through`, both local dates.
    pub(crate) fn next_holiday(&self, from: NaiveDate, through: NaiveDate) -> Option<NaiveDate> {
        if from > through {
            return None;
        }
        let one_off = self.holidays.range(from..=through).next().copied();
        // The first (month, day) on or after `from` that exists in its year (29 February
        // only in leap years), looking no further than `through`'s year.
        let recurring = (from.year()..=through.year()).find_map(|year| {
            let first = if year == from.year() {
                (from.month(), from.day())
            } else {
                (1, 1)
            };
            self.recurring
                .range(first..)
                .find_map(|&(m, d)| NaiveDate::from_ymd_opt(year, m, d))
        });
        let recurring = recurring.filter(|d| *d <= through);
        one_off.into_iter().chain(recurring).min()
    }

    /// Open windows of local `date` in seconds of the day (none on a holiday).
    pub(crate) fn windows_on(&self, date: NaiveDate) -> &[(u32, u32)] {
        if self.is_holiday(date) {
            return &[];
        }
        &self.days[Weekday::from(date.weekday()).index()]
    }
}
