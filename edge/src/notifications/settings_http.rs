//! `/v1/notification-settings` and `/v1/me/notification-preferences`.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiJson, ApiPath};
use crate::web::json::Json;
use axum::extract::State;
use psa_store::notifications::settings::{
    self as svc, Preference, PreferenceInput, Settings, SettingsPatch, Switch,
};

#[utoipa::path(get, path = "/v1/notification-settings", operation_id = "getNotificationSettings", tag = "notifications", responses((status = 200, body = Settings)))]
pub async fn get(State(s): State<AppState>, Caller(p): Caller) -> Result<Json<Settings>, ApiError> {
    Ok(Json(svc::get(&s.pool, &p).await?))
}

#[utoipa::path(patch, path = "/v1/notification-settings", operation_id = "updateNotificationSettings", tag = "notifications", request_body = SettingsPatch,
    responses((status = 200, body = Settings), (status = 422, body = Problem)))]
pub async fn update(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiJson(patch): ApiJson<SettingsPatch>,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(svc::update(&s.pool, &p, patch).await?))
}

#[utoipa::path(put, path = "/v1/notification-settings/categories/{category}", operation_id = "setNotificationCategory", tag = "notifications", request_body = Switch,
    responses((status = 200, body = Settings), (status = 404, body = Problem)))]
pub async fn set_category(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(category): ApiPath<String>,
    ApiJson(body): ApiJson<Switch>,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(
        svc::set_category(&s.pool, &p, &category, body.enabled).await?,
    ))
}

#[utoipa::path(put, path = "/v1/notification-settings/subtypes/{code}", operation_id = "setNotificationSubtype", tag = "notifications", request_body = Switch,
    responses((status = 200, body = Settings), (status = 404, body = Problem)))]
pub async fn set_subtype(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<Switch>,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(
        svc::set_subtype(&s.pool, &p, &code, body.enabled).await?,
    ))
}

#[utoipa::path(get, path = "/v1/me/notification-preferences", operation_id = "listNotificationPreferences", tag = "notifications", responses((status = 200, body = Vec<Preference>)))]
pub async fn preferences(
    State(s): State<AppState>,
    Caller(p): Caller,
) -> Result<Json<Vec<Preference>>, ApiError> {
    Ok(Json(svc::preferences(&s.pool, &p).await?))
}

#[utoipa::path(put, path = "/v1/me/notification-preferences/{subtype}", operation_id = "setNotificationPreference", tag = "notifications", request_body = PreferenceInput,
    responses((status = 200, body = Vec<Preference>), (status = 404, body = Problem)))]
pub async fn set_preference(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(subtype): ApiPath<String>,
    ApiJson(body): ApiJson<PreferenceInput>,
) -> Result<Json<Vec<Preference>>, ApiError> {
    Ok(Json(
        svc::set_preference(&s.pool, &p, &subtype, body).await?,
    ))
}
