//! Threshold percentages: when to warn (below 100), when the phase is breached (100) and when
//! to escalate past due (above 100).

use super::Percent;
use super::percent::percent;
use crate::validation::ValidationErrors;

/// Warn at half, three quarters and nine tenths of the target; 100 is always added.
pub const DEFAULT_THRESHOLDS: [Percent; 3] = [percent!(50), percent!(75), percent!(90)];

/// The largest percentage accepted: ten times the target.
pub const MAX_THRESHOLD: i64 = Percent::MAX.get() as i64;

/// Checks each percentage is a [`Percent`] (naming `field[i]` otherwise), adds the breach,
/// and returns them once each in ascending order.
pub fn normalize_thresholds(
    percents: &[i64],
    field: &str,
) -> Result<Vec<Percent>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut out = vec![Percent::BREACH];
    for (i, p) in percents.iter().enumerate() {
        match Percent::try_from(*p) {
            Ok(v) => out.push(v),
            Err(e) => errors.push(&format!("{field}[{i}]"), e.to_string()),
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
    use proptest::prelude::*;

    fn numbers(percents: &[Percent]) -> Vec<u16> {
        percents.iter().map(|p| p.get()).collect()
    }

    #[test]
    fn the_breach_is_added_and_duplicates_dropped() {
        let normalized = |p: &[i64]| numbers(&normalize_thresholds(p, "t").unwrap());
        assert_eq!(normalized(&[90, 50, 75, 90]), [50, 75, 90, 100]);
        assert_eq!(normalized(&[]), [100]);
        assert_eq!(normalized(&[100, 1000, 1]), [1, 100, 1000]);
    }

    #[test]
    fn the_defaults_warn_before_the_breach_and_escalations_rise() {
        use crate::sla::DEFAULT_ESCALATION_PERCENTS;
        assert!(DEFAULT_THRESHOLDS.iter().all(|p| p.is_warning()));
        assert!(DEFAULT_THRESHOLDS.is_sorted());
        assert!(DEFAULT_ESCALATION_PERCENTS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn out_of_range_percentages_are_named() {
        let e = normalize_thresholds(&[0, 50, 1001, -5], "thresholds").unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["thresholds[0]", "thresholds[2]", "thresholds[3]"]);
        assert_eq!(
            e.0[1].message,
            "1001 is not a percentage between 1 and 1000"
        );
    }

    proptest! {
        #[test]
        fn normalized_thresholds_ascend_once_each_with_the_breach(
            percents in proptest::collection::vec(-10i64..1100, 0..12)
        ) {
            let bad = percents.iter().filter(|p| Percent::try_from(**p).is_err()).count();
            match normalize_thresholds(&percents, "t") {
                Ok(out) => {
                    prop_assert_eq!(bad, 0);
                    prop_assert!(out.contains(&Percent::BREACH));
                    prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
                    for p in &percents {
                        prop_assert!(out.iter().any(|o| i64::from(*o) == *p));
                    }
                }
                Err(e) => prop_assert_eq!(e.0.len(), bad),
            }
        }
    }
}
