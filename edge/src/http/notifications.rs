//! `/v1/notifications`: the caller's in-app notifications.

use super::extract::{ApiPath, ApiQuery};
use crate::auth::Principal;
use crate::error::{ApiError, Problem};
use crate::pagination::Page;
use crate::service::notifications::{self as svc, Notification, NotificationQuery};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use uuid::Uuid;

#[utoipa::path(get, path = "/v1/notifications", operation_id = "listNotifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = Page<Notification>), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    p: Principal,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<Page<Notification>>, ApiError> {
    Ok(Json(svc::list(&s.pool, &p, q).await?))
}

#[utoipa::path(post, path = "/v1/notifications/{id}/read", operation_id = "markNotificationRead", tag = "notifications",
    responses((status = 200, body = Notification), (status = 404, body = Problem)))]
pub async fn mark_read(
    State(s): State<AppState>,
    p: Principal,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Notification>, ApiError> {
    Ok(Json(svc::mark_read(&s.pool, &p, id).await?))
}
