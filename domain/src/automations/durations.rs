//! ISO 8601 durations (`PT1S`, `P1DT4H`, `P2W`) as definitions write them, read by the
//! `iso8601` crate. Years and months are refused: they have no fixed length.

use chrono::TimeDelta;

/// The longest duration accepted anywhere in a definition: ten years.
pub const MAX: TimeDelta = TimeDelta::days(3_660);

pub fn parse(text: &str) -> Result<TimeDelta, String> {
    // `P` and `PT` name no component, and a sign is no part of a duration; the crate reads
    // the first as zero and lets the second through.
    let duration = Some(text)
        .filter(|t| !t.ends_with(['P', 'T']) && !t.contains(['-', '+']))
        .and_then(|t| iso8601::duration(t).ok())
        .ok_or_else(|| "must be an ISO 8601 duration such as PT1S, PT4H or P1D".to_owned())?;
    let (days, seconds, millis) = match duration {
        iso8601::Duration::Weeks(w) => (i64::from(w) * 7, 0, 0),
        iso8601::Duration::YMDHMS {
            year,
            month,
            day,
            hour,
            minute,
            second,
            millisecond,
        } => {
            if year != 0 || month != 0 {
                return Err(
                    "must not count years or months (they have no fixed length); use days".into(),
                );
            }
            (
                i64::from(day),
                i64::from(hour) * 3_600 + i64::from(minute) * 60 + i64::from(second),
                i64::from(millisecond),
            )
        }
    };
    // Each part is below 2^32, so none of this can overflow an i64.
    let total =
        TimeDelta::days(days) + TimeDelta::seconds(seconds) + TimeDelta::milliseconds(millis);
    if total > MAX {
        return Err("must not be longer than 3,660 days".into());
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_usual_forms_and_refuses_the_rest() {
        assert_eq!(parse("PT1S"), Ok(TimeDelta::seconds(1)));
        assert_eq!(parse("PT4H"), Ok(TimeDelta::hours(4)));
        assert_eq!(parse("P1DT30M"), Ok(TimeDelta::minutes(24 * 60 + 30)));
        assert_eq!(parse("P2W"), Ok(TimeDelta::days(14)));
        assert_eq!(parse("PT0.5S"), Ok(TimeDelta::milliseconds(500)));
        for bad in ["", "1S", "PT", "P1M", "P1Y", "PT-1S", "P99999D", "4 hours"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
