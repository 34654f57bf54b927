//! `/v1/automations`, `/v1/automation-actions` and `/v1/automations/dry-run`.

use crate::reference::http::ListQuery;
use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, DefinitionProblem, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey, LargeJson};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use psa_domain::auth::Permission;
use psa_domain::automations::catalogue::ACTIONS;
use psa_domain::automations::dry_run::Answer;
use psa_store::automations::drafts::{self as svc, Automation, AutomationInput, AutomationPatch};
use psa_store::automations::dry_run::{self, DryRunError};
use psa_store::automations::versions::{self, PublishError, PublishInput, Version, VersionDiff};
use psa_store::pagination::{Page, PageRequest};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

const IDEMPOTENCY: &str = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).";

impl From<PublishError> for ApiError {
    fn from(e: PublishError) -> Self {
        match e {
            PublishError::Store(e) => e.into(),
            PublishError::Invalid(issues) => ApiError::Pointed {
                detail: "the definition is not valid; `errors` lists every fault",
                issues,
            },
        }
    }
}

impl From<DryRunError> for ApiError {
    fn from(e: DryRunError) -> Self {
        match e {
            DryRunError::Store(e) => e.into(),
            DryRunError::Definition(issues) => ApiError::Pointed {
                detail: "the definition is not valid; `errors` lists every fault",
                issues,
            },
            DryRunError::Request(issues) => ApiError::Pointed {
                detail: "the dry run request is not valid; `errors` points into it",
                issues,
            },
        }
    }
}

/// Starts an automation: a name and a draft to edit (checked only when published).
#[utoipa::path(post, path = "/v1/automations", operation_id = "createAutomation", tag = "automations", request_body = AutomationInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, description = IDEMPOTENCY)),
    responses((status = 201, body = Automation), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<AutomationInput>,
) -> Result<(StatusCode, Json<Automation>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(svc::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

#[utoipa::path(get, path = "/v1/automations", operation_id = "listAutomations", tag = "automations",
    params(ListQuery), responses((status = 200, body = Page<Automation>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Automation>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(svc::list(&s.pool, &p, page).await?))
}

#[utoipa::path(get, path = "/v1/automations/{id}", operation_id = "getAutomation", tag = "automations",
    responses((status = 200, body = Automation), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Automation>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, id).await?))
}

/// Renames the automation or replaces its draft.
#[utoipa::path(patch, path = "/v1/automations/{id}", operation_id = "updateAutomation", tag = "automations", request_body = AutomationPatch,
    responses((status = 200, body = Automation), (status = 404, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<AutomationPatch>,
) -> Result<Json<Automation>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, id, patch).await?))
}

/// Lets new runs of the newest version start.
#[utoipa::path(post, path = "/v1/automations/{id}/enable", operation_id = "enableAutomation", tag = "automations",
    responses((status = 200, body = Automation), (status = 404, body = Problem),
        (status = 409, description = "Nothing is published yet.", body = Problem)))]
pub async fn enable(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Automation>, ApiError> {
    Ok(Json(svc::set_enabled(&s.pool, &p, id, true).await?))
}

/// Stops new runs from starting; runs under way finish on their version.
#[utoipa::path(post, path = "/v1/automations/{id}/disable", operation_id = "disableAutomation", tag = "automations",
    responses((status = 200, body = Automation), (status = 404, body = Problem)))]
pub async fn disable(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Automation>, ApiError> {
    Ok(Json(svc::set_enabled(&s.pool, &p, id, false).await?))
}

/// Validates the definition (the draft when none is sent) and stores it as the next
/// immutable version. A definition that does not validate is refused with 422 and `errors`
/// listing every fault as `{pointer, reason}`.
#[utoipa::path(post, path = "/v1/automations/{id}/versions", operation_id = "publishAutomation", tag = "automations", request_body = PublishInput,
    responses((status = 201, body = Version), (status = 404, body = Problem), (status = 422, body = DefinitionProblem)))]
pub async fn publish(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(input): ApiJson<PublishInput>,
) -> Result<(StatusCode, Json<Version>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(versions::publish(&s.pool, &p, id, input).await?),
    ))
}

/// Published versions, newest first.
#[utoipa::path(get, path = "/v1/automations/{id}/versions", operation_id = "listAutomationVersions", tag = "automations",
    params(ListQuery), responses((status = 200, body = Page<Version>), (status = 404, body = Problem)))]
pub async fn list_versions(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Page<Version>>, ApiError> {
    let page = PageRequest::parse(q.limit, q.cursor.as_deref())?;
    Ok(Json(versions::list(&s.pool, &p, id, page).await?))
}

/// One published version, by its own ID.
#[utoipa::path(get, path = "/v1/automation-versions/{id}", operation_id = "getAutomationVersion", tag = "automations",
    responses((status = 200, body = Version), (status = 404, body = Problem)))]
pub async fn get_version(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Version>, ApiError> {
    Ok(Json(versions::get(&s.pool, &p, id).await?))
}

/// Rolls back: publishes this version's definition again, as its automation's newest.
#[utoipa::path(post, path = "/v1/automation-versions/{id}/rollback", operation_id = "rollBackAutomation", tag = "automations",
    responses((status = 201, body = Version), (status = 404, body = Problem)))]
pub async fn rollback(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<(StatusCode, Json<Version>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(versions::rollback(&s.pool, &p, id).await?),
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// The older version.
    #[param(minimum = 1)]
    pub from: i32,
    /// The newer version.
    #[param(minimum = 1)]
    pub to: i32,
}

/// What changed from one version to another, as an RFC 6902 JSON Patch.
#[utoipa::path(get, path = "/v1/automations/{id}/diff", operation_id = "diffAutomationVersions", tag = "automations",
    params(DiffQuery), responses((status = 200, body = VersionDiff), (status = 404, body = Problem)))]
pub async fn diff(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> Result<Json<VersionDiff>, ApiError> {
    Ok(Json(versions::diff(&s.pool, &p, id, q.from, q.to).await?))
}

/// The action catalogue, for the editor's palette: each action's name, version, description
/// and input and output JSON Schemas.
#[utoipa::path(get, path = "/v1/automation-actions", operation_id = "listAutomationActions", tag = "automations",
    responses((status = 200, body = Vec<serde_json::Value>)))]
pub async fn actions(Caller(p): Caller) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    p.require(Permission::ReadAutomations)?;
    Ok(Json(ACTIONS.iter().map(|a| a.describe()).collect()))
}

/// Runs a definition on an event and simulated action results, with nothing real touched,
/// and answers what the run would do: status, result or error, variables, end and trace.
#[utoipa::path(post, path = "/v1/automations/dry-run", operation_id = "dryRunAutomation", tag = "automations",
    request_body = serde_json::Value,
    responses((status = 200, body = serde_json::Value), (status = 422, description = "The definition (or the request) is not valid; `errors` lists every fault as `{pointer, reason}`.", body = DefinitionProblem)))]
pub async fn dry_run(
    State(s): State<AppState>,
    Caller(p): Caller,
    LargeJson(body): LargeJson<serde_json::Value>,
) -> Result<Json<Answer>, ApiError> {
    Ok(Json(dry_run::dry_run(&s.pool, &p, body).await?))
}
