//! `/v1/notification-templates`.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath};
use crate::web::json::Json;
use axum::extract::State;
use psa_store::notifications::templates::{self as svc, Preview, TemplateInput, TemplateView};

#[utoipa::path(get, path = "/v1/notification-templates", operation_id = "listNotificationTemplates", tag = "notifications", responses((status = 200, body = Vec<TemplateView>)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Vec<TemplateView>>, ApiError> {
    Ok(Json(svc::list(&s.pool, &p).await?))
}

#[utoipa::path(get, path = "/v1/notification-templates/{subtype}", operation_id = "getNotificationTemplate", tag = "notifications",
    responses((status = 200, body = TemplateView), (status = 404, body = Problem)))]
pub async fn get(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(subtype): ApiPath<String>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p, &subtype).await?))
}

#[utoipa::path(post, path = "/v1/notification-templates/{subtype}/clone", operation_id = "cloneNotificationTemplate", tag = "notifications",
    responses((status = 200, body = TemplateView), (status = 404, body = Problem)))]
pub async fn clone_to_tenant(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(subtype): ApiPath<String>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(svc::clone_to_tenant(&s.pool, &p, &subtype).await?))
}

#[utoipa::path(put, path = "/v1/notification-templates/{subtype}", operation_id = "replaceNotificationTemplate", tag = "notifications", request_body = TemplateInput,
    responses((status = 200, body = TemplateView), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(subtype): ApiPath<String>,
    ApiJson(input): ApiJson<TemplateInput>,
) -> Result<Json<TemplateView>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, &subtype, input).await?))
}

/// `{}` (or no body) previews the template in force; `{"template": {...}}` previews an unsaved
/// one.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewRequest {
    pub template: Option<TemplateInput>,
}

#[utoipa::path(post, path = "/v1/notification-templates/{subtype}/preview", operation_id = "previewNotificationTemplate", tag = "notifications", request_body = Option<PreviewRequest>,
    responses((status = 200, body = Preview), (status = 422, body = Problem)))]
pub async fn preview(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(subtype): ApiPath<String>,
    ApiJson(body): ApiJson<PreviewRequest>,
) -> Result<Json<Preview>, ApiError> {
    Ok(Json(
        svc::preview(&s.pool, &p, &subtype, body.template).await?,
    ))
}
