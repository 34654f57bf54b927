//! The SLA policy as one ticket's clock uses it: resolved (client's, else board's, else the
//! tenant default) and flattened by the store, so the workflow carries a self-contained copy.

use super::percent::percent;
use super::{DEFAULT_THRESHOLDS, Percent};
use crate::calendar::ScheduleSpec;
use crate::notifications::Channel;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who hears of a threshold, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdRule {
    /// Percent of the phase's target; [`Percent::BREACH`] is the breach.
    pub percent: Percent,
    pub notify_assignee: bool,
    pub notify_board_manager: bool,
    pub notify_escalation_managers: bool,
    /// Where the notification goes (the stored rule's `channels`).
    pub channels: Vec<Channel>,
}

/// Everything a ticket's SLA clock needs, as of one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaPolicySnapshot {
    /// `None` when the tenant has no policy at all: the clock records the start and nothing else.
    pub policy_id: Option<Uuid>,
    /// The schedule in force for this ticket's priority (24x7 when its target says so).
    pub schedule: ScheduleSpec,
    /// `None`: this priority has no response target.
    pub response_minutes: Option<i64>,
    pub resolution_minutes: Option<i64>,
    /// Ascending by percent, 100 included.
    pub thresholds: Vec<ThresholdRule>,
    /// Percent of a phase's target at which the escalation level reaches 1, 2 and 3.
    pub escalation_percents: [Percent; 3],
    /// Whether waiting on the client stops the clock (tenant setting).
    pub pause_while_awaiting_client: bool,
}

/// The notification thresholds a policy gets unless it says otherwise: 50/75/90 warn the
/// assignee; the breach also tells the board manager. Every channel.
pub fn default_threshold_rules() -> Vec<ThresholdRule> {
    DEFAULT_THRESHOLDS
        .into_iter()
        .chain([Percent::BREACH])
        .map(|percent| ThresholdRule {
            percent,
            notify_assignee: true,
            notify_board_manager: !percent.is_warning(),
            notify_escalation_managers: false,
            channels: Channel::ALL.to_vec(),
        })
        .collect()
}

/// Escalation levels 1, 2, 3 at 70 %, 90 % and 110 % of a phase's target.
pub const DEFAULT_ESCALATION_PERCENTS: [Percent; 3] = [percent!(70), percent!(90), percent!(110)];

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Policies travel in workflow inputs and histories: the typed fields read and write the
    /// very JSON the plain integers and strings did.
    #[test]
    fn the_json_of_a_policy_is_unchanged_by_its_types() {
        let stored = json!({
            "policy_id": null,
            "schedule": {"timezone": "UTC", "is_24x7": true, "hours": [], "holidays": []},
            "response_minutes": 60,
            "resolution_minutes": null,
            "thresholds": [
                {"percent": 75, "notify_assignee": true, "notify_board_manager": false,
                 "notify_escalation_managers": false, "channels": ["in_app"]},
                {"percent": 100, "notify_assignee": true, "notify_board_manager": true,
                 "notify_escalation_managers": false, "channels": ["email", "in_app"]}
            ],
            "escalation_percents": [70, 90, 110],
            "pause_while_awaiting_client": false
        });
        let policy: SlaPolicySnapshot = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(policy.thresholds[0].channels, [Channel::InApp]);
        assert_eq!(policy.thresholds[1].percent, Percent::BREACH);
        assert_eq!(policy.escalation_percents, DEFAULT_ESCALATION_PERCENTS);
        assert_eq!(serde_json::to_value(&policy).unwrap(), stored);

        let mut bad = stored.clone();
        bad["thresholds"][0]["percent"] = json!(0);
        assert!(serde_json::from_value::<SlaPolicySnapshot>(bad).is_err());
        let mut bad = stored;
        bad["thresholds"][0]["channels"] = json!(["sms"]);
        assert!(serde_json::from_value::<SlaPolicySnapshot>(bad).is_err());
    }

    #[test]
    fn the_default_rules_tell_the_board_manager_of_the_breach_only() {
        let rules = default_threshold_rules();
        let percents: Vec<u16> = rules.iter().map(|r| r.percent.get()).collect();
        assert_eq!(percents, [50, 75, 90, 100]);
        for r in &rules {
            assert_eq!(r.notify_board_manager, r.percent == Percent::BREACH);
            assert_eq!(r.channels, Channel::ALL);
        }
    }
}
