//! Threshold percentages: when to warn (below 100), when the phase is breached (100) and when
//! to escalate past due (above 100).

use crate::validation::ValidationErrors;

/// Warn at half, three quarters and nine tenths of the target; 100 is always added.
pub const DEFAULT_THRESHOLDS: [u16; 3] = [50, 75, 90];

/// The largest percentage accepted: ten times the target.
pub const MAX_THRESHOLD: i64 = 1000;

/// Checks each percentage is a whole number in `1..=1000` (naming `field[i]` otherwise), adds
/// 100, and returns them once each in ascending order.
pub fn normalize_thresholds(percents: &[i64], field: &str) -> Result<Vec<u16>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut out = vec![100u16];
    for (i, p) in percents.iter().enumerate() {
        match u16::try_from(*p) {
            Ok(v) if (1..=MAX_THRESHOLD).contains(p) => out.push(v),
            _ => errors.push(
                &format!("{field}[{i}]"),
                format!("{p} is not a percentage between 1 and {MAX_THRESHOLD}"),
            ),
        }
    }
    errors.into_result()?;
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hundred_is_added_and_duplicates_dropped() {
        assert_eq!(
            normalize_thresholds(&[90, 50, 75, 90], "t").unwrap(),
            [50, 75, 90, 100]
        );
        assert_eq!(normalize_thresholds(&[], "t").unwrap(), [100]);
        assert_eq!(
            normalize_thresholds(&[100, 1000, 1], "t").unwrap(),
            [1, 100, 1000]
        );
    }

    #[test]
    fn out_of_range_percentages_are_named() {
        let e = normalize_thresholds(&[0, 50, 1001, -5], "thresholds").unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["thresholds[0]", "thresholds[2]", "thresholds[3]"]);
    }
}
