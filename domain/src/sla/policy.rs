//! The SLA policy as one ticket's clock uses it: resolved (client's, else board's, else the
//! tenant default) and flattened by the store, so the workflow carries a self-contained copy.

use super::{DEFAULT_THRESHOLDS, Percent};
use crate::calendar::ScheduleSpec;
use crate::notifications::Channel;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Who hears of a threshold, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThresholdRule {
    /// Percent of the phase's target; [`Percent::BREACH`] is the breach.
    pub percent: u16,
    pub notify_assignee: bool,
    pub notify_board_manager: bool,
    pub notify_escalation_managers: bool,
    /// `email`, `in_app`.
    pub channels: Vec<String>,
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
    pub escalation_percents: [u16; 3],
    /// Whether waiting on the client stops the clock (tenant setting).
    pub pause_while_awaiting_client: bool,
}

/// The notification thresholds a policy gets unless it says otherwise: 50/75/90 warn the
/// assignee; the breach also tells the board manager. Every channel.
pub fn default_threshold_rules() -> Vec<ThresholdRule> {
    DEFAULT_THRESHOLDS
        .into_iter()
        .chain([Percent::BREACH.get()])
        .map(|percent| ThresholdRule {
            percent,
            notify_assignee: true,
            notify_board_manager: percent >= Percent::BREACH.get(),
            notify_escalation_managers: false,
            channels: Channel::ALL.map(String::from).to_vec(),
        })
        .collect()
}

/// Escalation levels 1, 2, 3 at 70 %, 90 % and 110 % of a phase's target.
pub const DEFAULT_ESCALATION_PERCENTS: [u16; 3] = [70, 90, 110];
