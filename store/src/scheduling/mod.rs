//! Scheduling: the dispatch calendar's series (only masters are stored; occurrences are
//! computed by `psa_domain::recurrence`), the conflict check of every write, and the stateless
//! schedule preview, and what the reminder workflow reads and records.

pub mod conflicts;
pub mod draft;
pub mod entries;
pub mod occurrences;
pub mod preview;
pub mod reminders;
pub mod rows;
