//! Automation triggers and event waits. For each event of a tenant: every enabled automation
//! whose newest version is triggered by the event's type (found through an index on the
//! trigger) has its condition evaluated, and each that holds starts
//! `automation:{tenant}:{automation}:{event}` pinned to that version; every run registered as
//! waiting for the type (the `automation_waits` index) is signalled the event, and decides
//! itself whether its `where` takes it. A manual run's or a retry's `automation.run_requested`
//! starts the run it names (a retry from the state its failed run left). Starting an
//! existing workflow ID is a no-op, so an event handled twice starts nothing new.

use crate::bus::{Handler, HandlerError};
use futures::future::BoxFuture;
use psa_domain::automations::run::{RunInput, triggered_by};
use psa_domain::automations::{Definition, validate};
use psa_domain::events::{Envelope, Event};
use psa_domain::ids::automation_run;
use psa_store::PgPool;
use psa_store::automations::runs;
use psa_workflows::automation_run::AutomationRunWorkflow;
use psa_workflows::search_attributes as sa;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use temporalio_client::errors::{WorkflowInteractionError, WorkflowStartError};
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowSignalOptions,
    WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;
use uuid::Uuid;

/// Compiled definitions kept: published versions never change, so a version is compiled once.
const MAX_CACHED: usize = 10_000;

pub struct AutomationHandler {
    pool: PgPool,
    temporal: Client,
    task_queue: String,
    compiled: Mutex<HashMap<(Uuid, u32), Arc<Definition>>>,
}

impl AutomationHandler {
    pub fn new(pool: PgPool, temporal: Client, task_queue: String) -> Self {
        Self {
            pool,
            temporal,
            task_queue,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The candidates' definitions, compiled: from the cache, the rest read and compiled once
    /// (published versions never change). A version that no longer validates triggers nothing
    /// (the publish that made it would be refused today).
    async fn compiled(
        &self,
        tenant_id: Uuid,
        candidates: &[runs::Candidate],
    ) -> Result<HashMap<(Uuid, u32), Arc<Definition>>, HandlerError> {
        let mut out = HashMap::new();
        let mut missing = Vec::new();
        {
            let cache = self.cache();
            for c in candidates {
                let key = (c.automation_id, c.version);
                match cache.get(&key) {
                    Some(d) => {
                        out.insert(key, d.clone());
                    }
                    None => missing.push(key),
                }
            }
        }
        if missing.is_empty() {
            return Ok(out);
        }
        let read = runs::definitions(&self.pool, tenant_id, &missing)
            .await
            .map_err(HandlerError::new)?;
        let mut cache = self.cache();
        for (key, json) in read {
            let Ok(definition) = validate(&json, |_| true) else {
                continue;
            };
            let definition = Arc::new(definition);
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(key, definition.clone());
            out.insert(key, definition);
        }
        Ok(out)
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, u32), Arc<Definition>>> {
        // A panic while holding the lock left a map that is still a valid cache.
        self.compiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn trigger(
        &self,
        event: &Envelope,
        json: &serde_json::Value,
    ) -> Result<(), HandlerError> {
        let candidates = runs::triggered_by(&self.pool, event.tenant_id, event.event_type())
            .await
            .map_err(HandlerError::new)?;
        let compiled = self.compiled(event.tenant_id, &candidates).await?;
        for c in candidates {
            let Some(definition) = compiled.get(&(c.automation_id, c.version)) else {
                continue;
            };
            match triggered_by(definition, json) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(e) => {
                    tracing::info!(automation = %c.automation_id, error = %e,
                        "an automation's condition failed; the event does not trigger it");
                    continue;
                }
            }
            let workflow_id =
                automation_run::workflow_id(event.tenant_id, c.automation_id, event.event_id);
            runs::begin(
                &self.pool,
                event.tenant_id,
                c.automation_id,
                c.version,
                &workflow_id,
                json,
            )
            .await
            .map_err(HandlerError::new)?;
            let input = RunInput {
                tenant_id: event.tenant_id,
                automation_id: c.automation_id,
                version: c.version,
                event: json.clone(),
                carry: None,
            };
            self.start(&workflow_id, &c.name, input).await?;
        }
        Ok(())
    }

    async fn start_requested(
        &self,
        event: &Envelope,
        workflow_id: &str,
    ) -> Result<(), HandlerError> {
        let Event::AutomationRunRequested(r) = &event.event else {
            return Ok(());
        };
        let Some((trigger, carry)) = runs::pending_start(&self.pool, event.tenant_id, workflow_id)
            .await
            .map_err(HandlerError::new)?
        else {
            return Ok(());
        };
        // A retry's state was written by the run that failed: unreadable, it starts over.
        let carry = carry.and_then(|c| serde_json::from_value(c).ok());
        let name = runs::version(
            &self.pool,
            &psa_domain::automations::run::VersionRequest {
                tenant_id: event.tenant_id,
                automation_id: r.automation_id,
                version: r.version,
            },
        )
        .await
        .map_err(HandlerError::new)?
        .map_or_else(|| "Automation".to_owned(), |v| v.name);
        let input = RunInput {
            tenant_id: event.tenant_id,
            automation_id: r.automation_id,
            version: r.version,
            event: trigger,
            carry,
        };
        self.start(workflow_id, &name, input).await
    }

    async fn start(
        &self,
        workflow_id: &str,
        name: &str,
        input: RunInput,
    ) -> Result<(), HandlerError> {
        let options = WorkflowStartOptions::new(self.task_queue.as_str(), workflow_id)
            .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
            .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
            .search_attributes(SearchAttributes::new([
                sa::TENANT_ID.value_set(input.tenant_id.to_string()),
                sa::AUTOMATION_ID.value_set(input.automation_id.to_string()),
                sa::AUTOMATION_VERSION.value_set(i64::from(input.version)),
            ]))
            .static_summary(format!("{} (version {})", one_line(name), input.version))
            .build();
        match self
            .temporal
            .start_workflow(AutomationRunWorkflow::run, input, options)
            .await
        {
            Ok(_) | Err(WorkflowStartError::AlreadyStarted { .. }) => Ok(()),
            Err(WorkflowStartError::Rpc(s)) if s.code() == tonic::Code::AlreadyExists => Ok(()),
            Err(e) => Err(HandlerError::new(e)),
        }
    }

    /// Signals the event to every run of its tenant waiting for its type; a run that ended
    /// meanwhile is passed over.
    async fn signal_waiting(
        &self,
        event: &Envelope,
        json: &serde_json::Value,
    ) -> Result<(), HandlerError> {
        let waiting = runs::waiting_for(
            &self.pool,
            event.tenant_id,
            event.event_type(),
            event.occurred_at,
        )
        .await
        .map_err(HandlerError::new)?;
        for workflow_id in waiting {
            let handle = self
                .temporal
                .get_workflow_handle::<AutomationRunWorkflow>(workflow_id.as_str());
            match handle
                .signal(
                    AutomationRunWorkflow::event,
                    json.clone(),
                    WorkflowSignalOptions::default(),
                )
                .await
            {
                Ok(()) | Err(WorkflowInteractionError::NotFound(_)) => {}
                Err(e) => return Err(HandlerError::new(e)),
            }
        }
        Ok(())
    }
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect()
}

impl Handler for AutomationHandler {
    fn name(&self) -> &str {
        "automations"
    }

    fn handle<'a>(&'a self, event: &'a Envelope) -> BoxFuture<'a, Result<(), HandlerError>> {
        Box::pin(async move {
            if let Event::AutomationRunRequested(r) = &event.event {
                return self.start_requested(event, &r.run_id).await;
            }
            let json = serde_json::to_value(event).map_err(HandlerError::new)?;
            self.signal_waiting(event, &json).await?;
            self.trigger(event, &json).await
        })
    }
}
