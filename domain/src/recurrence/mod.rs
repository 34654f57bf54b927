//! Recurrence: RFC 5545 rules expanded in an IANA zone, for dispatch calendars and reminders.
//!
//! [`Rule`] reads and checks the rule text, [`Series`] expands a stored master into occurrences
//! and [`zone`] turns wall-clock date-times into instants. The preview endpoint, the schedule
//! entry store and the reminder workflow all use these, so a preview shows what is booked and
//! what is reminded.

pub mod overlap;
pub mod preview;
pub mod rule;
pub mod series;
pub mod split;
pub mod zone;

pub use rule::{ByDay, Freq, Rule, RuleError};
pub use series::{Occurrence, Series, Window};
