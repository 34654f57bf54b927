//! `psa.v1.SlaService`: the `/v1/sla/…` operations over gRPC, on the same `service/` functions.

use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use crate::web::grpc_convert::{opt_id, target, ts};
use chrono::{DateTime, Utc};
use prost_types::Timestamp;
use psa_domain::calendar::{HolidaySpec, ScheduleSpec, WindowSpec};
use psa_domain::sla::{PhaseView, PreviewPause, PreviewRequest, PreviewTargets};
use psa_protos::v1 as pb;
use psa_protos::v1::sla_service_server::SlaService;
use psa_store::sla as ticket_sla;
use psa_store::sla::compliance::{self as compliance, ComplianceQuery, GroupBy};
use psa_store::sla::policies::{
    self as policies, BoardSla, EscalationManager, ItilSetup, PolicyAssignment, PolicyInput,
    SlaSettings, TargetInput, ThresholdInput,
};
use psa_store::sla::schedules::{self as schedules, HolidayInput, ScheduleInput, WindowInput};
use tonic::{Request, Response, Status};

pub struct SlaApi {
    state: AppState,
}

impl SlaApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn principal<T>(&self, req: &Request<T>) -> Result<Principal, ApiError> {
        crate::web::grpc::principal(&self.state, req).await
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn ok<T>(t: T) -> Reply<T> {
    Ok(Response::new(t))
}

/// A required instant.
fn instant(field: &str, t: Option<Timestamp>) -> Result<DateTime<Utc>, ApiError> {
    let t = t.ok_or_else(|| ApiError::invalid(field, "is required"))?;
    let nanos =
        u32::try_from(t.nanos).map_err(|_| ApiError::invalid(field, "is not a valid instant"))?;
    DateTime::from_timestamp(t.seconds, nanos)
        .ok_or_else(|| ApiError::invalid(field, "is not a valid instant"))
}

fn window(w: pb::Window) -> WindowInput {
    WindowInput {
        weekday: w.weekday,
        start: w.start,
        end: w.end,
    }
}

fn pb_window(w: WindowInput) -> pb::Window {
    pb::Window {
        weekday: w.weekday,
        start: w.start,
        end: w.end,
    }
}

fn holiday_input(h: pb::HolidayInput) -> HolidayInput {
    HolidayInput {
        name: h.name,
        date: h.date,
        recurring: h.recurring,
    }
}

fn holiday(h: schedules::Holiday) -> pb::Holiday {
    pb::Holiday {
        id: h.id.to_string(),
        schedule_id: h.schedule_id.map(|s| s.to_string()),
        name: h.name,
        date: h.date.format("%Y-%m-%d").to_string(),
        recurring: h.recurring,
    }
}

fn schedule_input(s: pb::ScheduleInput) -> ScheduleInput {
    ScheduleInput {
        name: s.name,
        timezone: s.timezone,
        is_24x7: s.is_24x7,
        is_default: s.is_default,
        hours: s.hours.into_iter().map(window).collect(),
        holidays: s.holidays.into_iter().map(holiday_input).collect(),
    }
}

fn schedule(s: schedules::Schedule) -> pb::Schedule {
    pb::Schedule {
        id: s.id.to_string(),
        name: s.name,
        timezone: s.timezone,
        is_24x7: s.is_24x7,
        is_default: s.is_default,
        hours: s.hours.into_iter().map(pb_window).collect(),
        holidays: s.holidays.into_iter().map(holiday).collect(),
    }
}

fn policy_input(p: pb::PolicyInput) -> Result<PolicyInput, ApiError> {
    let targets = p
        .targets
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            Ok(TargetInput {
                priority_id: crate::web::grpc_convert::id(
                    &format!("targets[{i}].priority_id"),
                    &t.priority_id,
                )?,
                response_minutes: t.response_minutes,
                resolution_minutes: t.resolution_minutes,
                is_24x7: t.is_24x7,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let thresholds = (!p.default_thresholds).then(|| {
        p.thresholds
            .into_iter()
            .map(|t| ThresholdInput {
                percent: t.percent,
                notify_assignee: t.notify_assignee,
                notify_board_manager: t.notify_board_manager,
                notify_escalation_managers: t.notify_escalation_managers,
                channels: t.channels,
            })
            .collect()
    });
    Ok(PolicyInput {
        name: p.name,
        description: p.description,
        schedule_id: opt_id("schedule_id", p.schedule_id.as_deref())?,
        is_default: p.is_default,
        escalation_percents: if p.escalation_percents.is_empty() {
            psa_domain::sla::DEFAULT_ESCALATION_PERCENTS
                .iter()
                .map(|x| i64::from(*x))
                .collect()
        } else {
            p.escalation_percents
        },
        targets,
        thresholds,
    })
}

fn policy(p: policies::Policy) -> pb::Policy {
    pb::Policy {
        id: p.id.to_string(),
        name: p.name,
        description: p.description,
        schedule_id: p.schedule_id.map(|s| s.to_string()),
        is_default: p.is_default,
        escalation_percents: p.escalation_percents,
        targets: p
            .targets
            .into_iter()
            .map(|t| pb::Target {
                priority_id: t.priority_id.to_string(),
                response_minutes: t.response_minutes,
                resolution_minutes: t.resolution_minutes,
                is_24x7: t.is_24x7,
            })
            .collect(),
        thresholds: p
            .thresholds
            .into_iter()
            .map(|t| pb::Threshold {
                percent: t.percent,
                notify_assignee: t.notify_assignee,
                notify_board_manager: t.notify_board_manager,
                notify_escalation_managers: t.notify_escalation_managers,
                channels: t.channels,
            })
            .collect(),
    }
}

fn board_sla(board: &str, b: BoardSla) -> pb::BoardSla {
    pb::BoardSla {
        board_id: board.to_owned(),
        policy_id: b.policy_id.map(|s| s.to_string()),
        manager_id: b.manager_id.map(|s| s.to_string()),
        escalation_managers: b
            .escalation_managers
            .into_iter()
            .map(|m| pb::EscalationManager {
                level: i32::from(m.level),
                user_id: m.user_id.to_string(),
            })
            .collect(),
    }
}

fn phase(p: PhaseView) -> pb::SlaPhase {
    pb::SlaPhase {
        target_minutes: p.target_minutes,
        due_at: p.due_at.map(ts),
        elapsed_minutes: p.elapsed_minutes,
        remaining_minutes: p.remaining_minutes,
        stopped_at: p.stopped_at.map(ts),
        met: p.met,
        breached: p.breached,
    }
}

fn figures(f: compliance::PhaseFigures) -> pb::PhaseFigures {
    pb::PhaseFigures {
        met: f.met,
        breached: f.breached,
        rate: f.rate,
        average_minutes: f.average_minutes,
    }
}

fn group(g: compliance::GroupFigures) -> pb::GroupFigures {
    pb::GroupFigures {
        key: g.key.map(|k| k.to_string()),
        label: g.label,
        tickets: g.tickets,
        response: Some(figures(g.response)),
        resolution: Some(figures(g.resolution)),
        breaches: g.breaches,
        active: g.active,
        at_risk: g.at_risk,
    }
}

fn preview_phase(p: psa_domain::sla::PhasePreview) -> pb::PreviewPhase {
    pb::PreviewPhase {
        due_at: Some(ts(p.due_at)),
        thresholds: p
            .thresholds
            .into_iter()
            .map(|t| pb::PreviewThreshold {
                percent: i32::from(t.percent),
                at: Some(ts(t.at)),
            })
            .collect(),
        elapsed_minutes: p.elapsed_minutes,
        remaining_minutes: p.remaining_minutes,
    }
}

fn preview_request(r: pb::SlaPreviewRequest) -> Result<PreviewRequest, ApiError> {
    let pauses = r
        .pauses
        .into_iter()
        .enumerate()
        .map(|(i, p)| {
            Ok(PreviewPause {
                from: instant(&format!("pauses[{i}].from"), p.from)?,
                to: instant(&format!("pauses[{i}].to"), p.to)?,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(PreviewRequest {
        schedule: r.schedule.map(|s| ScheduleSpec {
            timezone: s.timezone,
            is_24x7: s.is_24x7,
            hours: s
                .hours
                .into_iter()
                .map(|w| WindowSpec {
                    weekday: w.weekday,
                    start: w.start,
                    end: w.end,
                })
                .collect(),
            holidays: s
                .holidays
                .into_iter()
                .map(|h| HolidaySpec {
                    date: h.date,
                    recurring: h.recurring,
                })
                .collect(),
        }),
        schedule_id: opt_id("schedule_id", r.schedule_id.as_deref())?,
        started_at: instant("started_at", r.started_at)?,
        targets: PreviewTargets {
            response_minutes: r.response_minutes,
            resolution_minutes: r.resolution_minutes,
        },
        thresholds: (!r.thresholds.is_empty()).then_some(r.thresholds),
        pauses,
        at: r.at.map(|t| instant("at", Some(t))).transpose()?,
    })
}

#[tonic::async_trait]
impl SlaService for SlaApi {
    async fn list_schedules(&self, req: Request<pb::SlaListRequest>) -> Reply<pb::ScheduleList> {
        let p = self.principal(&req).await?;
        let all = schedules::list(&self.state.pool, &p)
            .await
            .map_err(ApiError::from)?;
        ok(pb::ScheduleList {
            schedules: all.into_iter().map(schedule).collect(),
        })
    }

    async fn get_schedule(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::Schedule> {
        let p = self.principal(&req).await?;
        ok(schedule(
            schedules::get(&self.state.pool, &p, target(&req.get_ref().id)?)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn create_schedule(&self, req: Request<pb::ScheduleInput>) -> Reply<pb::Schedule> {
        let p = self.principal(&req).await?;
        let input = schedule_input(req.into_inner());
        ok(schedule(
            schedules::create(&self.state.pool, &p, input)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn replace_schedule(
        &self,
        req: Request<pb::ReplaceScheduleRequest>,
    ) -> Reply<pb::Schedule> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = schedule_input(
            r.schedule
                .ok_or_else(|| ApiError::invalid("schedule", "is required"))?,
        );
        ok(schedule(
            schedules::replace(&self.state.pool, &p, target(&r.id)?, input)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn delete_schedule(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::SlaDeleted> {
        let p = self.principal(&req).await?;
        schedules::delete(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::SlaDeleted {})
    }

    async fn list_holidays(&self, req: Request<pb::SlaListRequest>) -> Reply<pb::HolidayList> {
        let p = self.principal(&req).await?;
        let all = schedules::list_holidays(&self.state.pool, &p)
            .await
            .map_err(ApiError::from)?;
        ok(pb::HolidayList {
            holidays: all.into_iter().map(holiday).collect(),
        })
    }

    async fn add_holiday(&self, req: Request<pb::HolidayInput>) -> Reply<pb::Holiday> {
        let p = self.principal(&req).await?;
        let input = holiday_input(req.into_inner());
        ok(holiday(
            schedules::add_holiday(&self.state.pool, &p, input)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn delete_holiday(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::SlaDeleted> {
        let p = self.principal(&req).await?;
        schedules::delete_holiday(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::SlaDeleted {})
    }

    async fn list_policies(&self, req: Request<pb::SlaListRequest>) -> Reply<pb::PolicyList> {
        let p = self.principal(&req).await?;
        let all = policies::list(&self.state.pool, &p)
            .await
            .map_err(ApiError::from)?;
        ok(pb::PolicyList {
            policies: all.into_iter().map(policy).collect(),
        })
    }

    async fn get_policy(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::Policy> {
        let p = self.principal(&req).await?;
        ok(policy(
            policies::get(&self.state.pool, &p, target(&req.get_ref().id)?)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn create_policy(&self, req: Request<pb::PolicyInput>) -> Reply<pb::Policy> {
        let p = self.principal(&req).await?;
        let input = policy_input(req.into_inner())?;
        ok(policy(
            policies::create(&self.state.pool, &p, input)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn replace_policy(&self, req: Request<pb::ReplacePolicyRequest>) -> Reply<pb::Policy> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = policy_input(
            r.policy
                .ok_or_else(|| ApiError::invalid("policy", "is required"))?,
        )?;
        ok(policy(
            policies::replace(&self.state.pool, &p, target(&r.id)?, input)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn delete_policy(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::SlaDeleted> {
        let p = self.principal(&req).await?;
        policies::delete(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::SlaDeleted {})
    }

    async fn get_settings(&self, req: Request<pb::SlaListRequest>) -> Reply<pb::SlaSettings> {
        let p = self.principal(&req).await?;
        let s = policies::settings(&self.state.pool, &p)
            .await
            .map_err(ApiError::from)?;
        ok(pb::SlaSettings {
            pause_while_awaiting_client: s.pause_while_awaiting_client,
        })
    }

    async fn set_settings(&self, req: Request<pb::SlaSettings>) -> Reply<pb::SlaSettings> {
        let p = self.principal(&req).await?;
        let input = SlaSettings {
            pause_while_awaiting_client: req.get_ref().pause_while_awaiting_client,
        };
        let s = policies::set_settings(&self.state.pool, &p, input)
            .await
            .map_err(ApiError::from)?;
        ok(pb::SlaSettings {
            pause_while_awaiting_client: s.pause_while_awaiting_client,
        })
    }

    async fn itil_setup(&self, req: Request<pb::ItilSetupRequest>) -> Reply<pb::Policy> {
        let p = self.principal(&req).await?;
        let input = ItilSetup {
            timezone: req.into_inner().timezone,
        };
        ok(policy(
            policies::itil_setup(&self.state.pool, &p, input)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn assign_client_policy(
        &self,
        req: Request<pb::ClientPolicy>,
    ) -> Reply<pb::ClientPolicy> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = PolicyAssignment {
            policy_id: opt_id("policy_id", r.policy_id.as_deref())?,
        };
        let a = policies::assign_client(&self.state.pool, &p, target(&r.client_id)?, input)
            .await
            .map_err(ApiError::from)?;
        ok(pb::ClientPolicy {
            client_id: r.client_id,
            policy_id: a.policy_id.map(|s| s.to_string()),
        })
    }

    async fn get_board_sla(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::BoardSla> {
        let p = self.principal(&req).await?;
        let id = req.into_inner().id;
        ok(board_sla(
            &id,
            policies::board_sla(&self.state.pool, &p, target(&id)?)
                .await
                .map_err(ApiError::from)?,
        ))
    }

    async fn set_board_sla(&self, req: Request<pb::BoardSla>) -> Reply<pb::BoardSla> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let escalation_managers = r
            .escalation_managers
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                Ok(EscalationManager {
                    // Out of i16's range is out of 1..=3 too: refused here, naming the field,
                    // rather than turned into a level the store then refuses.
                    level: i16::try_from(m.level).map_err(|_| {
                        ApiError::invalid(
                            &format!("escalation_managers[{i}].level"),
                            "must be 1, 2 or 3",
                        )
                    })?,
                    user_id: crate::web::grpc_convert::id(
                        &format!("escalation_managers[{i}].user_id"),
                        &m.user_id,
                    )?,
                })
            })
            .collect::<Result<_, ApiError>>()?;
        let input = BoardSla {
            policy_id: opt_id("policy_id", r.policy_id.as_deref())?,
            manager_id: opt_id("manager_id", r.manager_id.as_deref())?,
            escalation_managers,
        };
        let b = policies::set_board_sla(&self.state.pool, &p, target(&r.board_id)?, input)
            .await
            .map_err(ApiError::from)?;
        ok(board_sla(&r.board_id, b))
    }

    async fn get_ticket_sla(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::TicketSla> {
        let p = self.principal(&req).await?;
        let t = crate::sla::live::ticket_sla(&self.state, &p, target(&req.get_ref().id)?).await?;
        let mut out = pb::TicketSla {
            ticket_id: t.ticket_id.to_string(),
            source: t.source.to_owned(),
            clock: t.clock.to_owned(),
            configuration_error: t.configuration_error,
            ..Default::default()
        };
        if let Some(v) = t.sla {
            out.policy_id = v.policy_id.map(|s| s.to_string());
            out.started_at = Some(ts(v.started_at));
            out.state = v.state.as_str().to_owned();
            out.paused = v.paused;
            out.paused_since = v.paused_since.map(ts);
            out.paused_minutes = v.paused_minutes;
            out.escalation_level = i32::from(v.escalation_level);
            out.response = Some(phase(v.response));
            out.resolution = Some(phase(v.resolution));
        }
        ok(out)
    }

    async fn list_ticket_sla_audit(&self, req: Request<pb::SlaIdRequest>) -> Reply<pb::SlaAudit> {
        let p = self.principal(&req).await?;
        let steps = ticket_sla::ticket_audit(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::SlaAudit {
            steps: steps
                .into_iter()
                .map(|s| pb::SlaAuditStep {
                    step_key: s.step_key,
                    event: s.event,
                    detail_json: s.detail.to_string(),
                    occurred_at: Some(ts(s.occurred_at)),
                    recorded_at: Some(ts(s.recorded_at)),
                })
                .collect(),
        })
    }

    async fn get_compliance(
        &self,
        req: Request<pb::ComplianceRequest>,
    ) -> Reply<pb::ComplianceReport> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let group_by = match r.group_by.as_str() {
            "" => None,
            "priority" => Some(GroupBy::Priority),
            "board" => Some(GroupBy::Board),
            "client" => Some(GroupBy::Client),
            "technician" => Some(GroupBy::Technician),
            other => {
                return Err(ApiError::invalid(
                    "group_by",
                    format!("`{other}` is not one of priority, board, client, technician"),
                )
                .into());
            }
        };
        let query = ComplianceQuery {
            from: instant("from", r.from)?,
            to: instant("to", r.to)?,
            group_by,
        };
        let report = compliance::report(&self.state.pool, &p, query)
            .await
            .map_err(ApiError::from)?;
        ok(pb::ComplianceReport {
            totals: Some(group(report.totals)),
            groups: report.groups.into_iter().map(group).collect(),
            trend: report
                .trend
                .into_iter()
                .map(|d| pb::DayFigures {
                    date: d.date.format("%Y-%m-%d").to_string(),
                    response_met: d.response_met,
                    response_breached: d.response_breached,
                    resolution_met: d.resolution_met,
                    resolution_breached: d.resolution_breached,
                })
                .collect(),
        })
    }

    async fn preview(&self, req: Request<pb::SlaPreviewRequest>) -> Reply<pb::SlaPreviewResponse> {
        let p = self.principal(&req).await?;
        let request = preview_request(req.into_inner())?;
        let answer = ticket_sla::preview(&self.state.pool, &p, &request)
            .await
            .map_err(ApiError::from)?;
        ok(pb::SlaPreviewResponse {
            response: Some(preview_phase(answer.response)),
            resolution: Some(preview_phase(answer.resolution)),
        })
    }
}
