//! SLA policies (targets per priority, escalation percentages, notification thresholds), their
//! assignment to clients and boards, board managers and escalation managers, the tenant's SLA
//! settings, and the one-call ITIL standard setup.
//!
//! A policy is read and written as one document: its targets and thresholds are replaced with
//! it. Every change re-reads the policy of the tenant's open tickets.

use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use psa_domain::auth::Permission;
use psa_domain::calendar::Weekday;
use psa_domain::ids::new_id;
use psa_domain::notifications::Channel;
use psa_domain::sla::{
    DEFAULT_ESCALATION_PERCENTS, MAX_THRESHOLD, Percent, default_threshold_rules, limits,
};
use psa_domain::validation::{ValidationErrors, optional_text, text};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

fn default_escalations() -> Vec<i64> {
    DEFAULT_ESCALATION_PERCENTS.map(i64::from).to_vec()
}

fn yes() -> bool {
    true
}

/// An SLA policy to create or replace: business-minute targets per priority, warning
/// thresholds, and the escalation levels reached past a breach.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "Gold", "description": "Business hours, fast response",
    "schedule_id": null, "is_default": false, "escalation_percents": [125, 150, 200],
    "targets": [{"priority_id": "0190d9a0-7283-7e95-96b7-b1c2d3e4f506",
        "response_minutes": 30, "resolution_minutes": 240, "is_24x7": false}],
    "thresholds": [{"percent": 75, "notify_assignee": true, "channels": ["email", "in_app"]}]}))]
pub struct PolicyInput {
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// `null`: the tenant's default schedule.
    pub schedule_id: Option<Uuid>,
    /// The policy of tickets whose client and board name none.
    #[serde(default)]
    pub is_default: bool,
    /// Percent of a phase's target at which escalation levels 1, 2 and 3 are reached.
    #[serde(default = "default_escalations")]
    #[schema(min_items = 3, max_items = 3, default = json!([125, 150, 200]))]
    pub escalation_percents: Vec<i64>,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub targets: Vec<TargetInput>,
    /// Absent: 50/75/90 warn the assignee, 100 (breach) also the board manager.
    #[schema(max_items = 100)]
    pub thresholds: Option<Vec<ThresholdInput>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetInput {
    pub priority_id: Uuid,
    /// Business minutes, 0 to 527,040 (366 days); `null`: no response target for this
    /// priority.
    #[schema(minimum = 0, maximum = 527040)]
    pub response_minutes: Option<i32>,
    /// Business minutes, 0 to 527,040 (366 days); `null`: no resolution target for this
    /// priority.
    #[schema(minimum = 0, maximum = 527040)]
    pub resolution_minutes: Option<i32>,
    /// Count every minute for this priority, whatever the schedule.
    #[serde(default)]
    pub is_24x7: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdInput {
    /// Percent of the phase's target; 100 is the breach.
    #[schema(minimum = 1, maximum = 1000)]
    pub percent: i32,
    #[serde(default = "yes")]
    pub notify_assignee: bool,
    #[serde(default)]
    pub notify_board_manager: bool,
    #[serde(default)]
    pub notify_escalation_managers: bool,
    /// `email`, `in_app`; absent: both.
    #[serde(default = "both_channels")]
    #[schema(default = json!(["email", "in_app"]))]
    pub channels: Vec<String>,
}

fn both_channels() -> Vec<String> {
    Channel::ALL.map(String::from).to_vec()
}

/// An SLA policy: what a ticket's clock counts against.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(example = json!({"id": "0190d9a0-94a5-70b7-b8d9-d3e4f5061728", "name": "ITIL standard",
    "description": null, "schedule_id": "0190d9a0-a5b6-71c8-89ea-e4f506172839",
    "is_default": true, "escalation_percents": [125, 150, 200],
    "targets": [{"priority_id": "0190d9a0-7283-7e95-96b7-b1c2d3e4f506",
        "response_minutes": 15, "resolution_minutes": 60, "is_24x7": true}],
    "thresholds": [{"percent": 50, "notify_assignee": true, "notify_board_manager": false,
        "notify_escalation_managers": false, "channels": ["email", "in_app"]}]}))]
pub struct Policy {
    pub id: Uuid,
    pub name: String,
    pub description: Option<String>,
    pub schedule_id: Option<Uuid>,
    pub is_default: bool,
    pub escalation_percents: Vec<i32>,
    pub targets: Vec<TargetInput>,
    pub thresholds: Vec<ThresholdInput>,
}

/// Most targets, or thresholds, one policy lists (one target per priority; a handful of
/// thresholds): a bound on the checks below and on the rows one write replaces.
const MAX_LIST: usize = 100;

fn validate(input: &PolicyInput) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    text(&mut e, "name", &input.name, 200);
    optional_text(&mut e, "description", input.description.as_deref(), 2000);
    let esc = &input.escalation_percents;
    if esc.len() != 3 {
        e.push(
            "escalation_percents",
            "must list three percentages (levels 1, 2 and 3)",
        );
    } else if esc.iter().any(|p| Percent::try_from(*p).is_err())
        || !(esc[0] < esc[1] && esc[1] < esc[2])
    {
        e.push(
            "escalation_percents",
            format!("must rise strictly, each between 1 and {MAX_THRESHOLD}"),
        );
    }
    for (field, count) in [
        ("targets", input.targets.len()),
        ("thresholds", input.thresholds.as_ref().map_or(0, Vec::len)),
    ] {
        if count > MAX_LIST {
            e.push(field, format!("must list at most {MAX_LIST} entries"));
        }
    }
    for (i, t) in input.targets.iter().enumerate().take(MAX_LIST) {
        for (part, m) in [
            ("response_minutes", t.response_minutes),
            ("resolution_minutes", t.resolution_minutes),
        ] {
            if let Some(m) = m {
                limits::check_target(&mut e, &format!("targets[{i}].{part}"), m.into());
            }
        }
        if input.targets[..i]
            .iter()
            .any(|o| o.priority_id == t.priority_id)
        {
            e.push(&format!("targets[{i}].priority_id"), "has a target already");
        }
    }
    for (i, t) in input.thresholds.iter().flatten().enumerate().take(MAX_LIST) {
        if Percent::try_from(t.percent).is_err() {
            e.push(
                &format!("thresholds[{i}].percent"),
                format!("must be between 1 and {MAX_THRESHOLD}"),
            );
        }
        if input
            .thresholds
            .iter()
            .flatten()
            .take(i)
            .any(|o| o.percent == t.percent)
        {
            e.push(&format!("thresholds[{i}].percent"), "is listed twice");
        }
        if t.channels.iter().any(|c| c.parse::<Channel>().is_err()) {
            e.push(
                &format!("thresholds[{i}].channels"),
                "may hold only `email` and `in_app`",
            );
        }
    }
    e.into_result()
}

async fn read(conn: &mut PgConnection, id: Uuid) -> Result<Policy, StoreError> {
    let row = sqlx::query!(
        r#"SELECT id, name, description, schedule_id, is_default,
                  ARRAY[escalation_1_percent, escalation_2_percent, escalation_3_percent]
                      AS "escalation_percents!"
             FROM sla_policies WHERE id = $1"#,
        id
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let targets = sqlx::query_as!(
        TargetInput,
        "SELECT priority_id, response_minutes, resolution_minutes, is_24x7 FROM sla_policy_targets
          WHERE policy_id = $1 ORDER BY priority_id",
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    let thresholds = sqlx::query_as!(
        ThresholdInput,
        "SELECT percent, notify_assignee, notify_board_manager, notify_escalation_managers, channels
           FROM sla_notification_thresholds WHERE policy_id = $1 ORDER BY percent",
        id
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Policy {
        id: row.id,
        name: row.name,
        description: row.description,
        schedule_id: row.schedule_id,
        is_default: row.is_default,
        escalation_percents: row.escalation_percents,
        targets,
        thresholds,
    })
}

/// The three escalation percentages as their columns hold them. [`validate`] has checked
/// them; anything else is refused here rather than stored as some other number.
fn escalation_columns(percents: &[i64]) -> Result<[i32; 3], StoreError> {
    let invalid = || {
        StoreError::invalid(
            "escalation_percents",
            format!("must rise strictly, each between 1 and {MAX_THRESHOLD}"),
        )
    };
    let typed = percents
        .iter()
        .map(|p| Percent::try_from(*p).map(i32::from))
        .collect::<Result<Vec<i32>, _>>()
        .map_err(|_| invalid())?;
    <[i32; 3]>::try_from(typed).map_err(|_| invalid())
}

/// Writes the policy row's fields and replaces its targets and thresholds.
async fn write(
    conn: &mut PgConnection,
    p: &Principal,
    id: Uuid,
    input: &PolicyInput,
    create: bool,
) -> Result<(), StoreError> {
    if input.is_default {
        crate::rows::DefaultTable::SlaPolicies
            .take(conn, id)
            .await?;
    }
    let [esc1, esc2, esc3] = escalation_columns(&input.escalation_percents)?;
    let name = input.name.trim();
    let written = if create {
        sqlx::query!(
            "INSERT INTO sla_policies (tenant_id, id, name, description, schedule_id, is_default,
                                       escalation_1_percent, escalation_2_percent, escalation_3_percent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            p.tenant_id,
            id,
            name,
            input.description,
            input.schedule_id,
            input.is_default,
            esc1,
            esc2,
            esc3
        )
        .execute(&mut *conn)
        .await?
    } else {
        sqlx::query!(
            "UPDATE sla_policies SET name = $3, description = $4, schedule_id = $5, is_default = $6,
                    escalation_1_percent = $7, escalation_2_percent = $8, escalation_3_percent = $9,
                    updated_at = now()
              WHERE tenant_id = $1 AND id = $2",
            p.tenant_id,
            id,
            name,
            input.description,
            input.schedule_id,
            input.is_default,
            esc1,
            esc2,
            esc3
        )
        .execute(&mut *conn)
        .await?
    };
    if written.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    sqlx::query!("DELETE FROM sla_policy_targets WHERE policy_id = $1", id)
        .execute(&mut *conn)
        .await?;
    sqlx::query!(
        "DELETE FROM sla_notification_thresholds WHERE policy_id = $1",
        id
    )
    .execute(&mut *conn)
    .await?;
    for t in &input.targets {
        sqlx::query!(
            "INSERT INTO sla_policy_targets (tenant_id, policy_id, priority_id, response_minutes, resolution_minutes, is_24x7)
             VALUES ($1, $2, $3, $4, $5, $6)",
            p.tenant_id,
            id,
            t.priority_id,
            t.response_minutes,
            t.resolution_minutes,
            t.is_24x7
        )
        .execute(&mut *conn)
        .await?;
    }
    let thresholds: Vec<ThresholdInput> = match &input.thresholds {
        Some(t) => t.clone(),
        None => default_threshold_rules()
            .into_iter()
            .map(|r| ThresholdInput {
                percent: i32::from(r.percent),
                notify_assignee: r.notify_assignee,
                notify_board_manager: r.notify_board_manager,
                notify_escalation_managers: r.notify_escalation_managers,
                channels: r.channels.into_iter().map(String::from).collect(),
            })
            .collect(),
    };
    for t in thresholds {
        sqlx::query!(
            "INSERT INTO sla_notification_thresholds
                 (tenant_id, policy_id, percent, notify_assignee, notify_board_manager, notify_escalation_managers, channels)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            p.tenant_id,
            id,
            t.percent,
            t.notify_assignee,
            t.notify_board_manager,
            t.notify_escalation_managers,
            &t.channels
        )
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn list(pool: &PgPool, p: &Principal) -> Result<Vec<Policy>, StoreError> {
    let ids = async |conn: &mut PgConnection| {
        sqlx::query_scalar!("SELECT id FROM sla_policies ORDER BY name")
            .fetch_all(conn)
            .await
    };
    crate::sla::read_each(pool, p, ids, read).await
}

pub async fn get(pool: &PgPool, p: &Principal, id: Uuid) -> Result<Policy, StoreError> {
    crate::sla::read_one(pool, p, id, read).await
}

pub async fn create(
    pool: &PgPool,
    p: &Principal,
    input: PolicyInput,
) -> Result<Policy, StoreError> {
    crate::sla::configure(pool, p, validate(&input), async |tx| {
        let id = new_id();
        write(tx, p, id, &input, true).await?;
        read(tx, id).await
    })
    .await
}

pub async fn replace(
    pool: &PgPool,
    p: &Principal,
    id: Uuid,
    input: PolicyInput,
) -> Result<Policy, StoreError> {
    crate::sla::configure(pool, p, validate(&input), async |tx| {
        write(tx, p, id, &input, false).await?;
        read(tx, id).await
    })
    .await
}

pub async fn delete(pool: &PgPool, p: &Principal, id: Uuid) -> Result<(), StoreError> {
    crate::sla::configure(pool, p, Ok(()), async |tx| {
        let used = sqlx::query_scalar!(
            r#"SELECT EXISTS (SELECT 1 FROM clients WHERE sla_policy_id = $1)
                   OR EXISTS (SELECT 1 FROM boards WHERE sla_policy_id = $1) AS "used!""#,
            id
        )
        .fetch_one(&mut *tx)
        .await?;
        if used {
            return Err(StoreError::InUse(
                "clients or boards use this policy; assign them another first".into(),
            ));
        }
        // Tickets keep their SLA history; only the reference to the policy goes.
        sqlx::query!(
            "UPDATE tickets SET sla_policy_id = NULL WHERE sla_policy_id = $1",
            id
        )
        .execute(&mut *tx)
        .await?;
        let deleted = sqlx::query!("DELETE FROM sla_policies WHERE id = $1", id)
            .execute(&mut *tx)
            .await?;
        crate::sla::deleted_one(deleted)
    })
    .await
}

/// A client's or board's policy (`null`: fall back to the board's, then the tenant default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyAssignment {
    pub policy_id: Option<Uuid>,
}

pub async fn assign_client(
    pool: &PgPool,
    p: &Principal,
    client: Uuid,
    a: PolicyAssignment,
) -> Result<PolicyAssignment, StoreError> {
    crate::sla::configure(pool, p, Ok(()), async |tx| {
        let n = sqlx::query!(
            "UPDATE clients SET sla_policy_id = $2 WHERE id = $1",
            client,
            a.policy_id
        )
        .execute(&mut *tx)
        .await
        .map_err(policy_reference)?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(a)
    })
    .await
}

/// A board's SLA settings: its policy, its manager and its escalation managers per level.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BoardSla {
    pub policy_id: Option<Uuid>,
    pub manager_id: Option<Uuid>,
    #[serde(default)]
    pub escalation_managers: Vec<EscalationManager>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationManager {
    /// 1, 2 or 3.
    #[schema(minimum = 1, maximum = 3)]
    pub level: i16,
    pub user_id: Uuid,
}

fn policy_reference(e: sqlx::Error) -> StoreError {
    match StoreError::from(e) {
        StoreError::Invalid(_) => {
            StoreError::invalid("policy_id", "does not refer to an existing policy")
        }
        other => other,
    }
}

async fn read_board(conn: &mut PgConnection, board: Uuid) -> Result<BoardSla, StoreError> {
    let row = sqlx::query!(
        "SELECT sla_policy_id, manager_id FROM boards WHERE id = $1",
        board
    )
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(StoreError::NotFound)?;
    let escalation_managers = sqlx::query_as!(
        EscalationManager,
        "SELECT level, user_id FROM board_escalation_managers WHERE board_id = $1 ORDER BY level, user_id",
        board
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(BoardSla {
        policy_id: row.sla_policy_id,
        manager_id: row.manager_id,
        escalation_managers,
    })
}

pub async fn board_sla(pool: &PgPool, p: &Principal, board: Uuid) -> Result<BoardSla, StoreError> {
    crate::sla::read_one(pool, p, board, read_board).await
}

pub async fn set_board_sla(
    pool: &PgPool,
    p: &Principal,
    board: Uuid,
    input: BoardSla,
) -> Result<BoardSla, StoreError> {
    let mut e = ValidationErrors::default();
    for (i, m) in input.escalation_managers.iter().enumerate() {
        if !(1..=3).contains(&m.level) {
            e.push(
                &format!("escalation_managers[{i}].level"),
                "must be 1, 2 or 3",
            );
        }
    }
    crate::sla::configure(pool, p, e.into_result(), async |tx| {
        let n = sqlx::query!(
            "UPDATE boards SET sla_policy_id = $2, manager_id = $3 WHERE id = $1",
            board,
            input.policy_id,
            input.manager_id
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        sqlx::query!(
            "DELETE FROM board_escalation_managers WHERE board_id = $1",
            board
        )
        .execute(&mut *tx)
        .await?;
        for m in &input.escalation_managers {
            sqlx::query!(
                "INSERT INTO board_escalation_managers (tenant_id, board_id, level, user_id)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                p.tenant_id,
                board,
                m.level,
                m.user_id
            )
            .execute(&mut *tx)
            .await?;
        }
        read_board(tx, board).await
    })
    .await
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SlaSettings {
    /// Stop the clock while a ticket waits on the client (`awaiting_client`).
    pub pause_while_awaiting_client: bool,
}

pub async fn settings(pool: &PgPool, p: &Principal) -> Result<SlaSettings, StoreError> {
    p.require(Permission::ReadSla)?;
    let mut tx = tenant::begin(pool, p).await?;
    let s = sqlx::query_as!(
        SlaSettings,
        "SELECT pause_while_awaiting_client FROM tenant_sla_settings"
    )
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(s.unwrap_or_default())
}

pub async fn set_settings(
    pool: &PgPool,
    p: &Principal,
    s: SlaSettings,
) -> Result<SlaSettings, StoreError> {
    crate::sla::configure(pool, p, Ok(()), async |tx| {
        sqlx::query!(
            "INSERT INTO tenant_sla_settings (tenant_id, pause_while_awaiting_client) VALUES ($1, $2)
             ON CONFLICT (tenant_id) DO UPDATE SET pause_while_awaiting_client = EXCLUDED.pause_while_awaiting_client",
            p.tenant_id,
            s.pause_while_awaiting_client
        )
        .execute(&mut *tx)
        .await?;
        Ok(s)
    })
    .await
}

/// The ITIL standard: (name, response minutes, resolution minutes, around the clock).
pub const ITIL_TARGETS: [(&str, i32, i32, bool); 5] = [
    ("P1", 15, 60, true),
    ("P2", 30, 240, false),
    ("P3", 60, 1440, false),
    ("P4", 240, 4320, false),
    ("P5", 480, 10080, false),
];

/// The ITIL standard's working days, Monday to Friday (its hours are 08:00-18:00).
const ITIL_WEEKDAYS: [Weekday; 5] = [
    Weekday::MONDAY,
    Weekday::TUESDAY,
    Weekday::WEDNESDAY,
    Weekday::THURSDAY,
    Weekday::FRIDAY,
];

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ItilSetup {
    /// IANA zone of the Mon-Fri 08:00-18:00 hours; default `UTC`.
    #[schema(max_length = 64)]
    pub timezone: Option<String>,
}

/// One call to a working SLA: priorities P1..P5 (those missing are added), Mon-Fri
/// 08:00-18:00 hours (the default schedule unless the tenant has one) and the policy "ITIL
/// standard" (the default policy unless the tenant has one). Calling it again changes nothing.
pub async fn itil_setup(
    pool: &PgPool,
    p: &Principal,
    input: ItilSetup,
) -> Result<Policy, StoreError> {
    p.require(Permission::ManageSla)?;
    let timezone = input.timezone.unwrap_or_else(|| "UTC".into());
    let zone_only = psa_domain::calendar::ScheduleSpec {
        timezone: timezone.clone(),
        is_24x7: true,
        hours: vec![],
        holidays: vec![],
    };
    crate::check(psa_domain::calendar::Calendar::new(&zone_only, "").map(|_| ()))?;
    let mut tx = tenant::begin(pool, p).await?;
    if let Some(existing) =
        sqlx::query_scalar!("SELECT id FROM sla_policies WHERE lower(name) = 'itil standard'")
            .fetch_optional(&mut *tx)
            .await?
    {
        let policy = read(&mut tx, existing).await?;
        tx.commit().await?;
        return Ok(policy);
    }
    let mut targets = Vec::new();
    // Ranks count from 1 (P1 first).
    for (rank, (name, response, resolution, around_the_clock)) in (1i32..).zip(ITIL_TARGETS.iter())
    {
        let found = sqlx::query_scalar!(
            "SELECT id FROM priorities WHERE lower(name) = lower($1)",
            name
        )
        .fetch_optional(&mut *tx)
        .await?;
        let id = match found {
            Some(id) => id,
            None => {
                let id = new_id();
                sqlx::query!(
                    "INSERT INTO priorities (tenant_id, id, name, rank) VALUES ($1, $2, $3, $4)",
                    p.tenant_id,
                    id,
                    name,
                    rank
                )
                .execute(&mut *tx)
                .await?;
                id
            }
        };
        targets.push(TargetInput {
            priority_id: id,
            response_minutes: Some(*response),
            resolution_minutes: Some(*resolution),
            is_24x7: *around_the_clock,
        });
    }
    let has_default_schedule = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM business_hours_schedules WHERE is_default) AS "exists!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    let schedule = new_id();
    sqlx::query!(
        "INSERT INTO business_hours_schedules (tenant_id, id, name, timezone, is_default)
         VALUES ($1, $2, 'ITIL business hours', $3, $4)
         ON CONFLICT DO NOTHING",
        p.tenant_id,
        schedule,
        timezone,
        !has_default_schedule
    )
    .execute(&mut *tx)
    .await?;
    for weekday in ITIL_WEEKDAYS {
        sqlx::query!(
            "INSERT INTO business_hours_windows (tenant_id, schedule_id, id, weekday, start_time, end_time)
             VALUES ($1, $2, $3, $4, '08:00', '18:00')",
            p.tenant_id,
            schedule,
            new_id(),
            i16::from(weekday)
        )
        .execute(&mut *tx)
        .await?;
    }
    let has_default_policy = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM sla_policies WHERE is_default) AS "exists!""#
    )
    .fetch_one(&mut *tx)
    .await?;
    let input = PolicyInput {
        name: "ITIL standard".into(),
        description: Some(
            "ITIL priorities P1-P5; P1 around the clock, others Mon-Fri 08:00-18:00".into(),
        ),
        schedule_id: Some(schedule),
        is_default: !has_default_policy,
        escalation_percents: default_escalations(),
        targets,
        thresholds: None,
    };
    let id = new_id();
    write(&mut tx, p, id, &input, true).await?;
    let policy = read(&mut tx, id).await?;
    crate::sla::resignal_open_tickets(&mut tx, p).await?;
    tx.commit().await?;
    Ok(policy)
}
