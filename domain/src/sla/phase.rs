//! One phase of an SLA (response or resolution): its due instant and threshold instants.

use super::Percent;
use crate::calendar::{Calendar, CalendarError, Interval};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// The two clocks of a ticket's SLA: response (until the first public reply by an internal
/// user) and resolution (until the ticket is closed). The same type the SLA events carry.
pub use crate::events::SlaPhase as Phase;

/// When one threshold of a phase falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdAt {
    pub percent: Percent,
    pub at: DateTime<Utc>,
}

/// A phase's due instant and thresholds, ascending by percent (and so by instant).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhasePlan {
    pub due_at: DateTime<Utc>,
    pub thresholds: Vec<ThresholdAt>,
}

/// The business time at which `percent` of a `target_minutes` target is reached: whole
/// seconds, rounded up, so a threshold is never early.
pub fn threshold_amount(target_minutes: i64, percent: Percent) -> TimeDelta {
    // Targets are never negative (validated where they are set); treat one as zero.
    let target_seconds = u128::from(target_minutes.max(0).unsigned_abs()) * 60;
    // Per cent: hundredths of the target.
    let seconds = (target_seconds * u128::from(percent)).div_ceil(100);
    // Saturates at the longest span `TimeDelta` holds (only targets of millions of years
    // reach it: validation caps them at a year).
    const LONGEST: i64 = i64::MAX / 1_000;
    TimeDelta::seconds(i64::try_from(seconds).map_or(LONGEST, |s| s.min(LONGEST)))
}

/// Due instant and threshold instants of a phase started at `started_at` with a target of
/// `target_minutes` business minutes. `percents` must be normalized (ascending, with 100; see
/// [`super::normalize_thresholds`]) and `pauses` too ([`crate::calendar::normalize_pauses`]).
pub fn plan_phase(
    calendar: &Calendar,
    started_at: DateTime<Utc>,
    target_minutes: i64,
    percents: &[Percent],
    pauses: &[Interval],
) -> Result<PhasePlan, CalendarError> {
    let amounts: Vec<TimeDelta> = percents
        .iter()
        .map(|p| threshold_amount(target_minutes, *p))
        .collect();
    let instants = calendar.instants_after(started_at, &amounts, pauses)?;
    let thresholds: Vec<ThresholdAt> = percents
        .iter()
        .zip(instants)
        .map(|(percent, at)| ThresholdAt {
            percent: *percent,
            at,
        })
        .collect();
    let due_at = match thresholds.iter().find(|t| t.percent == Percent::BREACH) {
        Some(t) => t.at,
        None => calendar.instant_after(started_at, TimeDelta::minutes(target_minutes), pauses)?,
    };
    Ok(PhasePlan { due_at, thresholds })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::sla::percent::percent;

    #[test]
    fn threshold_amounts_round_up_to_whole_seconds() {
        assert_eq!(threshold_amount(15, percent!(50)), TimeDelta::seconds(450));
        assert_eq!(threshold_amount(1, percent!(33)), TimeDelta::seconds(20)); // 19.8 s
        assert_eq!(threshold_amount(7, percent!(75)), TimeDelta::seconds(315));
        assert_eq!(threshold_amount(0, percent!(90)), TimeDelta::zero());
        assert_eq!(
            threshold_amount(10080, Percent::MAX),
            TimeDelta::minutes(100_800)
        );
        assert_eq!(threshold_amount(-5, Percent::BREACH), TimeDelta::zero());
        assert_eq!(
            threshold_amount(i64::MAX, Percent::MAX),
            TimeDelta::seconds(i64::MAX / 1_000)
        );
    }
}
