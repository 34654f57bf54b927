//! The run and settings RPCs of `psa.v1.AutomationService`, each calling what its HTTP handler
//! calls (`runs_http`, `settings_http`), so both transports share rules, roles and errors. The
//! run's JSON members (trace, variables, result) travel as protobuf JSON values.

use super::definition_pb::{from_struct, json_to_struct, to_value};
use super::run_control;
use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use crate::web::grpc_convert::{target, ts};
use prost_types::value::Kind;
use psa_protos::v1 as pb;
use psa_store::automations::runs::{self, RunDetail, RunRequest, RunSummary};
use psa_store::automations::settings::{self, AutomationSettings, AutomationSettingsPatch};
use psa_store::pagination::PageRequest;

fn run(r: RunSummary) -> pb::AutomationRun {
    pb::AutomationRun {
        id: r.id.to_string(),
        automation_id: r.automation_id.to_string(),
        version: r.version,
        workflow_id: r.workflow_id,
        status: r.status,
        current_step: r.current_step,
        started_at: Some(ts(r.started_at)),
        updated_at: Some(ts(r.updated_at)),
        ended_at: r.ended_at.map(ts),
    }
}

fn detail(d: RunDetail) -> pb::AutomationRunDetail {
    let trace = match to_value(&serde_json::Value::Array(d.trace)).kind {
        Some(Kind::ListValue(list)) => list,
        _ => prost_types::ListValue::default(),
    };
    pb::AutomationRunDetail {
        run: Some(run(d.summary)),
        trigger_event: Some(json_to_struct(&d.trigger_event)),
        waiting: d.waiting.as_ref().map(json_to_struct),
        vars: Some(json_to_struct(&d.vars)),
        result: d.result.as_ref().map(to_value),
        error: d.error.as_ref().map(json_to_struct),
        steps_executed: d.steps_executed,
        trace: Some(trace),
    }
}

fn settings_pb(s: AutomationSettings) -> pb::AutomationSettings {
    pb::AutomationSettings {
        http_allowed_networks: s.http_allowed_networks,
    }
}

pub(super) async fn start(
    s: &AppState,
    p: &Principal,
    r: pb::StartAutomationRunRequest,
) -> Result<pb::AutomationRun, ApiError> {
    let req = RunRequest {
        input: r.input.as_ref().map(from_struct),
    };
    let out = runs::request(
        &s.pool,
        p,
        r.idempotency_key.as_deref(),
        target(&r.id)?,
        req,
    )
    .await?;
    Ok(run(out))
}

pub(super) async fn list(
    s: &AppState,
    p: &Principal,
    r: pb::ListAutomationRunsRequest,
) -> Result<pb::AutomationRunList, ApiError> {
    let page = PageRequest::parse((r.limit != 0).then_some(r.limit), Some(&r.cursor))?;
    let out = runs::list(&s.pool, p, target(&r.id)?, page).await?;
    Ok(pb::AutomationRunList {
        items: out.items.into_iter().map(run).collect(),
        next_cursor: out.next_cursor,
    })
}

pub(super) async fn get(
    s: &AppState,
    p: &Principal,
    r: pb::AutomationRunIdRequest,
) -> Result<pb::AutomationRunDetail, ApiError> {
    Ok(detail(runs::get(&s.pool, p, target(&r.id)?).await?))
}

pub(super) async fn cancel(
    s: &AppState,
    p: &Principal,
    r: pb::AutomationRunIdRequest,
) -> Result<pb::AutomationRun, ApiError> {
    Ok(run(run_control::cancel(s, p, target(&r.id)?).await?))
}

pub(super) async fn retry(
    s: &AppState,
    p: &Principal,
    r: pb::RetryAutomationRunRequest,
) -> Result<pb::AutomationRun, ApiError> {
    let out = runs::retry(&s.pool, p, r.idempotency_key.as_deref(), target(&r.id)?).await?;
    Ok(run(out))
}

pub(super) async fn get_settings(
    s: &AppState,
    p: &Principal,
) -> Result<pb::AutomationSettings, ApiError> {
    Ok(settings_pb(settings::get(&s.pool, p).await?))
}

pub(super) async fn update_settings(
    s: &AppState,
    p: &Principal,
    r: pb::UpdateAutomationSettingsRequest,
) -> Result<pb::AutomationSettings, ApiError> {
    let patch = AutomationSettingsPatch {
        http_allowed_networks: r.http_allowed_networks.map(|n| n.networks),
    };
    Ok(settings_pb(settings::update(&s.pool, p, patch).await?))
}
