//! OpenAPI schemas of the scheduling types of `psa-domain` (see `schemas.rs` for why they are
//! described here).

#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A series to expand: wall-clock `start` in `timezone`, an optional RFC 5545 RRULE and
/// exceptions, and the window `[from, to)` to list.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "start": "2026-03-02T09:00:00",
    "timezone": "America/New_York",
    "duration_minutes": 60,
    "rrule": "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=10",
    "exdates": ["2026-03-04T09:00:00"],
    "from": "2026-03-01T00:00:00Z",
    "to": "2026-05-01T00:00:00Z",
    "limit": 100
}))]
pub struct SchedulePreviewRequest {
    /// Local wall-clock date-time, exactly `YYYY-MM-DDTHH:MM:SS` (no offset, no fraction).
    #[schema(pattern = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$", max_length = 19)]
    pub start: String,
    /// IANA zone name, e.g. `America/New_York`.
    #[schema(max_length = 64)]
    pub timezone: String,
    #[schema(minimum = 1, maximum = 10080)]
    pub duration_minutes: i64,
    /// An RRULE value without the `RRULE:` prefix: FREQ (DAILY, WEEKLY, MONTHLY, YEARLY),
    /// INTERVAL, COUNT or UNTIL (UTC, `YYYYMMDDTHHMMSSZ`), BYDAY, BYMONTHDAY, BYMONTH, BYSETPOS,
    /// WKST. Absent: one occurrence at `start`.
    #[schema(max_length = 1000)]
    pub rrule: Option<String>,
    /// Produced local date-times (before any DST move) to leave out.
    #[schema(max_items = 1000)]
    pub exdates: Option<Vec<String>>,
    /// RFC 3339.
    #[schema(format = DateTime, max_length = 64)]
    pub from: String,
    /// RFC 3339; after `from`, at most 3660 days after it.
    #[schema(format = DateTime, max_length = 64)]
    pub to: String,
    /// 1 to 1000; 100 when absent.
    #[schema(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePreviewResponse {
    pub occurrences: Vec<SchedulePreviewOccurrence>,
    /// More occurrences lie in the window than `limit`.
    pub truncated: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePreviewOccurrence {
    pub start: DateTime<Utc>,
    /// `start` plus the duration in real time.
    pub end: DateTime<Utc>,
    /// The start instant's wall-clock time in the zone, `YYYY-MM-DDTHH:MM:SS`.
    #[schema(max_length = 19)]
    pub local_start: String,
}
