//! `psa.v1.AutomationService`: drafts, published versions and the switch over gRPC (the runs
//! and settings in `runs_grpc`). Every RPC calls the `psa_store::automations` function its
//! HTTP handler calls, with the definition converted to its canonical JSON first
//! (`definition_pb`), so both transports share rules, roles and errors.

use super::definition_pb::{from_json, from_struct, json_to_struct, to_json, to_value};
use super::runs_grpc;
use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use crate::web::grpc_convert::{target, ts};
use psa_protos::v1 as pb;
use psa_protos::v1::automation_service_server::AutomationService;
use psa_store::automations::drafts::{self, Automation, AutomationInput, AutomationPatch};
use psa_store::automations::versions::{self, PublishInput, Version};
use psa_store::pagination::PageRequest;
use tonic::{Request, Response, Status};

pub struct AutomationApi {
    state: AppState,
}

impl AutomationApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn principal<T>(&self, req: &Request<T>) -> Result<Principal, ApiError> {
        crate::web::grpc::principal(&self.state, req).await
    }
}

type Reply<T> = Result<Response<T>, Status>;

fn automation(a: Automation) -> pb::Automation {
    pb::Automation {
        id: a.id.to_string(),
        name: a.name,
        draft: Some(json_to_struct(&a.draft)),
        latest_version: a.latest_version,
        enabled: a.enabled,
        created_at: Some(ts(a.created_at)),
        updated_at: Some(ts(a.updated_at)),
    }
}

fn version(v: Version) -> pb::AutomationVersion {
    pb::AutomationVersion {
        id: v.id.to_string(),
        automation_id: v.automation_id.to_string(),
        version: v.version,
        definition: Some(from_json(&v.definition)),
        published_at: Some(ts(v.published_at)),
        published_by: v.published_by.map(|u| u.to_string()),
        rolled_back_from: v.rolled_back_from,
    }
}

fn page(limit: u32, cursor: &str) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::parse(
        (limit != 0).then_some(limit),
        Some(cursor),
    )?)
}

#[tonic::async_trait]
impl AutomationService for AutomationApi {
    async fn create_automation(
        &self,
        req: Request<pb::CreateAutomationRequest>,
    ) -> Reply<pb::Automation> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = AutomationInput {
            name: r.name,
            draft: r.draft.as_ref().map(from_struct),
        };
        let a = drafts::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(automation(a)))
    }

    async fn get_automation(&self, req: Request<pb::AutomationIdRequest>) -> Reply<pb::Automation> {
        let p = self.principal(&req).await?;
        let id = target(&req.get_ref().id)?;
        let a = drafts::get(&self.state.pool, &p, id)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(automation(a)))
    }

    async fn list_automations(
        &self,
        req: Request<pb::ListAutomationsRequest>,
    ) -> Reply<pb::AutomationList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let out = drafts::list(&self.state.pool, &p, page(r.limit, &r.cursor)?)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(pb::AutomationList {
            items: out.items.into_iter().map(automation).collect(),
            next_cursor: out.next_cursor,
        }))
    }

    async fn update_automation(
        &self,
        req: Request<pb::UpdateAutomationRequest>,
    ) -> Reply<pb::Automation> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let patch = AutomationPatch {
            name: r.name,
            draft: r.draft.as_ref().map(from_struct),
        };
        let a = drafts::update(&self.state.pool, &p, target(&r.id)?, patch)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(automation(a)))
    }

    async fn publish_automation(
        &self,
        req: Request<pb::PublishAutomationRequest>,
    ) -> Reply<pb::AutomationVersion> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = PublishInput {
            definition: r.definition.as_ref().map(to_json),
        };
        let v = versions::publish(&self.state.pool, &p, target(&r.id)?, input)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(version(v)))
    }

    async fn list_automation_versions(
        &self,
        req: Request<pb::ListAutomationVersionsRequest>,
    ) -> Reply<pb::AutomationVersionList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let out = versions::list(
            &self.state.pool,
            &p,
            target(&r.id)?,
            page(r.limit, &r.cursor)?,
        )
        .await
        .map_err(ApiError::from)?;
        Ok(Response::new(pb::AutomationVersionList {
            items: out.items.into_iter().map(version).collect(),
            next_cursor: out.next_cursor,
        }))
    }

    async fn get_automation_version(
        &self,
        req: Request<pb::AutomationVersionIdRequest>,
    ) -> Reply<pb::AutomationVersion> {
        let p = self.principal(&req).await?;
        let v = versions::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(version(v)))
    }

    async fn diff_automation_versions(
        &self,
        req: Request<pb::DiffAutomationVersionsRequest>,
    ) -> Reply<pb::AutomationVersionDiff> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let d = versions::diff(&self.state.pool, &p, target(&r.id)?, r.from, r.to)
            .await
            .map_err(ApiError::from)?;
        let changes = match to_value(&d.changes).kind {
            Some(prost_types::value::Kind::ListValue(list)) => list,
            _ => prost_types::ListValue::default(),
        };
        Ok(Response::new(pb::AutomationVersionDiff {
            from: d.from,
            to: d.to,
            changes: Some(changes),
        }))
    }

    async fn enable_automation(
        &self,
        req: Request<pb::AutomationIdRequest>,
    ) -> Reply<pb::Automation> {
        let p = self.principal(&req).await?;
        let a = drafts::set_enabled(&self.state.pool, &p, target(&req.get_ref().id)?, true)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(automation(a)))
    }

    async fn disable_automation(
        &self,
        req: Request<pb::AutomationIdRequest>,
    ) -> Reply<pb::Automation> {
        let p = self.principal(&req).await?;
        let a = drafts::set_enabled(&self.state.pool, &p, target(&req.get_ref().id)?, false)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(automation(a)))
    }

    async fn roll_back_automation(
        &self,
        req: Request<pb::AutomationVersionIdRequest>,
    ) -> Reply<pb::AutomationVersion> {
        let p = self.principal(&req).await?;
        let v = versions::rollback(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        Ok(Response::new(version(v)))
    }

    async fn start_automation_run(
        &self,
        req: Request<pb::StartAutomationRunRequest>,
    ) -> Reply<pb::AutomationRun> {
        let p = self.principal(&req).await?;
        Ok(Response::new(
            runs_grpc::start(&self.state, &p, req.into_inner()).await?,
        ))
    }

    async fn list_automation_runs(
        &self,
        req: Request<pb::ListAutomationRunsRequest>,
    ) -> Reply<pb::AutomationRunList> {
        let p = self.principal(&req).await?;
        Ok(Response::new(
            runs_grpc::list(&self.state, &p, req.into_inner()).await?,
        ))
    }

    async fn get_automation_run(
        &self,
        req: Request<pb::AutomationRunIdRequest>,
    ) -> Reply<pb::AutomationRunDetail> {
        let p = self.principal(&req).await?;
        Ok(Response::new(
            runs_grpc::get(&self.state, &p, req.into_inner()).await?,
        ))
    }

    async fn cancel_automation_run(
        &self,
        req: Request<pb::AutomationRunIdRequest>,
    ) -> Reply<pb::AutomationRun> {
        let p = self.principal(&req).await?;
        Ok(Response::new(
            runs_grpc::cancel(&self.state, &p, req.into_inner()).await?,
        ))
    }

    async fn retry_automation_run(
        &self,
        req: Request<pb::RetryAutomationRunRequest>,
    ) -> Reply<pb::AutomationRun> {
        let p = self.principal(&req).await?;
        Ok(Response::new(
            runs_grpc::retry(&self.state, &p, req.into_inner()).await?,
        ))
    }

    async fn get_automation_settings(
        &self,
        req: Request<pb::GetAutomationSettingsRequest>,
    ) -> Reply<pb::AutomationSettings> {
        let p = self.principal(&req).await?;
        Ok(Response::new(
            runs_grpc::get_settings(&self.state, &p).await?,
        ))
    }

    async fn update_automation_settings(
        &self,
        req: Request<pb::UpdateAutomationSettingsRequest>,
    ) -> Reply<pb::AutomationSettings> {
        let p = self.principal(&req).await?;
        Ok(Response::new(
            runs_grpc::update_settings(&self.state, &p, req.into_inner()).await?,
        ))
    }
}
