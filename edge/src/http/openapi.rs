//! The OpenAPI document served at `/openapi.json`, generated from the handlers' annotations so
//! it cannot drift from the code.

use super::{
    clients, notification_settings, notifications, reference, sla, sla_config, templates, tickets,
};
use crate::error::{Problem, ProblemField};
use axum::Json;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "PSA Orchestrator edge API", version = "1"),
    paths(
        sla::preview, sla::ticket_sla, sla::ticket_audit, sla::compliance,
        sla_config::list_schedules, sla_config::create_schedule, sla_config::get_schedule,
        sla_config::replace_schedule, sla_config::delete_schedule, sla_config::list_holidays,
        sla_config::add_holiday, sla_config::delete_holiday, sla_config::list_policies,
        sla_config::create_policy, sla_config::get_policy, sla_config::replace_policy,
        sla_config::delete_policy, sla_config::settings, sla_config::set_settings,
        sla_config::itil_setup, sla_config::assign_client, sla_config::board_sla,
        sla_config::set_board_sla,
        tickets::create, tickets::list, tickets::get, tickets::update, tickets::change_status,
        tickets::assign, tickets::close, tickets::add_comment, tickets::list_comments,
        clients::create_client, clients::list_clients, clients::get_client, clients::update_client,
        clients::create_contact, clients::list_contacts, clients::get_contact, clients::update_contact,
        reference::create_board, reference::list_boards, reference::get_board, reference::update_board,
        reference::create_priority, reference::list_priorities, reference::get_priority, reference::update_priority,
        reference::create_status, reference::list_statuses, reference::get_status, reference::update_status,
        reference::list_users,
        notifications::list, notifications::mark_read,
        notification_settings::get, notification_settings::update, notification_settings::set_category,
        notification_settings::set_subtype, notification_settings::preferences, notification_settings::set_preference,
        templates::list, templates::get, templates::clone_to_tenant, templates::update, templates::preview,
    ),
    components(schemas(Problem, ProblemField, tickets::StatusChange, tickets::Assignment, tickets::CloseRequest)),
    modifiers(&BearerAuth),
    security(("api_key" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
