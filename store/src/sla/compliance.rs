//! `GET /v1/sla/compliance`: how well the SLA was kept over a period, per priority, board,
//! client or technician.
//!
//! A ticket belongs to the period when its SLA clock started in it. A phase is met when it
//! ended within target, breached when it ended late or is still running past its due time;
//! rates are met / (met + breached), so tickets still in time count in neither. Averages are
//! business minutes of the phases that ended. The trend is per UTC day of the start.

use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use psa_domain::auth::Permission;
use psa_domain::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Priority,
    Board,
    Client,
    Technician,
}

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// RFC 3339; SLA clocks started at or after it.
    pub from: DateTime<Utc>,
    /// RFC 3339; SLA clocks started before it. After `from`, at most 366 days later.
    pub to: DateTime<Utc>,
    pub group_by: Option<GroupBy>,
}

#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct PhaseFigures {
    pub met: i64,
    pub breached: i64,
    /// met / (met + breached); `null` when neither.
    pub rate: Option<f64>,
    pub average_minutes: Option<f64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GroupFigures {
    /// The priority, board, client or technician; `null` for tickets without one.
    pub key: Option<Uuid>,
    pub label: Option<String>,
    pub tickets: i64,
    pub response: PhaseFigures,
    pub resolution: PhaseFigures,
    pub breaches: i64,
    /// Open tickets with a running clock.
    pub active: i64,
    pub at_risk: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DayFigures {
    pub date: NaiveDate,
    pub response_met: i64,
    pub response_breached: i64,
    pub resolution_met: i64,
    pub resolution_breached: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ComplianceReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub group_by: Option<GroupBy>,
    pub totals: GroupFigures,
    pub groups: Vec<GroupFigures>,
    pub trend: Vec<DayFigures>,
}

/// One group's figures as the query returns them.
struct Row {
    key: Option<Uuid>,
    label: Option<String>,
    tickets: i64,
    response_met: i64,
    response_breached: i64,
    response_avg: Option<f64>,
    resolution_met: i64,
    resolution_breached: i64,
    resolution_avg: Option<f64>,
    active: i64,
    at_risk: i64,
}

fn rate(met: i64, breached: i64) -> Option<f64> {
    let all = met + breached;
    (all > 0).then(|| met as f64 / all as f64)
}

impl From<Row> for GroupFigures {
    fn from(r: Row) -> Self {
        GroupFigures {
            key: r.key,
            label: r.label,
            tickets: r.tickets,
            response: PhaseFigures {
                met: r.response_met,
                breached: r.response_breached,
                rate: rate(r.response_met, r.response_breached),
                average_minutes: r.response_avg,
            },
            resolution: PhaseFigures {
                met: r.resolution_met,
                breached: r.resolution_breached,
                rate: rate(r.resolution_met, r.resolution_breached),
                average_minutes: r.resolution_avg,
            },
            breaches: r.response_breached + r.resolution_breached,
            active: r.active,
            at_risk: r.at_risk,
        }
    }
}

/// `query_as!($row, …)` of `$select` over `o`: the per-ticket phase outcomes of the tickets
/// whose clock started in the period (`$from` inclusive, `$to` exclusive). A macro rather than
/// a shared string so that every query is one literal, checked against the schema when the
/// crate is compiled (`query_as!` joins literal pieces written with `+`).
macro_rules! over_outcomes {
    ($row:ident, $from:expr, $to:expr, $($select:literal)+) => {
        sqlx::query_as!(
            $row,
            "WITH o AS (
                SELECT t.*,
                       (t.sla_response_met IS TRUE) AS r_met,
                       (t.sla_response_met IS FALSE OR (t.sla_response_at IS NULL AND t.sla_response_due_at < now()
                                                        AND t.sla_state <> 'paused')) AS r_breached,
                       (t.sla_resolution_met IS TRUE) AS s_met,
                       (t.sla_resolution_met IS FALSE OR (t.sla_resolution_at IS NULL AND t.sla_resolution_due_at < now()
                                                          AND t.sla_state <> 'paused')) AS s_breached
                  FROM tickets t
                 WHERE t.sla_started_at >= $1 AND t.sla_started_at < $2)
             " $(+ $select)+,
            $from,
            $to
        )
    };
}

/// The [`Row`] figures of the period's tickets per `$key` (named by `$label`, found through
/// `$join`), or of all of them as one group (`NULL` key and label, no join). Counts are never
/// NULL; an average is NULL when no phase ended, key and label for tickets without one.
macro_rules! figures {
    ($from:expr, $to:expr, $key:literal, $label:literal, $join:literal, $tail:literal) => {
        over_outcomes!(
            Row,
            $from,
            $to,
            "SELECT " $key r#" AS "key?", "# $label r#" AS "label?",
                    count(*) AS "tickets!",
                    count(*) FILTER (WHERE o.r_met) AS "response_met!",
                    count(*) FILTER (WHERE o.r_breached) AS "response_breached!",
                    avg(o.sla_response_minutes)::float8 AS "response_avg?",
                    count(*) FILTER (WHERE o.s_met) AS "resolution_met!",
                    count(*) FILTER (WHERE o.s_breached) AS "resolution_breached!",
                    avg(o.sla_resolution_minutes)::float8 AS "resolution_avg?",
                    count(*) FILTER (WHERE o.closed_at IS NULL) AS "active!",
                    count(*) FILTER (WHERE o.closed_at IS NULL AND o.sla_state = 'at_risk') AS "at_risk!"
               FROM o "# $join $tail
        )
    };
    // One group per key, labelled, the tickets without one last.
    ($from:expr, $to:expr, $key:literal, $label:literal, $join:literal) => {
        figures!($from, $to, $key, $label, $join, " GROUP BY 1, 2 ORDER BY 2 NULLS LAST, 1")
    };
}

pub async fn report(
    pool: &PgPool,
    p: &Principal,
    q: ComplianceQuery,
) -> Result<ComplianceReport, StoreError> {
    p.require(Permission::ReadSla)?;
    let mut e = ValidationErrors::default();
    if q.to <= q.from {
        e.push("to", "must be after `from`");
    } else if q.to - q.from > TimeDelta::days(366) {
        e.push("to", "the period may span at most 366 days");
    }
    e.into_result().map_err(StoreError::Malformed)?;
    let mut tx = tenant::begin(pool, p).await?;
    // One static query per grouping: the grouping picks the query, never a piece of SQL.
    let groups = match q.group_by {
        None => Vec::new(),
        Some(GroupBy::Priority) => {
            figures!(
                q.from,
                q.to,
                "o.priority_id",
                "g.name",
                "LEFT JOIN priorities g ON g.tenant_id = o.tenant_id AND g.id = o.priority_id"
            )
            .fetch_all(&mut *tx)
            .await?
        }
        Some(GroupBy::Board) => {
            figures!(
                q.from,
                q.to,
                "o.board_id",
                "g.name",
                "LEFT JOIN boards g ON g.tenant_id = o.tenant_id AND g.id = o.board_id"
            )
            .fetch_all(&mut *tx)
            .await?
        }
        Some(GroupBy::Client) => {
            figures!(
                q.from,
                q.to,
                "o.client_id",
                "g.name",
                "LEFT JOIN clients g ON g.tenant_id = o.tenant_id AND g.id = o.client_id"
            )
            .fetch_all(&mut *tx)
            .await?
        }
        Some(GroupBy::Technician) => {
            figures!(
                q.from,
                q.to,
                "o.assignee_id",
                "g.display_name",
                "LEFT JOIN users g ON g.tenant_id = o.tenant_id AND g.id = o.assignee_id"
            )
            .fetch_all(&mut *tx)
            .await?
        }
    };
    let totals = figures!(q.from, q.to, "NULL::uuid", "NULL::text", "", "")
        .fetch_one(&mut *tx)
        .await?;
    let trend = over_outcomes!(
        DayFigures,
        q.from,
        q.to,
        r#"SELECT (o.sla_started_at AT TIME ZONE 'UTC')::date AS "date!",
                  count(*) FILTER (WHERE o.r_met) AS "response_met!",
                  count(*) FILTER (WHERE o.r_breached) AS "response_breached!",
                  count(*) FILTER (WHERE o.s_met) AS "resolution_met!",
                  count(*) FILTER (WHERE o.s_breached) AS "resolution_breached!"
             FROM o GROUP BY 1 ORDER BY 1"#
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(ComplianceReport {
        from: q.from,
        to: q.to,
        group_by: q.group_by,
        totals: totals.into(),
        groups: groups.into_iter().map(Into::into).collect(),
        trend,
    })
}
