//! One ticket's SLA clock as a state machine: the SLA workflow holds one, feeds it the ticket's
//! events and sleeps until [`SlaTracker::next_wake`]; everything it decides is decided here,
//! where it can be tested without a server.
//!
//! The clock is kept rebased: at every event each running phase folds the business time since
//! its anchor into `carried` and restarts counting from the event's instant. So the state has
//! a fixed size however often a ticket is paused and resumed, a schedule or policy change
//! applies from the instant it happens, and on waking the tracker compares the elapsed business
//! time with every threshold, so none is skipped however late the wake-up, and each fires
//! once because fired thresholds are remembered.

use super::Percent;
use super::phase::{Phase, threshold_amount};
use super::policy::{SlaPolicySnapshot, ThresholdRule};
use crate::calendar::{Calendar, CalendarError};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Where a ticket's SLA stands (search attribute `SlaState`, column `tickets.sla_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    OnTrack,
    /// A running phase has passed its first warning threshold.
    AtRisk,
    Paused,
    Breached,
    /// Closed within target.
    Met,
}

impl SlaState {
    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Paused => "paused",
            SlaState::Breached => "breached",
            SlaState::Met => "met",
        }
    }
}

/// Something the workflow must do now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum SlaAction {
    /// A notification threshold was reached ([`Percent::BREACH`] is the breach's notification).
    Threshold {
        phase: Phase,
        rule: ThresholdRule,
        due_at: Option<DateTime<Utc>>,
    },
    /// The phase reached [`Percent::BREACH`] of its target.
    Breached {
        phase: Phase,
        due_at: Option<DateTime<Utc>>,
    },
    /// The ticket's escalation level rose to `level`.
    Escalated { phase: Phase, level: u8 },
}

/// One thing a phase has reached, before it becomes an [`SlaAction`].
enum Step {
    Notify(ThresholdRule),
    Breach,
    Escalate(u8),
}

impl Step {
    /// Order among steps at the same percent.
    fn rank(&self) -> u8 {
        match self {
            Step::Notify(_) => 0,
            Step::Breach => 1,
            Step::Escalate(level) => 1 + level,
        }
    }
}

/// One phase's clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseClock {
    pub target_minutes: Option<i64>,
    /// Business time counted before `anchor`, in nanoseconds.
    pub carried_ns: i64,
    /// Counting since (when running and not paused).
    pub anchor: DateTime<Utc>,
    /// When the phase ended: the first response, or the resolution.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The instant the target is reached, as of the last change.
    pub due_at: Option<DateTime<Utc>>,
    /// Notification percents already fired.
    pub notified: Vec<Percent>,
    /// Escalation levels this phase has reached.
    pub escalated: u8,
    pub breached: bool,
}

impl PhaseClock {
    fn new(target_minutes: Option<i64>, at: DateTime<Utc>) -> Self {
        Self {
            target_minutes,
            carried_ns: 0,
            anchor: at,
            stopped_at: None,
            due_at: None,
            notified: Vec::new(),
            escalated: 0,
            breached: false,
        }
    }

    fn carried(&self) -> TimeDelta {
        TimeDelta::nanoseconds(self.carried_ns)
    }

    fn running(&self) -> bool {
        self.stopped_at.is_none()
    }
}

/// What the status endpoint and query show for one phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseView {
    pub target_minutes: Option<i64>,
    pub due_at: Option<DateTime<Utc>>,
    pub elapsed_minutes: i64,
    pub remaining_minutes: Option<i64>,
    pub stopped_at: Option<DateTime<Utc>>,
    /// `Some(true)`: ended within target; `Some(false)`: breached; `None`: running or no target.
    pub met: Option<bool>,
    pub breached: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaView {
    pub policy_id: Option<uuid::Uuid>,
    pub started_at: DateTime<Utc>,
    pub state: SlaState,
    pub paused: bool,
    pub paused_since: Option<DateTime<Utc>>,
    pub paused_minutes: i64,
    pub escalation_level: u8,
    pub response: PhaseView,
    pub resolution: PhaseView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaTracker {
    pub policy: SlaPolicySnapshot,
    pub started_at: DateTime<Utc>,
    pub response: PhaseClock,
    pub resolution: PhaseClock,
    /// The ticket's status stops the clock.
    pub status_pauses: bool,
    /// The ticket waits on the client (stops the clock only if the policy says so).
    pub awaiting_client: bool,
    pub paused_since: Option<DateTime<Utc>>,
    /// Business time spent paused, in nanoseconds.
    pub paused_ns: i64,
    pub escalation_level: u8,
    pub closed: bool,
    /// The instant everything was last folded to; events are never applied before it.
    pub settled_at: DateTime<Utc>,
}

impl SlaTracker {
    /// A clock started at `started_at` (the ticket's creation) under `policy`.
    pub fn new(policy: SlaPolicySnapshot, started_at: DateTime<Utc>) -> Self {
        Self {
            response: PhaseClock::new(policy.response_minutes, started_at),
            resolution: PhaseClock::new(policy.resolution_minutes, started_at),
            policy,
            started_at,
            status_pauses: false,
            awaiting_client: false,
            paused_since: None,
            paused_ns: 0,
            escalation_level: 0,
            closed: false,
            settled_at: started_at,
        }
    }

    /// The policy's schedule as a calendar. The store validated it when it was saved.
    pub fn calendar(&self) -> Result<Calendar, crate::validation::ValidationErrors> {
        Calendar::new(&self.policy.schedule, "schedule")
    }

    pub fn paused(&self) -> bool {
        self.status_pauses || (self.awaiting_client && self.policy.pause_while_awaiting_client)
    }

    fn phase(&self, phase: Phase) -> &PhaseClock {
        match phase {
            Phase::Response => &self.response,
            Phase::Resolution => &self.resolution,
        }
    }

    fn phase_mut(&mut self, phase: Phase) -> &mut PhaseClock {
        match phase {
            Phase::Response => &mut self.response,
            Phase::Resolution => &mut self.resolution,
        }
    }

    /// Folds business time up to `at` into each running phase (and into the paused total) and
    /// returns the instant actually used: never earlier than the last one.
    fn settle(&mut self, cal: &Calendar, at: DateTime<Utc>) -> DateTime<Utc> {
        let at = at.max(self.settled_at);
        if let Some(since) = self.paused_since {
            self.paused_ns += nanos(cal.business_time(since, at, &[]));
            self.paused_since = Some(at);
        } else {
            for phase in [Phase::Response, Phase::Resolution] {
                let p = self.phase_mut(phase);
                if p.running() {
                    p.carried_ns += nanos(cal.business_time(p.anchor, at, &[]));
                }
            }
        }
        for phase in [Phase::Response, Phase::Resolution] {
            self.phase_mut(phase).anchor = at;
        }
        self.settled_at = at;
        at
    }

    /// Recomputes each running phase's due instant from its anchor.
    fn refresh_due(&mut self, cal: &Calendar) -> Result<(), CalendarError> {
        let paused = self.paused();
        for phase in [Phase::Response, Phase::Resolution] {
            let p = self.phase_mut(phase);
            // An ended phase is a record: its target and due instant stay as they were.
            if !p.running() {
                continue;
            }
            let Some(target) = p.target_minutes else {
                p.due_at = None;
                continue;
            };
            if paused {
                continue;
            }
            let left = TimeDelta::minutes(target) - p.carried();
            p.due_at = if left > TimeDelta::zero() {
                Some(cal.instant_after(p.anchor, left, &[])?)
            } else {
                // Already past due: it fell due no later than now (keep the known instant).
                Some(p.due_at.filter(|d| *d <= p.anchor).unwrap_or(p.anchor))
            };
        }
        Ok(())
    }

    /// Starts the clocks: a ticket created already closed or in a pausing status is handled
    /// like any later change.
    pub fn start(
        &mut self,
        cal: &Calendar,
        status_pauses: bool,
        closed: bool,
    ) -> Result<(), CalendarError> {
        let at = self.started_at;
        self.set_pausing(cal, at, status_pauses, self.awaiting_client)?;
        if closed {
            self.resolve(cal, at)?;
        }
        self.refresh_due(cal)
    }

    /// The ticket's status or waiting-on-client flag changed.
    pub fn set_pausing(
        &mut self,
        cal: &Calendar,
        at: DateTime<Utc>,
        status_pauses: bool,
        awaiting_client: bool,
    ) -> Result<(), CalendarError> {
        let at = self.settle(cal, at);
        let was = self.paused();
        self.status_pauses = status_pauses;
        self.awaiting_client = awaiting_client;
        match (was, self.paused()) {
            (false, true) => self.paused_since = Some(at),
            (true, false) => self.paused_since = None,
            _ => {}
        }
        self.refresh_due(cal)
    }

    /// The first public reply by an internal user: the response phase ends.
    pub fn respond(&mut self, cal: &Calendar, at: DateTime<Utc>) -> Result<(), CalendarError> {
        let at = self.settle(cal, at);
        if self.response.running() {
            self.response.stopped_at = Some(at);
        }
        self.refresh_due(cal)
    }

    /// The ticket was closed: both phases end (closing answers the client too).
    pub fn resolve(&mut self, cal: &Calendar, at: DateTime<Utc>) -> Result<(), CalendarError> {
        let at = self.settle(cal, at);
        for phase in [Phase::Response, Phase::Resolution] {
            let p = self.phase_mut(phase);
            if p.running() {
                p.stopped_at = Some(at);
            }
        }
        self.closed = true;
        self.refresh_due(cal)
    }

    /// The ticket was reopened: resolution counts on from what it had; thresholds already
    /// fired stay fired and the escalation level stays.
    pub fn reopen(&mut self, cal: &Calendar, at: DateTime<Utc>) -> Result<(), CalendarError> {
        let at = self.settle(cal, at);
        if self.closed {
            self.closed = false;
            self.resolution.stopped_at = None;
            self.resolution.anchor = at;
            // Counting again, under the policy in force now.
            self.resolution.target_minutes = self.policy.resolution_minutes;
        }
        self.refresh_due(cal)
    }

    /// A new policy (priority, policy or schedule changed) applies from `at`; time already
    /// counted stays counted under the old schedule.
    pub fn change_policy(
        &mut self,
        old: &Calendar,
        new: &Calendar,
        policy: SlaPolicySnapshot,
        at: DateTime<Utc>,
    ) -> Result<(), CalendarError> {
        self.settle(old, at);
        // Only a running phase takes the new targets: an ended one keeps its record (its
        // target, due instant and whether it was met), however often policies change later.
        if self.response.running() {
            self.response.target_minutes = policy.response_minutes;
        }
        if self.resolution.running() {
            self.resolution.target_minutes = policy.resolution_minutes;
        }
        let was = self.paused();
        self.policy = policy;
        match (was, self.paused()) {
            (false, true) => self.paused_since = Some(self.settled_at),
            (true, false) => self.paused_since = None,
            _ => {}
        }
        self.refresh_due(new)
    }

    /// Business time a phase has counted by `now`.
    pub fn elapsed(&self, cal: &Calendar, phase: Phase, now: DateTime<Utc>) -> TimeDelta {
        let p = self.phase(phase);
        let mut e = p.carried();
        if p.running() && !self.paused() && now > p.anchor {
            e += cal.business_time(p.anchor, now, &[]);
        }
        e
    }

    /// Every threshold, breach and escalation reached by `now` and not yet acted on, in order
    /// of percent within each phase; marks them done.
    pub fn due(
        &mut self,
        cal: &Calendar,
        now: DateTime<Utc>,
    ) -> Result<Vec<SlaAction>, CalendarError> {
        self.settle(cal, now);
        let mut actions = Vec::new();
        for phase in [Phase::Response, Phase::Resolution] {
            let rules = self.policy.thresholds.clone();
            let escalations = self.policy.escalation_percents;
            let mut ticket_level = self.escalation_level;
            let p = self.phase_mut(phase);
            let Some(target) = p.target_minutes else {
                continue;
            };
            let elapsed = p.carried();
            let reached = |percent: Percent| threshold_amount(target, percent) <= elapsed;
            // Ordered by percent; at one percent: the notification, then the breach, then
            // the escalation (`Step::rank`).
            let mut steps: Vec<(Percent, Step)> = rules
                .into_iter()
                .filter(|r| !p.notified.contains(&r.percent) && reached(r.percent))
                .map(|r| (r.percent, Step::Notify(r)))
                .collect();
            if !p.breached && reached(Percent::BREACH) {
                steps.push((Percent::BREACH, Step::Breach));
            }
            for (level, percent) in (1u8..).zip(escalations) {
                if p.escalated < level && reached(percent) {
                    steps.push((percent, Step::Escalate(level)));
                }
            }
            steps.sort_by_key(|(percent, step)| (*percent, step.rank()));
            for (_, step) in steps {
                match step {
                    Step::Notify(rule) => {
                        p.notified.push(rule.percent);
                        actions.push(SlaAction::Threshold {
                            phase,
                            rule,
                            due_at: p.due_at,
                        });
                    }
                    Step::Breach => {
                        p.breached = true;
                        actions.push(SlaAction::Breached {
                            phase,
                            due_at: p.due_at,
                        });
                    }
                    Step::Escalate(level) => {
                        p.escalated = p.escalated.max(level);
                        // Both phases escalate one ticket: only a new, higher level is news.
                        if level > ticket_level {
                            ticket_level = level;
                            actions.push(SlaAction::Escalated { phase, level });
                        }
                    }
                }
            }
            self.escalation_level = ticket_level;
        }
        Ok(actions)
    }

    /// When the next threshold, breach or escalation falls; `None` while paused, closed or
    /// with nothing left to wait for.
    pub fn next_wake(&self, cal: &Calendar) -> Result<Option<DateTime<Utc>>, CalendarError> {
        if self.paused() {
            return Ok(None);
        }
        let mut next: Option<DateTime<Utc>> = None;
        for phase in [Phase::Response, Phase::Resolution] {
            let p = self.phase(phase);
            let Some(target) = p.target_minutes else {
                continue;
            };
            if !p.running() {
                continue;
            }
            let pending = self
                .policy
                .thresholds
                .iter()
                .filter(|r| !p.notified.contains(&r.percent))
                .map(|r| r.percent)
                .chain((!p.breached).then_some(Percent::BREACH))
                .chain(
                    self.policy
                        .escalation_percents
                        .iter()
                        .enumerate()
                        // Only a level above the ticket's current one changes anything.
                        .filter(|(i, _)| usize::from(p.escalated.max(self.escalation_level)) <= *i)
                        .map(|(_, pct)| *pct),
                )
                .map(|pct| threshold_amount(target, pct))
                .min();
            let Some(amount) = pending else { continue };
            let left = (amount - p.carried()).max(TimeDelta::zero());
            let at = cal.instant_after(p.anchor, left, &[])?;
            next = Some(next.map_or(at, |n| n.min(at)));
        }
        Ok(next)
    }

    pub fn state(&self) -> SlaState {
        let breached = |p: &PhaseClock| p.breached;
        if self.closed {
            return if breached(&self.response) || breached(&self.resolution) {
                SlaState::Breached
            } else {
                SlaState::Met
            };
        }
        let running = [&self.response, &self.resolution];
        if running.iter().any(|p| p.running() && p.breached) {
            return SlaState::Breached;
        }
        if self.paused() {
            return SlaState::Paused;
        }
        let first_warning = self.policy.thresholds.first().map(|r| r.percent);
        let warned = running.iter().any(|p| {
            p.running() && first_warning.is_some_and(|w| w.is_warning() && p.notified.contains(&w))
        });
        if warned {
            SlaState::AtRisk
        } else {
            SlaState::OnTrack
        }
    }

    pub fn view(&self, cal: &Calendar, now: DateTime<Utc>) -> SlaView {
        let phase_view = |phase: Phase| {
            let p = self.phase(phase);
            let elapsed = self.elapsed(cal, phase, now).num_seconds().div_euclid(60);
            PhaseView {
                target_minutes: p.target_minutes,
                due_at: p.due_at,
                elapsed_minutes: elapsed,
                remaining_minutes: p.target_minutes.map(|t| t - elapsed),
                stopped_at: p.stopped_at,
                met: match (p.target_minutes, p.stopped_at) {
                    (Some(_), Some(_)) => Some(!p.breached),
                    _ => None,
                },
                breached: p.breached,
            }
        };
        let mut paused_ns = self.paused_ns;
        if let Some(since) = self.paused_since {
            paused_ns += nanos(cal.business_time(since, now, &[]));
        }
        SlaView {
            policy_id: self.policy.policy_id,
            started_at: self.started_at,
            state: self.state(),
            paused: self.paused(),
            paused_since: self.paused_since,
            paused_minutes: paused_ns.div_euclid(60_000_000_000),
            escalation_level: self.escalation_level,
            response: phase_view(Phase::Response),
            resolution: phase_view(Phase::Resolution),
        }
    }
}

fn nanos(d: TimeDelta) -> i64 {
    d.num_nanoseconds().unwrap_or(i64::MAX)
}
