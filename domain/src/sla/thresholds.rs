//! Threshold percentages: when to warn (below 100), when the phase is breached (100) and when
//! to escalate past due (above 100).

use super::Percent;
use crate::validation::ValidationErrors;

/// Warn at half, three quarters and nine tenths of the target; 100 is always added.
pub const DEFAULT_THRESHOLDS: [u16; 3] = [50, 75, 90];

/// The largest percentage accepted: ten times the target.
pub const MAX_THRESHOLD: i64 = Percent::MAX.get() as i64;

/// Checks each percentage is a [`Percent`] (naming `field[i]` otherwise), adds the breach,
/// and returns them once each in ascending order.
pub fn normalize_thresholds(percents: &[i64], field: &str) -> Result<Vec<u16>, ValidationErrors> {
    let mut errors = ValidationErrors::default();
    let mut out = vec![Percent::BREACH.get()];
    for (i, p) in percents.iter().enumerate() {
        match Percent::try_from(*p) {
            Ok(v) => out.push(v.get()),
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
    fn the_defaults_are_percentages() {
        use crate::sla::DEFAULT_ESCALATION_PERCENTS;
        for p in DEFAULT_THRESHOLDS {
            assert!(Percent::new(p).is_ok_and(Percent::is_warning), "{p}");
        }
        for p in DEFAULT_ESCALATION_PERCENTS {
            assert!(Percent::new(p).is_ok(), "{p}");
        }
        assert!(DEFAULT_ESCALATION_PERCENTS.is_sorted());
    }

    proptest::proptest! {
        #[test]
        fn normalized_thresholds_are_ascending_percentages_with_the_breach(
            percents in proptest::collection::vec(-10i64..1100, 0..12)
        ) {
            match normalize_thresholds(&percents, "t") {
                Ok(out) => {
                    proptest::prop_assert!(percents.iter().all(|p| Percent::try_from(*p).is_ok()));
                    proptest::prop_assert!(out.contains(&Percent::BREACH.get()));
                    proptest::prop_assert!(out.windows(2).all(|w| w[0] < w[1]));
                    proptest::prop_assert!(out.iter().all(|p| Percent::new(*p).is_ok()));
                }
                Err(e) => {
                    let bad = percents.iter().filter(|p| Percent::try_from(**p).is_err()).count();
                    proptest::prop_assert_eq!(e.0.len(), bad);
                }
            }
        }
    }

    #[test]
    fn out_of_range_percentages_are_named() {
        let e = normalize_thresholds(&[0, 50, 1001, -5], "thresholds").unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["thresholds[0]", "thresholds[2]", "thresholds[3]"]);
    }
}
