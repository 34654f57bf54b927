//! A tenant's automation settings: the private networks its automations' `http.request` may
//! reach (`psa_domain::automations::networks`). Read by the worker before every webhook, so a
//! network taken off the list is refused from the next request on.

use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use psa_domain::auth::Permission;
use psa_domain::automations::networks::{self, IpNet};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;

/// What a tenant's automations may do beyond the defaults.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AutomationSettings {
    /// Networks that `http.request` may reach although they are not public: CIDR blocks
    /// (`10.20.0.0/16`, `fd00::/8`) or single addresses. Empty: public addresses only. An
    /// address inside one of them may also be called over plain `http`.
    pub http_allowed_networks: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AutomationSettingsPatch {
    /// Replaces the list. Each block is shown reduced to its network (`10.1.2.3/8` is
    /// `10.0.0.0/8`); `0.0.0.0/0` and `::/0` are refused.
    #[schema(max_items = 50)]
    pub http_allowed_networks: Option<Vec<String>>,
}

pub async fn get(pool: &PgPool, p: &Principal) -> Result<AutomationSettings, StoreError> {
    p.require(Permission::ReadAutomations)?;
    Ok(AutomationSettings {
        http_allowed_networks: stored(pool, p).await?,
    })
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    patch: AutomationSettingsPatch,
) -> Result<AutomationSettings, StoreError> {
    p.require(Permission::PublishAutomations)?;
    let Some(list) = patch.http_allowed_networks else {
        return get(pool, p).await;
    };
    let parsed = networks::parse(&list)
        .map_err(|e| StoreError::invalid("http_allowed_networks", e.to_string()))?;
    let shown: Vec<String> = parsed.iter().map(ToString::to_string).collect();
    let mut tx = tenant::begin(pool, p).await?;
    sqlx::query!(
        "INSERT INTO automation_settings (tenant_id, http_allowed_networks) VALUES ($1, $2)
         ON CONFLICT (tenant_id) DO UPDATE
         SET http_allowed_networks = excluded.http_allowed_networks, updated_at = now()",
        p.tenant_id,
        &shown,
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(AutomationSettings {
        http_allowed_networks: shown,
    })
}

/// The networks `p`'s tenant allows, for the webhook action. No permission is asked: the run
/// reads its own tenant's rule, whoever its owner is.
pub async fn http_allowed_networks(pool: &PgPool, p: &Principal) -> Result<Vec<IpNet>, StoreError> {
    let list = stored(pool, p).await?;
    // Saved lists were checked; a row that no longer parses allows nothing rather than failing
    // every webhook of the tenant.
    Ok(networks::parse(&list).unwrap_or_default())
}

async fn stored(pool: &PgPool, p: &Principal) -> Result<Vec<String>, StoreError> {
    let mut tx = tenant::begin(pool, p).await?;
    let list = sqlx::query_scalar!("SELECT http_allowed_networks FROM automation_settings")
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or_default();
    tx.commit().await?;
    Ok(list)
}
