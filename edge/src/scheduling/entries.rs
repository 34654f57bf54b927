//! `/v1/schedule-entries` and `/v1/schedule-occurrences`: the dispatch calendar over HTTP. The
//! rules live in `psa_store::scheduling`; these handlers only read the request and answer.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath, ApiQuery, IdempotencyKey};
use crate::web::json::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use psa_store::scheduling::entries::{self, EntryInput, EntryPatch};
use psa_store::scheduling::occurrences::{self, OccurrencePage, RangeQuery, Scope};
use psa_store::scheduling::rows::Entry;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// RFC 3339; occurrences ending after it are listed.
    pub from: DateTime<Utc>,
    /// RFC 3339; occurrences starting before it are listed. At most 366 days after `from`.
    pub to: DateTime<Utc>,
    /// Only this user's occurrences.
    pub assignee: Option<Uuid>,
    /// 1 to 200; default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(max_length = 200)]
    pub cursor: Option<String>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ScopeParams {
    /// `this` (default), `following` or `all`.
    pub scope: Option<Scope>,
}

/// A change of one occurrence, of it and the following ones, or of all of them.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OccurrencePatch {
    /// `this` (default), `following` or `all`.
    #[serde(default)]
    pub scope: Scope,
    #[serde(flatten)]
    pub patch: EntryPatch,
}

const IDEMPOTENCY: &str = "Makes the create safe to retry: a request with a key already used answers as the first did (422 when the key was used for a different request).";

/// Books an appointment or a series. An occurrence that overlaps another of the same assignee
/// is refused with 409 listing the overlaps, unless `on_conflict` is `allow`. A technician
/// books only entries they are assigned to.
#[utoipa::path(post, path = "/v1/schedule-entries", operation_id = "createScheduleEntry", tag = "scheduling", request_body = EntryInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, description = IDEMPOTENCY)),
    responses((status = 201, body = Entry), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn create(
    State(s): State<AppState>,
    Caller(p): Caller,
    IdempotencyKey(key): IdempotencyKey,
    ApiJson(input): ApiJson<EntryInput>,
) -> Result<(StatusCode, Json<Entry>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(entries::create(&s.pool, &p, key.as_deref(), input).await?),
    ))
}

/// The occurrences overlapping `[from, to)`, computed from the stored series, in order of
/// start; each has a stable ID for editing it.
#[utoipa::path(get, path = "/v1/schedule-entries", operation_id = "listScheduleOccurrences", tag = "scheduling",
    params(RangeParams), responses((status = 200, body = OccurrencePage), (status = 400, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Json<OccurrencePage>, ApiError> {
    let query = RangeQuery {
        from: q.from,
        to: q.to,
        assignee: q.assignee,
        limit: q.limit,
        cursor: q.cursor,
    };
    Ok(Json(occurrences::list(&s.pool, &p, query).await?))
}

/// The stored entry: a series' master, or a single appointment.
#[utoipa::path(get, path = "/v1/schedule-entries/{id}", operation_id = "getScheduleEntry", tag = "scheduling",
    responses((status = 200, body = Entry), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Entry>, ApiError> {
    Ok(Json(entries::get(&s.pool, &p, id).await?))
}

/// Changes every occurrence of the entry.
#[utoipa::path(patch, path = "/v1/schedule-entries/{id}", operation_id = "updateScheduleEntry", tag = "scheduling", request_body = EntryPatch,
    responses((status = 200, body = Entry), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(patch): ApiJson<EntryPatch>,
) -> Result<Json<Entry>, ApiError> {
    Ok(Json(entries::update(&s.pool, &p, id, patch).await?))
}

/// Deletes the entry and every occurrence.
#[utoipa::path(delete, path = "/v1/schedule-entries/{id}", operation_id = "deleteScheduleEntry", tag = "scheduling",
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<StatusCode, ApiError> {
    entries::delete(&s.pool, &p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Edits one occurrence (`this`: it leaves its series as an entry of its own), it and the
/// following ones (`following`: the series is cut there and a new one starts), or all. Answers
/// the entry that holds the edited occurrence afterwards.
#[utoipa::path(patch, path = "/v1/schedule-occurrences/{id}", operation_id = "updateScheduleOccurrence", tag = "scheduling",
    params(("id" = String, Path, description = "An occurrence ID from the range query.")),
    request_body = OccurrencePatch,
    responses((status = 200, body = Entry), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
pub async fn update_occurrence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<OccurrencePatch>,
) -> Result<Json<Entry>, ApiError> {
    Ok(Json(
        occurrences::edit(&s.pool, &p, &id, body.scope, body.patch).await?,
    ))
}

/// Deletes one occurrence, it and the following ones, or the whole series.
#[utoipa::path(delete, path = "/v1/schedule-occurrences/{id}", operation_id = "deleteScheduleOccurrence", tag = "scheduling",
    params(("id" = String, Path, description = "An occurrence ID from the range query."), ScopeParams),
    responses((status = 204), (status = 404, body = Problem)))]
pub async fn delete_occurrence(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ScopeParams>,
) -> Result<StatusCode, ApiError> {
    occurrences::delete(&s.pool, &p, &id, q.scope.unwrap_or_default()).await?;
    Ok(StatusCode::NO_CONTENT)
}
