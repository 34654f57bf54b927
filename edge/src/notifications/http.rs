//! `/v1/notifications`: the caller's in-app notifications.

use crate::state::AppState;
use crate::web::auth::Caller;
use crate::web::error::{ApiError, Problem};
use crate::web::extract::{ApiPath, ApiQuery};
use crate::web::json::Json;
use axum::extract::State;
use psa_store::notifications::{self as svc, Notification, NotificationQuery};
use psa_store::pagination::Page;
use uuid::Uuid;

#[utoipa::path(get, path = "/v1/notifications", operation_id = "listNotifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = Page<Notification>), (status = 403, body = Problem)))]
pub async fn list(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Json<Page<Notification>>, ApiError> {
    Ok(Json(svc::list(&s.pool, &p, q).await?))
}

#[utoipa::path(post, path = "/v1/notifications/{id}/read", operation_id = "markNotificationRead", tag = "notifications",
    responses((status = 200, body = Notification), (status = 404, body = Problem)))]
pub async fn mark_read(
    State(s): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Json<Notification>, ApiError> {
    Ok(Json(svc::mark_read(&s.pool, &p, id).await?))
}
