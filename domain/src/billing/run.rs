//! The invoice run's messages: what starts `invoice-run:{tenant}:{period}`, what its
//! activities are asked and answer, and the progress its query and the API show. Here, free of
//! Temporal, so the store, the workflow and the edge share one definition.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Clients billed by one activity unless the run is told otherwise.
pub const DEFAULT_BATCH_SIZE: u32 = 100;
/// Batches billed at once unless the run is told otherwise.
pub const DEFAULT_PARALLEL_BATCHES: u32 = 4;
/// The most clients one activity bills (an activity must finish well within its timeout).
pub const MAX_BATCH_SIZE: u32 = 1_000;
/// The most batches billed at once.
pub const MAX_PARALLEL_BATCHES: u32 = 16;

/// The run's input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRunInput {
    pub tenant_id: Uuid,
    /// `YYYY-MM` or `YYYY-MM-DD` ([`super::RunPeriod`]).
    pub period: String,
    pub batch_size: u32,
    pub parallel_batches: u32,
}

/// What the run bills: how many invoices fall due, and the batches, each the clients from its
/// first client ID (inclusive) to the next batch's (exclusive), in client ID order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunPlan {
    pub total: u32,
    pub batch_starts: Vec<Uuid>,
}

/// Which clients one activity bills.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Clients {
    /// Client IDs in `[from, to)`; `to` none: to the last.
    Range { from: Uuid, to: Option<Uuid> },
    /// These clients (a retry of those that failed).
    Listed(Vec<Uuid>),
}

/// One activity's work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchRequest {
    pub tenant_id: Uuid,
    pub period: String,
    pub clients: Clients,
}

/// Why one client's invoice could not be made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFailure {
    pub client_id: Uuid,
    pub reason: String,
}

/// What one activity did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchOutcome {
    /// Invoices this activity made.
    pub invoiced: u32,
    /// Invoices that were already there (an earlier run, or an earlier attempt).
    pub already: u32,
    /// Due periods with nothing to bill.
    pub empty: u32,
    /// Clients whose invoices could not be made; nothing of theirs was written.
    pub failed: Vec<ClientFailure>,
}

/// How a run stands: the query's answer, and what the run records for the API.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProgress {
    pub period: String,
    /// `running`, `completed` or `completed_with_failures`.
    pub status: String,
    /// Invoices due in the period.
    pub total: u32,
    /// Of those, invoiced (by this run or before it).
    pub done: u32,
    /// Of those, with nothing to bill.
    pub empty: u32,
    /// Clients whose invoices could not be made, as of their last attempt.
    pub failed: Vec<ClientFailure>,
    pub batches_done: u32,
    pub batches_total: u32,
}

/// The progress an activity records for the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressRecord {
    pub tenant_id: Uuid,
    pub progress: RunProgress,
}

/// What the run's first activity is asked: plan the period in batches of `batch_size`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequest {
    pub tenant_id: Uuid,
    pub period: String,
    pub batch_size: u32,
}

/// What a tenant's Schedules start: the day's invoice run, or the day's upkeep (overdue
/// invoices, expired credits), for the day it is in the tenant's billing zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduledBilling {
    pub tenant_id: Uuid,
    /// IANA zone name.
    pub timezone: String,
}

/// The day's upkeep: invoices past their due date become overdue, credits past their expiry
/// lapse.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpkeepRequest {
    pub tenant_id: Uuid,
    pub day: chrono::NaiveDate,
}

/// What the day's upkeep changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpkeepOutcome {
    pub invoices_overdue: u32,
    pub credits_expired: u32,
}

/// The zone named `name`, if it is an IANA zone.
pub fn zone(name: &str) -> Option<chrono_tz::Tz> {
    name.parse().ok()
}

/// The day `now` falls on in the zone `name` (UTC when the name is not a zone: a stored zone
/// was checked when written, and a day is still better than none).
pub fn day_in(now: chrono::DateTime<chrono::Utc>, name: &str) -> chrono::NaiveDate {
    match zone(name) {
        Some(tz) => now.with_timezone(&tz).date_naive(),
        None => now.date_naive(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_is_the_zones() {
        let now: chrono::DateTime<chrono::Utc> = "2026-11-30T03:00:00Z".parse().unwrap();
        assert_eq!(day_in(now, "UTC").to_string(), "2026-11-30");
        assert_eq!(day_in(now, "America/New_York").to_string(), "2026-11-29");
        assert_eq!(day_in(now, "Asia/Tokyo").to_string(), "2026-11-30");
        assert_eq!(day_in(now, "Not/AZone").to_string(), "2026-11-30");
        assert!(zone("Europe/London").is_some());
        assert!(zone("Mars/Olympus").is_none());
    }
}
