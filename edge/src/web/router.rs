//! The HTTP+JSON API's routes, with the layers every `/v1` request passes (limits, timeout,
//! load shedding) and the probes beside them.

use crate::automations::http as automations;
use crate::automations::runs_http as automation_runs;
use crate::automations::settings_http as automation_settings;
use crate::billing;
use crate::clients::http as clients;
use crate::metrics;
use crate::notifications::{
    http as notifications, settings_http as notification_settings, templates_http as templates,
};
use crate::reference::http as reference;
use crate::scheduling::{entries as schedule_entries, http as scheduling};
use crate::sla::{config_http as sla_config, http as sla};
use crate::state::AppState;
use crate::tickets::http as tickets;
use crate::web::error::ApiError;
use crate::web::extract::LARGE_BODY_LIMIT;
use crate::web::{health, openapi};
use axum::Router;
use axum::error_handling::HandleErrorLayer;
use axum::extract::DefaultBodyLimit;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post, put};
use tower::limit::GlobalConcurrencyLimitLayer;
use tower::{BoxError, ServiceBuilder};
use tower_http::trace::TraceLayer;

pub fn router(state: AppState) -> Router {
    let limit = state.config.body_limit;
    let limits = state.config.limits.clone();
    let v1 = Router::new()
        .route(
            "/clients",
            post(clients::create_client).get(clients::list_clients),
        )
        .route(
            "/clients/{id}",
            get(clients::get_client).patch(clients::update_client),
        )
        .route(
            "/contacts",
            post(clients::create_contact).get(clients::list_contacts),
        )
        .route(
            "/contacts/{id}",
            get(clients::get_contact).patch(clients::update_contact),
        )
        .route(
            "/boards",
            post(reference::create_board).get(reference::list_boards),
        )
        .route(
            "/boards/{id}",
            get(reference::get_board).patch(reference::update_board),
        )
        .route(
            "/priorities",
            post(reference::create_priority).get(reference::list_priorities),
        )
        .route(
            "/priorities/{id}",
            get(reference::get_priority).patch(reference::update_priority),
        )
        .route(
            "/statuses",
            post(reference::create_status).get(reference::list_statuses),
        )
        .route(
            "/statuses/{id}",
            get(reference::get_status).patch(reference::update_status),
        )
        .route("/users", get(reference::list_users))
        .route("/notifications", get(notifications::list))
        .route("/notifications/{id}/read", post(notifications::mark_read))
        .route(
            "/notification-settings",
            get(notification_settings::get).patch(notification_settings::update),
        )
        .route(
            "/notification-settings/categories/{category}",
            put(notification_settings::set_category),
        )
        .route(
            "/notification-settings/subtypes/{code}",
            put(notification_settings::set_subtype),
        )
        .route(
            "/me/notification-preferences",
            get(notification_settings::preferences),
        )
        .route(
            "/me/notification-preferences/{subtype}",
            put(notification_settings::set_preference),
        )
        .route("/notification-templates", get(templates::list))
        .route(
            "/notification-templates/{subtype}",
            get(templates::get).put(templates::update),
        )
        .route(
            "/notification-templates/{subtype}/clone",
            post(templates::clone_to_tenant),
        )
        .route(
            "/notification-templates/{subtype}/preview",
            post(templates::preview),
        )
        .route("/sla/preview", post(sla::preview))
        .route("/schedules/preview", post(scheduling::preview))
        .route("/automation-actions", get(automations::actions))
        .route(
            "/automation-settings",
            get(automation_settings::get).patch(automation_settings::update),
        )
        .route(
            "/automations/dry-run",
            post(automations::dry_run).layer(DefaultBodyLimit::max(LARGE_BODY_LIMIT)),
        )
        .route(
            "/automations",
            get(automations::list).post(automations::create),
        )
        .route(
            "/automations/{id}",
            get(automations::get).patch(automations::update),
        )
        .route(
            "/automations/{id}/runs",
            get(automation_runs::list).post(automation_runs::start),
        )
        .route("/automation-runs/{id}", get(automation_runs::get))
        .route(
            "/automation-runs/{id}/cancel",
            post(automation_runs::cancel),
        )
        .route("/automation-runs/{id}/retry", post(automation_runs::retry))
        .route("/automations/{id}/enable", post(automations::enable))
        .route("/automations/{id}/disable", post(automations::disable))
        .route("/automations/{id}/diff", get(automations::diff))
        .route(
            "/automations/{id}/versions",
            get(automations::list_versions).post(automations::publish),
        )
        .route("/automation-versions/{id}", get(automations::get_version))
        .route(
            "/automation-versions/{id}/rollback",
            post(automations::rollback),
        )
        .route(
            "/schedule-entries",
            get(schedule_entries::list).post(schedule_entries::create),
        )
        .route(
            "/schedule-entries/{id}",
            get(schedule_entries::get)
                .patch(schedule_entries::update)
                .delete(schedule_entries::delete),
        )
        .route(
            "/schedule-occurrences/{id}",
            patch(schedule_entries::update_occurrence).delete(schedule_entries::delete_occurrence),
        )
        .route(
            "/invoices/preview",
            post(billing::http::preview).layer(DefaultBodyLimit::max(LARGE_BODY_LIMIT)),
        )
        .route(
            "/clients/{id}/invoice-preview",
            post(billing::http::client_preview),
        )
        .route(
            "/services",
            post(billing::services::create).get(billing::services::list),
        )
        .route(
            "/services/{id}",
            get(billing::services::get).patch(billing::services::update),
        )
        .route(
            "/contracts",
            post(billing::contracts::create).get(billing::contracts::list),
        )
        .route(
            "/contracts/{id}",
            get(billing::contracts::get).patch(billing::contracts::update),
        )
        .route(
            "/contracts/{id}/lines",
            post(billing::contracts::create_line).get(billing::contracts::list_lines),
        )
        .route(
            "/contract-lines/{id}",
            get(billing::contracts::get_line).patch(billing::contracts::update_line),
        )
        .route(
            "/client-contracts",
            post(billing::contracts::create_assignment).get(billing::contracts::list_assignments),
        )
        .route(
            "/client-contracts/{id}",
            get(billing::contracts::get_assignment).patch(billing::contracts::update_assignment),
        )
        .route(
            "/tax-regions",
            post(billing::tax::create).get(billing::tax::list),
        )
        .route(
            "/tax-regions/{id}",
            get(billing::tax::get).patch(billing::tax::update),
        )
        .route(
            "/clients/{id}/tax-settings",
            get(billing::tax::get_settings).put(billing::tax::put_settings),
        )
        .route(
            "/credits",
            post(billing::credits::create).get(billing::credits::list),
        )
        .route(
            "/credits/{id}",
            get(billing::credits::get).patch(billing::credits::update),
        )
        .route(
            "/usage",
            post(billing::usage::record).get(billing::usage::list),
        )
        .route("/usage/{id}", get(billing::usage::get))
        .route(
            "/invoices",
            post(billing::invoices::create).get(billing::invoices::list),
        )
        .route(
            "/invoices/{id}",
            get(billing::invoices::get).patch(billing::invoices::update),
        )
        .route("/invoices/{id}/finalize", post(billing::invoices::finalize))
        .route("/invoices/{id}/void", post(billing::invoices::void))
        .route(
            "/payments",
            post(billing::payments::create).get(billing::payments::list),
        )
        .route("/payments/{id}", get(billing::payments::get))
        .route("/payments/{id}/refunds", post(billing::payments::refund))
        .route(
            "/credits/{id}/refunds",
            post(billing::payments::refund_credit),
        )
        .route("/clients/{id}/adjustments", post(billing::payments::adjust))
        .route("/clients/{id}/balance", get(billing::payments::balance))
        .route("/ledger", get(billing::payments::list_ledger))
        .route(
            "/ledger/reconciliation",
            get(billing::payments::reconciliation),
        )
        .route(
            "/invoice-runs",
            post(billing::runs::start).get(billing::runs::list),
        )
        .route("/invoice-runs/{id}", get(billing::runs::get))
        .route(
            "/invoice-settings",
            get(billing::invoices::get_settings).patch(billing::invoices::update_settings),
        )
        .route(
            "/time-entries",
            post(billing::time::create_time_entry).get(billing::time::list_time_entries),
        )
        .route(
            "/time-entries/{id}",
            get(billing::time::get_time_entry)
                .patch(billing::time::update_time_entry)
                .delete(billing::time::delete_time_entry),
        )
        .route(
            "/timesheets",
            post(billing::time::create_timesheet).get(billing::time::list_timesheets),
        )
        .route("/timesheets/{id}", get(billing::time::get_timesheet))
        .route(
            "/timesheets/{id}/submit",
            post(billing::time::submit_timesheet),
        )
        .route(
            "/timesheets/{id}/approve",
            post(billing::time::approve_timesheet),
        )
        .route(
            "/timesheets/{id}/reject",
            post(billing::time::reject_timesheet),
        )
        .route(
            "/timesheets/{id}/reopen",
            post(billing::time::reopen_timesheet),
        )
        .route("/sla/compliance", get(sla::compliance))
        .route(
            "/sla/schedules",
            get(sla_config::list_schedules).post(sla_config::create_schedule),
        )
        .route(
            "/sla/schedules/{id}",
            get(sla_config::get_schedule)
                .put(sla_config::replace_schedule)
                .delete(sla_config::delete_schedule),
        )
        .route(
            "/sla/holidays",
            get(sla_config::list_holidays).post(sla_config::add_holiday),
        )
        .route("/sla/holidays/{id}", delete(sla_config::delete_holiday))
        .route(
            "/sla/policies",
            get(sla_config::list_policies).post(sla_config::create_policy),
        )
        .route(
            "/sla/policies/{id}",
            get(sla_config::get_policy)
                .put(sla_config::replace_policy)
                .delete(sla_config::delete_policy),
        )
        .route(
            "/sla/settings",
            get(sla_config::settings).put(sla_config::set_settings),
        )
        .route("/sla/itil-setup", post(sla_config::itil_setup))
        .route("/clients/{id}/sla", put(sla_config::assign_client))
        .route(
            "/boards/{id}/sla",
            get(sla_config::board_sla).put(sla_config::set_board_sla),
        )
        .route("/tickets", post(tickets::create).get(tickets::list))
        .route("/tickets/{id}", get(tickets::get).patch(tickets::update))
        .route("/tickets/{id}/status", post(tickets::change_status))
        .route("/tickets/{id}/assign", post(tickets::assign))
        .route("/tickets/{id}/close", post(tickets::close))
        .route("/tickets/{id}/sla", get(sla::ticket_sla))
        .route("/tickets/{id}/sla/audit", get(sla::ticket_audit))
        .route(
            "/tickets/{id}/comments",
            post(tickets::add_comment).get(tickets::list_comments),
        );
    // The API answers within its limits; the probes and metrics stay outside them, so an edge
    // at its in-flight cap still reports itself alive rather than being restarted for it.
    let v1 = v1.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(overloaded))
            .load_shed()
            .layer(GlobalConcurrencyLimitLayer::new(limits.max_in_flight))
            .timeout(limits.timeout),
    );
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(openapi::document))
        .nest("/v1", v1)
        .fallback(|| async { ApiError::NotFound })
        .layer(axum::middleware::from_fn(refuse_nul_in_uri))
        .layer(axum::middleware::from_fn(metrics::track))
        // Every body is read through an extractor, so axum's limit is the one that applies; its
        // rejection becomes a problem+json 413 in `extract.rs`.
        .layer(DefaultBodyLimit::max(limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// The answer when the edge sheds a request (too many in flight) or gives up on it (past the
/// request timeout): 503 with `Retry-After`, as problem+json like every other error.
async fn overloaded(err: BoxError) -> Response {
    if err.is::<tower::timeout::error::Elapsed>() {
        ApiError::Busy("the request timed out").into_response()
    } else if err.is::<tower::load_shed::error::Overloaded>() {
        ApiError::Busy("too many requests in flight").into_response()
    } else {
        ApiError::Internal(anyhow::anyhow!(err)).into_response()
    }
}

/// A NUL (`%00`) in a path segment or query parameter is never valid and Postgres cannot store
/// it: refused here once, for every route, before any extractor decodes it.
async fn refuse_nul_in_uri(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let has_nul = |s: &str| s.contains("%00");
    if has_nul(uri.path()) || uri.query().is_some_and(has_nul) {
        let field = if has_nul(uri.path()) { "path" } else { "query" };
        return ApiError::bad_request(
            format!("the {field} {}", psa_domain::validation::NUL_MESSAGE),
            Some(field),
        )
        .into_response();
    }
    next.run(req).await
}
