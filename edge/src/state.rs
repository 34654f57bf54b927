//! Shared handles of a running edge.

use crate::config::EdgeConfig;
use crate::web::error::ApiError;
use crate::web::rate_limit::KeyRates;
use psa_store::PgPool;
use secrecy::ExposeSecret;
use std::sync::Arc;
use temporalio_client::Client;
use tokio::sync::OnceCell;

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<EdgeConfig>,
    /// Connected on first use, so the edge starts (and reports not-ready) while Temporal is
    /// still coming up.
    temporal: Arc<OnceCell<Client>>,
    redis: Arc<OnceCell<redis::aio::ConnectionManager>>,
    /// Requests left to each API key (`EDGE_RATE_LIMIT_*`).
    pub key_rates: Arc<KeyRates>,
}

impl AppState {
    pub fn new(pool: PgPool, config: EdgeConfig) -> Self {
        Self {
            pool,
            key_rates: Arc::new(KeyRates::new(&config.limits)),
            config: Arc::new(config),
            temporal: Arc::new(OnceCell::new()),
            redis: Arc::new(OnceCell::new()),
        }
    }

    pub async fn temporal(&self) -> Result<&Client, ApiError> {
        self.temporal
            .get_or_try_init(|| async {
                crate::relay::temporal::connect(
                    &self.config.temporal_address,
                    &self.config.temporal_namespace,
                )
                .await
            })
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))
    }

    /// A reconnecting Redis connection (cheap to clone).
    pub async fn redis(&self) -> Result<redis::aio::ConnectionManager, ApiError> {
        self.redis
            .get_or_try_init(|| async {
                let client = redis::Client::open(self.config.redis_url.expose_secret())?;
                redis::aio::ConnectionManager::new(client).await
            })
            .await
            .cloned()
            .map_err(|e| ApiError::Unavailable(format!("redis: {e}")))
    }
}
