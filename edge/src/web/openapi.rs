//! The OpenAPI document served at `/openapi.json`, generated from the handlers' annotations so
//! it cannot drift from the code.
//!
//! What every operation shares is added here once, by [`Contract`], rather than on 70
//! annotations: the path parameters named by the route template, and the error answers any
//! request can get from the layers and extractors in front of the handler (bad request, missing
//! key, wrong role, rate limit, overload, body limits). Every error is `application/problem+json`
//! with the [`Problem`] schema, as `error.rs` sends it.

pub mod billing_schemas;
pub mod scheduling_schemas;
pub mod schemas;

use crate::automations::http as automations;
use crate::automations::runs_http as automation_runs;
use crate::automations::settings_http as automation_settings;
use crate::billing::http as billing;
use crate::billing::{contracts, credits, invoices, payments, runs, services, tax, time, usage};
use crate::clients::http as clients;
use crate::notifications::{
    http as notifications, settings_http as notification_settings, templates_http as templates,
};
use crate::reference::http as reference;
use crate::scheduling::{entries as schedule_entries, http as scheduling};
use crate::sla::{config_http as sla_config, http as sla};
use crate::tickets::http as tickets;
use crate::web::error::{DefinitionProblem, Problem, ProblemError, ProblemField, ProblemPointer};
use crate::web::health;
use axum::Json;
use utoipa::OpenApi;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::{Content, HeaderBuilder, Ref, RefOr, Required, Schema};

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "PSA Orchestrator edge API",
        version = "1",
        description = "Tickets, clients, reference data, SLA configuration and clocks, billing \
            (services, contracts, tax, credits, usage, time and invoice previews), and \
            notifications of one tenant, chosen by the API key. Every error is \
            `application/problem+json` (RFC 9457) naming the fields at fault. The creates that \
            declare an `Idempotency-Key` header are safe to retry with it. Lists answer \
            `{items, next_cursor}` pages: pass `next_cursor` back as `cursor` (the three that \
            answer a bare array answer every entry at once). A request without a body is read \
            as `{}`. Instants carry at most milliseconds."
    ),
    paths(
        billing::preview, billing::client_preview,
        services::create, services::list, services::get, services::update,
        contracts::create, contracts::list, contracts::get, contracts::update,
        contracts::create_line, contracts::list_lines, contracts::get_line, contracts::update_line,
        contracts::create_assignment, contracts::list_assignments, contracts::get_assignment,
        contracts::update_assignment,
        tax::create, tax::list, tax::get, tax::update, tax::get_settings, tax::put_settings,
        credits::create, credits::list, credits::get, credits::update,
        usage::record, usage::list, usage::get,
        time::create_time_entry, time::list_time_entries, time::get_time_entry,
        time::update_time_entry, time::delete_time_entry, time::create_timesheet,
        time::list_timesheets, time::get_timesheet, time::submit_timesheet,
        time::approve_timesheet, time::reject_timesheet, time::reopen_timesheet,
        invoices::create, invoices::list, invoices::get, invoices::update, invoices::finalize,
        invoices::void, invoices::get_settings, invoices::update_settings,
        payments::create, payments::list, payments::get, payments::refund, payments::refund_credit,
        payments::adjust, payments::balance, payments::list_ledger, payments::reconciliation,
        runs::start, runs::list, runs::get,
        automations::create, automations::list, automations::get, automations::update,
        automations::enable, automations::disable, automations::publish,
        automations::list_versions, automations::get_version, automations::rollback,
        automations::diff, automations::actions, automations::dry_run,
        automation_runs::start, automation_runs::list, automation_runs::get,
        automation_runs::cancel, automation_runs::retry,
        automation_settings::get, automation_settings::update,
        scheduling::preview, schedule_entries::create, schedule_entries::list,
        schedule_entries::get, schedule_entries::update, schedule_entries::delete,
        schedule_entries::update_occurrence, schedule_entries::delete_occurrence,
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
        health::healthz, health::readyz, health::metrics, document,
    ),
    components(schemas(
        Problem, ProblemField, ProblemPointer, ProblemError, DefinitionProblem, tickets::StatusChange, tickets::Assignment, tickets::CloseRequest,
        schemas::SlaPreviewRequest, schemas::SlaPreviewResponse, schemas::TicketSla,
        scheduling_schemas::SchedulePreviewRequest, scheduling_schemas::SchedulePreviewResponse,
        billing_schemas::InvoicePreviewRequest, billing_schemas::InvoicePreview,
    )),
    modifiers(&BearerAuth, &Contract),
    security(("api_key" = []))
)]
pub struct ApiDoc;

/// The document, as served (for callers that do not depend on the generator's trait).
pub fn spec() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key: `Authorization: Bearer <key>`. The key names the tenant \
                         and the role (admin, technician, billing, client).",
                    ))
                    .build(),
            ),
        );
    }
}

/// Adds what every operation shares (see the module doc).
struct Contract;

impl utoipa::Modify for Contract {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        describe_problem(openapi);
        for (path, item) in openapi.paths.paths.iter_mut() {
            // Only the API proper needs a key; the probes, metrics and this document do not.
            let keyed = path.starts_with("/v1/");
            for op in operations_mut(item) {
                declare_path_parameters(path, op);
                add_common_responses(path, op, keyed);
                problem_bodies(op);
            }
        }
    }
}

/// `Problem` lives with the error mapping (`error.rs`); what a client reads about it is here.
fn describe_problem(openapi: &mut utoipa::openapi::OpenApi) {
    let Some(RefOr::T(Schema::Object(problem))) = openapi
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("Problem"))
    else {
        return;
    };
    problem.description = Some(
        "RFC 9457 problem details, the body of every error answer. `type` and `title` name \
         the HTTP status; `detail` says what went wrong; `errors` (absent when empty) names \
         each field at fault, by its path in the request (`targets[0].response_minutes`)."
            .to_owned(),
    );
    problem.examples = vec![serde_json::json!({
        "type": "https://psa.dev/problems/unprocessable-entity",
        "title": "Unprocessable Entity",
        "status": 422,
        "detail": "title: must not be empty",
        "errors": [{"field": "title", "message": "must not be empty"}],
    })];
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// Names in `{…}` of a route template, in order.
pub fn template_parameters(path: &str) -> Vec<&str> {
    path.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

fn declare_path_parameters(path: &str, op: &mut Operation) {
    let params = op.parameters.get_or_insert_with(Vec::new);
    for name in template_parameters(path) {
        let declared = params
            .iter()
            .any(|p| p.name == name && p.parameter_in == ParameterIn::Path);
        if !declared {
            params.push(path_parameter(name));
        }
    }
}

fn path_parameter(name: &str) -> Parameter {
    let (schema, description) = match name {
        "id" => (
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
            "The record's id. An id that is malformed or names nothing in the caller's tenant \
             is a 404.",
        ),
        "subtype" | "code" => (
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .examples(["ticket.created", "sla.warning"]),
            "A notification subtype code, e.g. `ticket.assigned`.",
        ),
        "category" => (
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .examples(["tickets", "sla"]),
            "A notification category, e.g. `tickets`.",
        ),
        _ => (ObjectBuilder::new().schema_type(Type::String), ""),
    };
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description((!description.is_empty()).then_some(description))
        .schema(Some(schema))
        .build()
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

fn problem_response(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content())
        .build()
}

/// A problem answer that says when to try again.
fn retry_response(description: &str) -> Response {
    let mut response = problem_response(description);
    response
        .headers
        .insert("Retry-After".to_owned(), retry_after());
    response
}

fn retry_after() -> utoipa::openapi::Header {
    HeaderBuilder::new()
        .schema(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(0)),
        )
        .description(Some("Seconds to wait before retrying."))
        .build()
}

fn add_common_responses(path: &str, op: &mut Operation, keyed: bool) {
    let has_body = op.request_body.is_some();
    let has_limit = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.name == "limit" && p.parameter_in == ParameterIn::Query);
    let mut common: Vec<(&str, Response)> = Vec::new();
    if keyed {
        common.push((
            "400",
            problem_response(
                "Malformed request: JSON that does not parse or has an unknown, missing or \
                 mistyped field, JSON nested too deeply, a bad query parameter or cursor, a bad \
                 `Idempotency-Key`.",
            ),
        ));
        let mut unauthorized = problem_response("Missing, unknown or revoked API key.");
        unauthorized.headers.insert(
            "WWW-Authenticate".to_owned(),
            HeaderBuilder::new()
                .schema(ObjectBuilder::new().schema_type(Type::String))
                .description(Some("`Bearer`."))
                .build(),
        );
        common.push(("401", unauthorized));
        common.push((
            "403",
            problem_response("The key's role may not do this (or not to this record)."),
        ));
        if !template_parameters(path).is_empty() {
            common.push((
                "404",
                problem_response("Nothing with this id in the caller's tenant."),
            ));
        }
        if has_body || has_limit {
            common.push((
                "422",
                problem_response(
                    "Well-formed but invalid: the `errors` name each field at fault (a value \
                     out of range, a reference to a record that does not exist).",
                ),
            ));
        }
        common.push((
            "429",
            retry_response("Too many requests for this API key; retry after `Retry-After`."),
        ));
    }
    if has_body {
        common.push((
            "413",
            problem_response("The body is larger than the edge accepts."),
        ));
        common.push((
            "415",
            problem_response("The body is not `Content-Type: application/json`."),
        ));
    }
    common.push((
        "503",
        retry_response(
            "The edge is overloaded, the request took too long, or a dependency is \
             unavailable; retry after `Retry-After`.",
        ),
    ));
    for (status, response) in common {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| RefOr::T(response));
    }
}

/// Every answer has a description, and every error is `application/problem+json`: an
/// annotation's `body = Problem` (or `DefinitionProblem`) comes out
/// as `application/json`, so it is moved (another media type, such as the readiness report, is
/// left beside it).
fn problem_bodies(op: &mut Operation) {
    for (status, response) in op.responses.responses.iter_mut() {
        let is_error = status.starts_with('4') || status.starts_with('5');
        let RefOr::T(response) = response else {
            continue;
        };
        if response.description.is_empty() {
            response.description = default_description(status).to_owned();
        }
        if !is_error {
            continue;
        }
        let json_is_problem = response
            .content
            .get("application/json")
            .and_then(|c| c.schema.as_ref())
            .is_some_and(|s| matches!(s, RefOr::Ref(r) if r.ref_location.ends_with("Problem")));
        if json_is_problem && let Some(content) = response.content.shift_remove("application/json")
        {
            response.content.insert(PROBLEM_JSON.to_owned(), content);
        }
        response
            .content
            .entry(PROBLEM_JSON.to_owned())
            .or_insert_with(problem_content);
        if status == "429" || status == "503" {
            response
                .headers
                .entry("Retry-After".to_owned())
                .or_insert_with(retry_after);
        }
    }
}

fn default_description(status: &str) -> &'static str {
    match status {
        "200" => "The record or records asked for.",
        "201" => "Created: the new record.",
        "204" => "Done; no body.",
        "404" => "Nothing with this id in the caller's tenant.",
        "409" => "Conflicts with a record that exists or depends on this one.",
        "422" => "Well-formed but invalid: the `errors` name each field at fault.",
        _ => "An error.",
    }
}

/// This document.
#[utoipa::path(get, path = "/openapi.json", operation_id = "getOpenApiDocument", tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document of this API.",
        content_type = "application/json", body = Object)))]
pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(spec())
}
