//! `psa-edge`: the API process (`serve`), plus `migrate` and `seed-demo` for setup.

use psa_edge::config::{self, EdgeConfig, SetupConfig};
use psa_edge::serve;
use psa_store::{migrate, seed};
use secrecy::ExposeSecret;
use std::process::ExitCode;

const USAGE: &str = "usage: psa-edge <serve|migrate|seed-demo>
  serve      run the HTTP and gRPC API and the outbox relay
  migrate    create the database if needed and apply migrations (MIGRATION_DATABASE_URL)
  seed-demo  seed the demo tenant with the admin key in PSA_DEMO_API_KEY";

#[tokio::main]
async fn main() -> ExitCode {
    let filter = match config::log_filter() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("psa-edge: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let command = std::env::args().nth(1).unwrap_or_default();
    let result = match command.as_str() {
        "serve" => run_serve().await,
        "migrate" => run_migrate().await,
        "seed-demo" => run_seed().await,
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "psa-edge {command} failed");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (what `scripts/down` and Kubernetes send), so in-flight work
/// drains instead of being cut off.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn run_serve() -> Result<(), String> {
    let config = EdgeConfig::from_env().map_err(|e| e.to_string())?;
    let edge = serve::start(config).await.map_err(|e| e.to_string())?;
    shutdown_signal().await;
    tracing::info!("shutting down");
    edge.shutdown().await;
    Ok(())
}

async fn run_migrate() -> Result<(), String> {
    let setup = SetupConfig::from_env().map_err(|e| e.to_string())?;
    migrate::migrate(setup.owner_database_url.expose_secret())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!("migrations applied");
    Ok(())
}

async fn run_seed() -> Result<(), String> {
    let setup = SetupConfig::from_env().map_err(|e| e.to_string())?;
    let key = setup.demo_api_key().map_err(|e| e.to_string())?;
    let pool = migrate::migrate(setup.owner_database_url.expose_secret())
        .await
        .map_err(|e| e.to_string())?;
    let tenant = seed::seed_tenant(&pool, "demo", "Demo MSP", key.expose_secret())
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(tenant_id = %tenant.tenant_id, "demo tenant seeded");
    Ok(())
}
