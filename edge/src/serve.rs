//! `psa-edge serve`: HTTP, gRPC and the outbox relay in one process.
//!
//! [`start`] returns once the listeners are bound (so tests can use port 0 and read the real
//! addresses) and everything runs on spawned tasks until [`RunningEdge::shutdown`].

use crate::config::EdgeConfig;
use crate::relay::{self, Relay};
use crate::state::AppState;
use crate::web::{grpc, router};
use secrecy::ExposeSecret;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::limit::GlobalConcurrencyLimitLayer;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("database: {0}")]
    Database(#[from] psa_store::DbError),
    #[error("cannot listen: {0}")]
    Bind(#[from] std::io::Error),
    #[error("gRPC reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
}

pub struct RunningEdge {
    pub http_addr: SocketAddr,
    pub grpc_addr: SocketAddr,
    pub state: AppState,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

pub async fn start(config: EdgeConfig) -> Result<RunningEdge, ServeError> {
    let pool = psa_store::connect(
        config.database_url.expose_secret(),
        20,
        Duration::from_secs(5),
    )
    .await?;
    let relay_enabled = config.relay.enabled;
    let state = AppState::new(pool, config);
    let (stop, stop_rx) = relay::stop_channel();

    let http_listener = tokio::net::TcpListener::bind(state.config.http_addr).await?;
    let grpc_listener = tokio::net::TcpListener::bind(state.config.grpc_addr).await?;
    let http_addr = http_listener.local_addr()?;
    let grpc_addr = grpc_listener.local_addr()?;

    let mut tasks = Vec::new();
    let app = router::router(state.clone());
    let mut rx = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        let stopped = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(http_listener, app)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(error = %e, "HTTP server failed");
        }
    }));

    let routes = grpc::routes(state.clone())?;
    let limits = state.config.limits.clone();
    let mut rx = stop_rx.clone();
    tasks.push(tokio::spawn(async move {
        let stopped = async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(grpc_listener);
        // The same in-flight cap and timeout as HTTP; the rate per key is checked at
        // authentication, which both share.
        if let Err(e) = tonic::transport::Server::builder()
            .timeout(limits.timeout)
            .load_shed(true)
            .layer(GlobalConcurrencyLimitLayer::new(limits.max_in_flight))
            .add_routes(routes)
            .serve_with_incoming_shutdown(incoming, stopped)
            .await
        {
            tracing::error!(error = %e, "gRPC server failed");
        }
    }));

    if relay_enabled {
        let relay = Relay::new(state.clone());
        tasks.push(tokio::spawn(crate::sla::retime::run(
            state.clone(),
            stop_rx.clone(),
        )));
        tasks.push(tokio::spawn(relay.run(stop_rx)));
    }
    tracing::info!(%http_addr, %grpc_addr, relay = relay_enabled, "edge listening");
    Ok(RunningEdge {
        http_addr,
        grpc_addr,
        state,
        stop,
        tasks,
    })
}

impl RunningEdge {
    /// Stops accepting, lets requests and the relay round in flight finish, then returns.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(relay::SHUTDOWN_GRACE, t).await;
        }
        self.state.pool.close().await;
    }

    /// Ends every task at once, like a killed process: nothing in flight finishes.
    pub fn abort(self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
