//! `psa.v1.SchedulingService`: the schedule preview, schedule entries and their occurrences
//! over gRPC. Every RPC fills the input type its HTTP handler reads and calls the same
//! `psa_store::scheduling` function, so both transports share rules, roles and errors. What
//! JSON says with `null` (clear a field, no reminders) is said with `clear` and
//! `no_reminders`.

use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use crate::web::grpc_convert::{id, instant, nullable, opt_id, ts};
use psa_domain::recurrence::preview::PreviewRequest;
use psa_protos::v1 as pb;
use psa_protos::v1::scheduling_service_server::SchedulingService;
use psa_store::scheduling::conflicts::OnConflict;
use psa_store::scheduling::entries::{self, EntryInput, EntryPatch};
use psa_store::scheduling::occurrences::{self, OccurrenceView, RangeQuery, Scope};
use psa_store::scheduling::preview;
use psa_store::scheduling::rows::Entry;
use tonic::{Request, Response, Status};

pub struct SchedulingApi {
    state: AppState,
}

impl SchedulingApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn principal<T>(&self, req: &Request<T>) -> Result<Principal, ApiError> {
        crate::web::grpc::principal(&self.state, req).await
    }
}

type Reply<T> = Result<Response<T>, Status>;

const CLEARABLE: [&str; 4] = ["ticket_id", "rrule", "exdates", "reminder_minutes"];

fn on_conflict(value: &str) -> Result<OnConflict, ApiError> {
    match value {
        "" | "refuse" => Ok(OnConflict::Refuse),
        "allow" => Ok(OnConflict::Allow),
        _ => Err(ApiError::invalid("on_conflict", "must be refuse or allow")),
    }
}

fn scope(value: &str) -> Result<Scope, ApiError> {
    match value {
        "" | "this" => Ok(Scope::This),
        "following" => Ok(Scope::Following),
        "all" => Ok(Scope::All),
        _ => Err(ApiError::invalid("scope", "must be this, following or all")),
    }
}

fn ids(field: &str, values: &[String]) -> Result<Vec<uuid::Uuid>, ApiError> {
    values.iter().map(|v| id(field, v)).collect()
}

fn patch(p: Option<pb::ScheduleEntryPatch>) -> Result<EntryPatch, ApiError> {
    let p = p.unwrap_or_default();
    if let Some(c) = p.clear.iter().find(|c| !CLEARABLE.contains(&c.as_str())) {
        return Err(ApiError::invalid(
            "clear",
            format!("`{c}` is not one of {}", CLEARABLE.join(", ")),
        ));
    }
    let cleared = |f: &str| p.clear.iter().any(|c| c == f);
    let exdates = match (p.exdates.is_empty(), cleared("exdates")) {
        (false, true) => return Err(ApiError::invalid("exdates", "is both set and cleared")),
        (false, false) => Some(p.exdates.clone()),
        (true, true) => Some(Vec::new()),
        (true, false) => None,
    };
    Ok(EntryPatch {
        title: p.title,
        ticket_id: nullable(
            "ticket_id",
            opt_id("ticket_id", p.ticket_id.as_deref())?,
            &p.clear,
        )?,
        assignees: (!p.assignees.is_empty())
            .then(|| ids("assignees", &p.assignees))
            .transpose()?,
        start: p.start,
        timezone: p.timezone,
        duration_minutes: p.duration_minutes,
        rrule: nullable("rrule", p.rrule, &p.clear)?,
        exdates,
        reminder_minutes: nullable("reminder_minutes", p.reminder_minutes, &p.clear)?,
        on_conflict: on_conflict(&p.on_conflict)?,
    })
}

fn entry(e: Entry) -> pb::ScheduleEntry {
    pb::ScheduleEntry {
        id: e.id.to_string(),
        title: e.title,
        ticket_id: e.ticket_id.map(|t| t.to_string()),
        assignees: e.assignees.iter().map(ToString::to_string).collect(),
        start: e.start,
        timezone: e.timezone,
        duration_minutes: e.duration_minutes,
        rrule: e.rrule,
        exdates: e.exdates,
        reminder_minutes: e.reminder_minutes,
        first_start: Some(ts(e.first_start)),
        last_end: e.last_end.map(ts),
        split_from: e.split_from.map(|s| s.to_string()),
        split_at: e.split_at,
        overlaps_json: e.overlaps.to_string(),
        created_at: Some(ts(e.created_at)),
        updated_at: Some(ts(e.updated_at)),
    }
}

fn occurrence(o: OccurrenceView) -> pb::Occurrence {
    pb::Occurrence {
        id: o.id,
        entry_id: o.entry_id.to_string(),
        title: o.title,
        ticket_id: o.ticket_id.map(|t| t.to_string()),
        assignees: o.assignees.iter().map(ToString::to_string).collect(),
        start: Some(ts(o.start)),
        end: Some(ts(o.end)),
        local_start: o.local_start,
        timezone: o.timezone,
        recurring: o.recurring,
        reminder_minutes: o.reminder_minutes,
    }
}

#[tonic::async_trait]
impl SchedulingService for SchedulingApi {
    async fn preview_schedule(
        &self,
        req: Request<pb::PreviewScheduleRequest>,
    ) -> Reply<pb::PreviewScheduleResponse> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let request = PreviewRequest {
            start: r.start,
            timezone: r.timezone,
            duration_minutes: r.duration_minutes,
            rrule: r.rrule,
            exdates: Some(r.exdates),
            from: r.from,
            to: r.to,
            limit: r.limit,
        };
        let answer = preview::preview(&p, request)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::PreviewScheduleResponse {
            occurrences: answer
                .occurrences
                .into_iter()
                .map(|o| pb::PreviewOccurrence {
                    start: Some(ts(o.start)),
                    end: Some(ts(o.end)),
                    local_start: o.local_start,
                })
                .collect(),
            truncated: answer.truncated,
        }))
    }

    async fn create_schedule_entry(
        &self,
        req: Request<pb::CreateScheduleEntryRequest>,
    ) -> Reply<pb::ScheduleEntry> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        if r.no_reminders && r.reminder_minutes.is_some() {
            return Err(
                ApiError::invalid("no_reminders", "is set together with reminder_minutes").into(),
            );
        }
        let input = EntryInput {
            title: r.title,
            ticket_id: opt_id("ticket_id", r.ticket_id.as_deref())?,
            assignees: ids("assignees", &r.assignees)?,
            start: r.start,
            timezone: r.timezone,
            duration_minutes: r.duration_minutes,
            rrule: r.rrule,
            exdates: r.exdates,
            reminder_minutes: if r.no_reminders {
                Some(None)
            } else {
                r.reminder_minutes.map(Some)
            },
            on_conflict: on_conflict(&r.on_conflict)?,
        };
        let e = entries::create(&self.state.pool, &p, None, input)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(entry(e)))
    }

    async fn get_schedule_entry(
        &self,
        req: Request<pb::ScheduleEntryIdRequest>,
    ) -> Reply<pb::ScheduleEntry> {
        let p = self.principal(&req).await?;
        let which = crate::web::grpc_convert::target(&req.get_ref().id)?;
        let e = entries::get(&self.state.pool, &p, which)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(entry(e)))
    }

    async fn update_schedule_entry(
        &self,
        req: Request<pb::UpdateScheduleEntryRequest>,
    ) -> Reply<pb::ScheduleEntry> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = crate::web::grpc_convert::target(&r.id)?;
        let e = entries::update(&self.state.pool, &p, which, patch(r.patch)?)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(entry(e)))
    }

    async fn delete_schedule_entry(
        &self,
        req: Request<pb::ScheduleEntryIdRequest>,
    ) -> Reply<pb::ScheduleEntryDeleted> {
        let p = self.principal(&req).await?;
        let which = crate::web::grpc_convert::target(&req.get_ref().id)?;
        entries::delete(&self.state.pool, &p, which)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ScheduleEntryDeleted {}))
    }

    async fn list_occurrences(
        &self,
        req: Request<pb::ListOccurrencesRequest>,
    ) -> Reply<pb::OccurrenceList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let query = RangeQuery {
            from: instant("from", r.from)?,
            to: instant("to", r.to)?,
            assignee: opt_id("assignee", r.assignee.as_deref())?,
            limit: r.limit.filter(|n| *n != 0),
            cursor: r.cursor,
        };
        let page = occurrences::list(&self.state.pool, &p, query)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::OccurrenceList {
            items: page.items.into_iter().map(occurrence).collect(),
            next_cursor: page.next_cursor,
        }))
    }

    async fn update_occurrence(
        &self,
        req: Request<pb::UpdateOccurrenceRequest>,
    ) -> Reply<pb::ScheduleEntry> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let e = occurrences::edit(
            &self.state.pool,
            &p,
            &r.occurrence_id,
            scope(&r.scope)?,
            patch(r.patch)?,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(Response::new(entry(e)))
    }

    async fn delete_occurrence(
        &self,
        req: Request<pb::DeleteOccurrenceRequest>,
    ) -> Reply<pb::ScheduleEntryDeleted> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        occurrences::delete(&self.state.pool, &p, &r.occurrence_id, scope(&r.scope)?)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::ScheduleEntryDeleted {}))
    }
}
