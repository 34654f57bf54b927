//! Local wall-clock date-times to instants in an IANA zone, with the two DST rules a calendar
//! user expects: a time that does not exist (inside a spring-forward gap) moves forward by the
//! gap's length, and a time that happens twice (a fall-back) is the earlier of the two.
//!
//! These are also Python's rules (PEP 495, `fold=0`), which the oracle tests rely on.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

/// The instant `local` names in `zone`.
pub fn instant(zone: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match zone.offset_from_local_datetime(&local) {
        LocalResult::Single(offset) => utc(local, offset.fix().local_minus_utc()),
        LocalResult::Ambiguous(a, b) => {
            let first = utc(local, a.fix().local_minus_utc());
            let second = utc(local, b.fix().local_minus_utc());
            first.min(second)
        }
        LocalResult::None => {
            // Read the gap's time with the offset in force before the gap: 02:30 in a one-hour
            // gap is then 03:30 on the far side. Any real gap ends less than 14 hours (the
            // largest offset) of UTC after the local time, and began less than a day before
            // it, so the offset 26 hours earlier is the one before the transition.
            let before = local.and_utc() - TimeDelta::hours(26);
            let offset = zone.offset_from_utc_datetime(&before.naive_utc()).fix();
            utc(local, offset.local_minus_utc())
        }
    }
}

/// The wall-clock date-time of `at` in `zone`.
pub fn local(zone: Tz, at: DateTime<Utc>) -> NaiveDateTime {
    at.with_timezone(&zone).naive_local()
}

/// Reads a wall-clock date-time written exactly `YYYY-MM-DDTHH:MM:SS`: no offset, no fraction.
pub fn parse_local(text: &str) -> Result<NaiveDateTime, &'static str> {
    const FORM: &[u8] = b"dddd-dd-ddTdd:dd:dd";
    let shaped = text.len() == FORM.len()
        && text.bytes().zip(FORM).all(|(b, f)| match f {
            b'd' => b.is_ascii_digit(),
            _ => b == *f,
        });
    if !shaped {
        return Err(
            "must be a local date-time written YYYY-MM-DDTHH:MM:SS, with no offset or fraction",
        );
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .map_err(|_| "is not a real date and time of day")
}

/// Writes a wall-clock date-time as [`parse_local`] reads it.
pub fn format_local(local: NaiveDateTime) -> String {
    local.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn utc(local: NaiveDateTime, offset_seconds: i32) -> DateTime<Utc> {
    (local - TimeDelta::seconds(i64::from(offset_seconds))).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|d| d.and_hms_opt(h, mi, 0))
            .expect("valid test date")
    }

    #[test]
    fn a_time_in_a_spring_forward_gap_moves_forward_by_the_gap() {
        let ny = chrono_tz::America::New_York;
        let moved = instant(ny, at(2026, 3, 8, 2, 30));
        assert_eq!(moved, at(2026, 3, 8, 7, 30).and_utc());
        assert_eq!(local(ny, moved), at(2026, 3, 8, 3, 30));
        // Lord Howe's gap is half an hour.
        let lh = chrono_tz::Australia::Lord_Howe;
        let moved = instant(lh, at(2026, 10, 4, 2, 15));
        assert_eq!(local(lh, moved), at(2026, 10, 4, 2, 45));
    }

    #[test]
    fn a_time_that_happens_twice_is_the_earlier_instant() {
        let ny = chrono_tz::America::New_York;
        assert_eq!(
            instant(ny, at(2026, 11, 1, 1, 30)),
            at(2026, 11, 1, 5, 30).and_utc()
        );
        let berlin = chrono_tz::Europe::Berlin;
        assert_eq!(
            instant(berlin, at(2026, 10, 25, 2, 30)),
            at(2026, 10, 25, 0, 30).and_utc()
        );
    }

    #[test]
    fn a_day_that_a_zone_skipped_moves_forward_a_whole_day() {
        // Samoa skipped 30 December 2011 when it crossed the date line.
        let apia = chrono_tz::Pacific::Apia;
        let moved = instant(apia, at(2011, 12, 30, 9, 0));
        assert_eq!(local(apia, moved), at(2011, 12, 31, 9, 0));
    }

    #[test]
    fn local_date_times_are_read_in_one_exact_form() {
        assert_eq!(parse_local("2026-03-02T09:00:00"), Ok(at(2026, 3, 2, 9, 0)));
        for bad in [
            "2026-03-02T09:00:00Z",
            "2026-03-02T09:00:00+01:00",
            "2026-03-02T09:00:00.000",
            "2026-03-02 09:00:00",
            "2026-03-02T09:00",
            "2026-3-02T09:00:00",
            "2026-02-30T09:00:00",
            "2026-03-02T24:00:00",
            "２０２６-03-02T09:00:00",
            "",
        ] {
            assert!(parse_local(bad).is_err(), "{bad}");
        }
        assert_eq!(format_local(at(2026, 3, 2, 9, 0)), "2026-03-02T09:00:00");
    }

    #[test]
    fn ordinary_times_round_trip() {
        let tokyo = chrono_tz::Asia::Tokyo;
        let t = at(2026, 7, 1, 9, 0);
        assert_eq!(local(tokyo, instant(tokyo, t)), t);
    }
}
