//! A checked automation definition: what [`super::validate`] makes of the canonical JSON
//! form, and what the interpreter runs. Expressions are compiled, durations read, names
//! checked; the JSON it came from stays the stored form.

use super::expr::Expr;
use chrono::TimeDelta;
use chrono_tz::Tz;
use serde_json::Value as Json;
use uuid::Uuid;

#[derive(Debug)]
pub struct Definition {
    pub name: String,
    pub description: Option<String>,
    pub trigger: Trigger,
    pub steps: Vec<Step>,
}

#[derive(Debug)]
pub enum Trigger {
    /// Runs for each event of `event`'s type whose `condition` (when given) is true.
    Event {
        event: String,
        condition: Option<Expr>,
    },
    /// Runs on a five-field cron calendar in `timezone`.
    Schedule { cron: String, timezone: Tz },
    /// Runs when someone starts it.
    Manual,
}

#[derive(Debug)]
pub struct Step {
    /// Unique in the definition.
    pub id: String,
    pub body: Body,
}

/// What an `action` step does after its last failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// Raise the error.
    Fail,
    /// Go on with the next step, saving nothing.
    Continue,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Retry {
    /// 1 to 10 (1: no retry).
    pub max_attempts: u32,
    pub initial_interval: TimeDelta,
    /// At least 1.
    pub backoff: f64,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            max_attempts: 1,
            initial_interval: TimeDelta::seconds(1),
            backoff: 2.0,
        }
    }
}

impl Retry {
    /// The wait before attempt `n + 1` (after `n` failed): `initial_interval × backoff^(n−1)`,
    /// to the nearest microsecond.
    pub fn wait_after(&self, n: u32) -> TimeDelta {
        let exponent = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
        let micros = self.initial_interval.num_microseconds().unwrap_or(i64::MAX) as f64
            * self.backoff.powi(exponent);
        // Ten attempts of at most ten years each, backed off: clamp rather than overflow.
        let micros = micros.round().clamp(0.0, 1e17);
        TimeDelta::microseconds(micros as i64)
    }
}

/// An `input` mapping: strings are expressions, other scalars literals, containers mapped
/// member by member.
#[derive(Debug)]
pub enum Mapping {
    Expr(Expr),
    Literal(Json),
    List(Vec<Mapping>),
    Object(Vec<(String, Mapping)>),
}

#[derive(Debug)]
pub enum Wait {
    For(TimeDelta),
    Until(Expr),
}

#[derive(Debug)]
pub enum Body {
    Action {
        action: String,
        input: Mapping,
        save_as: Option<String>,
        retry: Retry,
        on_error: OnError,
    },
    Set {
        name: String,
        value: Expr,
    },
    If {
        condition: Expr,
        then: Vec<Step>,
        otherwise: Option<Vec<Step>>,
    },
    ForEach {
        items: Expr,
        binding: String,
        steps: Vec<Step>,
        max_items: usize,
    },
    Try {
        steps: Vec<Step>,
        catch: Vec<Step>,
    },
    Wait {
        wait: Wait,
        business_schedule_id: Option<Uuid>,
    },
    WaitForEvent {
        event: String,
        filter: Expr,
        timeout: TimeDelta,
        save_as: Option<String>,
    },
    Call {
        automation: Uuid,
        input: Mapping,
        save_as: Option<String>,
    },
    Return {
        value: Option<Expr>,
    },
}

impl Body {
    /// The step type as definitions write it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Body::Action { .. } => "action",
            Body::Set { .. } => "set",
            Body::If { .. } => "if",
            Body::ForEach { .. } => "for_each",
            Body::Try { .. } => "try",
            Body::Wait { .. } => "wait",
            Body::WaitForEvent { .. } => "wait_for_event",
            Body::Call { .. } => "call",
            Body::Return { .. } => "return",
        }
    }
}

/// The step types, as definitions write them.
pub const STEP_TYPES: [&str; 9] = [
    "action",
    "set",
    "if",
    "for_each",
    "try",
    "wait",
    "wait_for_event",
    "call",
    "return",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_waits_back_off_from_the_initial_interval() {
        let r = Retry {
            max_attempts: 4,
            initial_interval: TimeDelta::seconds(1),
            backoff: 2.0,
        };
        assert_eq!(r.wait_after(1), TimeDelta::seconds(1));
        assert_eq!(r.wait_after(2), TimeDelta::seconds(2));
        assert_eq!(r.wait_after(3), TimeDelta::seconds(4));
        let r = Retry { backoff: 1.5, ..r };
        assert_eq!(r.wait_after(3), TimeDelta::milliseconds(2_250));
    }
}
