//! `POST /v1/automations/dry-run`: the definition checked as a publish checks it, then the
//! interpreter run on the request's event and simulated results, business time counted on
//! the tenant's stored schedules. Nothing is written.

use super::versions::published;
use crate::compute;
use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use chrono::{DateTime, TimeDelta, Utc};
use psa_domain::auth::Permission;
use psa_domain::automations::dry_run::{self, Answer, Request};
use psa_domain::automations::validate::references;
use psa_domain::automations::{Issue, validate};
use psa_domain::calendar::Calendar;
use sqlx::PgPool;
use std::collections::HashMap;
use uuid::Uuid;

/// Why a dry run could not run.
#[derive(Debug, thiserror::Error)]
pub enum DryRunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The definition does not validate: the same errors a publish reports.
    #[error("the definition is not valid")]
    Definition(Vec<Issue>),
    /// The rest of the request cannot be read; pointers into the request.
    #[error("the dry run request is not valid")]
    Request(Vec<Issue>),
}

pub async fn dry_run(
    pool: &PgPool,
    p: &Principal,
    body: serde_json::Value,
) -> Result<Answer, DryRunError> {
    p.require(Permission::ReadAutomations)?;
    let definition = body
        .get("definition")
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    let refs = references(&definition);
    let mut tx = tenant::begin(pool, p).await?;
    let known = published(&mut tx, &refs.calls).await?;
    let mut schedules = HashMap::new();
    for id in refs.schedules {
        if let Some(spec) = crate::sla::load_schedule(&mut tx, id).await? {
            schedules.insert(id, spec);
        }
    }
    tx.commit().await.map_err(StoreError::from)?;
    compute::bounded("the dry run", move || {
        let request = Request::parse(&body);
        // Without a definition there is nothing to validate: say that first.
        if let Err(issues) = &request
            && issues.iter().any(|i| i.pointer == "/definition")
        {
            return Err(DryRunError::Request(issues.clone()));
        }
        let definition =
            validate(&definition, |id| known.contains(&id)).map_err(DryRunError::Definition)?;
        let request = request.map_err(DryRunError::Request)?;
        let calendars: HashMap<Uuid, Result<Calendar, String>> = schedules
            .into_iter()
            .map(|(id, spec)| {
                let cal = Calendar::new(&spec, "schedule")
                    .map_err(|e| format!("business schedule {id} cannot be used: {e}"));
                (id, cal)
            })
            .collect();
        let business = |id: Uuid, from: DateTime<Utc>, d: TimeDelta| match calendars.get(&id) {
            Some(Ok(cal)) => cal
                .instant_after(from, d, &[])
                .map_err(|e| format!("business time cannot be counted on schedule {id}: {e}")),
            Some(Err(e)) => Err(e.clone()),
            None => Err(format!("there is no business schedule {id}")),
        };
        Ok(dry_run::run(&definition, &request, &business))
    })
    .await?
}
