//! The reminder run of one schedule entry, `schedule:{tenant}:{entry}`: its messages, and the
//! pure decision of which occurrence is reminded next and when.
//!
//! The run keeps no copy of the calendar that could go stale: it reads the entry's master
//! ([`ReminderPlan`]) when it starts and whenever the outbox signals a change, and computes
//! the next occurrence from it with the expansion the API shows ([`crate::recurrence`]). The
//! store checks the occurrence against the row again when it sends, so a change whose signal
//! is still on its way is never reminded at its old time either.

use crate::recurrence::preview::parse_zone;
use crate::recurrence::zone::parse_local;
use crate::recurrence::{Rule, Series};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A reminder run's start: the entry, and what an earlier run of its lineage hands over.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderInput {
    pub tenant_id: Uuid,
    pub entry_id: Uuid,
    #[serde(default)]
    pub carry: Option<ReminderCarry>,
}

/// What a run hands to the one it continues as (which reads the entry afresh, so a change
/// signalled meanwhile is not lost).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderCarry {
    /// The start of the last occurrence reminded or passed over: only later ones are next.
    pub reminded_through: Option<DateTime<Utc>>,
    pub reminders_sent: u32,
}

/// "The entry changed" (created, updated or cancelled), from the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryChanged {
    pub event_id: Uuid,
    pub occurred_at: DateTime<Utc>,
}

/// Which entry's master to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub tenant_id: Uuid,
    pub entry_id: Uuid,
}

/// An entry's master as stored, in its text forms (as the API shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderPlan {
    pub title: String,
    /// Wall-clock start, `YYYY-MM-DDTHH:MM:SS`.
    pub start: String,
    pub timezone: String,
    pub duration_minutes: i32,
    pub rrule: Option<String>,
    pub exdates: Vec<String>,
    /// Minutes before each occurrence; `None`: no reminders.
    pub reminder_minutes: Option<i32>,
}

impl ReminderPlan {
    /// The series the master describes, or why it cannot be read (a zone a later tz database
    /// dropped, say): the run then waits for the entry to change rather than failing.
    pub fn series(&self) -> Result<Series, String> {
        let start = parse_local(&self.start).map_err(|e| format!("start: {e}"))?;
        let zone = parse_zone(&self.timezone).map_err(|e| format!("timezone: {e}"))?;
        let rule = self
            .rrule
            .as_deref()
            .map(Rule::parse)
            .transpose()
            .map_err(|e| format!("rrule: {}", e.0))?;
        let exdates = self
            .exdates
            .iter()
            .map(|d| parse_local(d).map_err(|e| format!("exdates: {e}")))
            .collect::<Result<_, _>>()?;
        Series::new(start, zone, rule, exdates).map_err(|e| format!("rrule: {}", e.0))
    }
}

/// The next reminder of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Remind of the occurrence starting at `starts_at` (produced as `local`) at `remind_at`.
    Due {
        local: String,
        starts_at: DateTime<Utc>,
        remind_at: DateTime<Utc>,
    },
    /// The entry has reminders switched off.
    Off,
    /// No occurrence is left to remind of.
    Ended,
    /// The stored master cannot be expanded.
    Unreadable(String),
}

/// The first occurrence of `plan` that starts after both `now` and `through` (the last one
/// handled), and when to remind of it: `reminder_minutes` before its start, or at once when
/// that moment has passed (an entry booked ten minutes ahead is still reminded). An
/// occurrence that has begun is never reminded.
pub fn next(plan: &ReminderPlan, through: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Next {
    let Some(minutes) = plan.reminder_minutes.filter(|m| *m >= 0) else {
        return Next::Off;
    };
    let series = match plan.series() {
        Ok(series) => series,
        Err(e) => return Next::Unreadable(e),
    };
    let after = through.map_or(now, |t| t.max(now));
    if !series.reaches(after) {
        return Next::Unreadable(
            "the rule's COUNT is too large to be walked this far from its start".into(),
        );
    }
    match series.from(after).find(|o| o.start > after) {
        Some(o) => Next::Due {
            local: crate::recurrence::zone::format_local(o.local),
            starts_at: o.start,
            remind_at: o.start - TimeDelta::minutes(i64::from(minutes)),
        },
        None => Next::Ended,
    }
}

/// One reminder to send, as the run computed it; the store sends it only if the entry, as
/// stored now, still has that occurrence with reminders on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendRequest {
    pub tenant_id: Uuid,
    pub entry_id: Uuid,
    /// The produced wall-clock date-time, `YYYY-MM-DDTHH:MM:SS`: the occurrence's identity.
    pub local: String,
    pub starts_at: DateTime<Utc>,
}

/// What became of a reminder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendOutcome {
    /// Recorded, with its `schedule.reminder` event.
    Sent,
    /// This occurrence was reminded before (a retried activity, or an earlier run).
    AlreadySent,
    /// The entry as stored no longer has this occurrence, or reminders: a change is on its way.
    Stale,
}

/// How a reminder run stands, for operators (the `status` query).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderStatus {
    /// `starting`, `waiting` (for `remind_at`), `reminders_off`, `unreadable` or `ended`.
    pub state: String,
    pub next_occurrence: Option<DateTime<Utc>>,
    pub remind_at: Option<DateTime<Utc>>,
    pub reminders_sent: u32,
    /// Why the stored entry cannot be expanded, while it cannot.
    pub problem: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(rrule: Option<&str>, reminder: Option<i32>) -> ReminderPlan {
        ReminderPlan {
            title: "Backup check".into(),
            start: "2026-03-02T09:00:00".into(),
            timezone: "America/New_York".into(),
            duration_minutes: 60,
            rrule: rrule.map(str::to_owned),
            exdates: vec!["2026-03-04T09:00:00".into()],
            reminder_minutes: reminder,
        }
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|d| d.with_timezone(&Utc))
            .unwrap()
    }

    fn due(n: &Next) -> (String, DateTime<Utc>, DateTime<Utc>) {
        match n {
            Next::Due {
                local,
                starts_at,
                remind_at,
            } => (local.clone(), *starts_at, *remind_at),
            other => panic!("expected a due reminder, got {other:?}"),
        }
    }

    #[test]
    fn the_next_occurrence_is_reminded_its_minutes_before() {
        let p = plan(Some("FREQ=DAILY;COUNT=5"), Some(15));
        let (local, start, remind) = due(&next(&p, None, at("2026-03-01T00:00:00Z")));
        assert_eq!(local, "2026-03-02T09:00:00");
        assert_eq!(start, at("2026-03-02T14:00:00Z"));
        assert_eq!(remind, at("2026-03-02T13:45:00Z"));
    }

    #[test]
    fn a_handled_occurrence_is_passed_and_exceptions_are_skipped() {
        let p = plan(Some("FREQ=DAILY;COUNT=5"), Some(15));
        let now = at("2026-03-01T00:00:00Z");
        let (local, ..) = due(&next(&p, Some(at("2026-03-03T14:00:00Z")), now));
        assert_eq!(local, "2026-03-05T09:00:00", "the 4th is an exception");
    }

    #[test]
    fn an_occurrence_begun_is_not_reminded_but_one_inside_its_window_is_at_once() {
        let p = plan(None, Some(30));
        assert_eq!(next(&p, None, at("2026-03-02T14:00:00Z")), Next::Ended);
        let (_, start, remind) = due(&next(&p, None, at("2026-03-02T13:50:00Z")));
        assert_eq!(start, at("2026-03-02T14:00:00Z"));
        assert!(
            remind < at("2026-03-02T13:50:00Z"),
            "due already: sent at once"
        );
    }

    #[test]
    fn the_series_ends_and_reminders_can_be_off() {
        let p = plan(Some("FREQ=DAILY;COUNT=2"), Some(15));
        assert_eq!(
            next(
                &p,
                Some(at("2026-03-03T14:00:00Z")),
                at("2026-03-01T00:00:00Z")
            ),
            Next::Ended
        );
        assert_eq!(
            next(&plan(None, None), None, at("2026-01-01T00:00:00Z")),
            Next::Off
        );
    }

    #[test]
    fn a_master_that_no_longer_reads_is_reported_not_panicked_on() {
        let mut p = plan(None, Some(15));
        p.timezone = "Mars/Olympus_Mons".into();
        assert!(matches!(
            next(&p, None, at("2026-01-01T00:00:00Z")),
            Next::Unreadable(e) if e.starts_with("timezone")
        ));
    }

    #[test]
    fn a_dst_moved_occurrence_is_reminded_at_its_real_instant() {
        // 02:30 does not exist on 2026-03-08 in New York: the occurrence is at 03:30 EDT.
        let mut p = plan(Some("FREQ=DAILY;COUNT=3"), Some(10));
        p.start = "2026-03-07T02:30:00".into();
        p.exdates.clear();
        let (local, start, remind) = due(&next(
            &p,
            Some(at("2026-03-07T07:30:00Z")),
            at("2026-03-07T08:00:00Z"),
        ));
        assert_eq!(local, "2026-03-08T02:30:00");
        assert_eq!(start, at("2026-03-08T07:30:00Z"));
        assert_eq!(remind, at("2026-03-08T07:20:00Z"));
    }
}
