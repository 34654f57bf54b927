//! `psa-worker`: the process that runs every workflow and activity.

use psa_worker::bus::dead_letters;
use psa_worker::config;
use psa_worker::{WorkerConfig, run_worker};
use psa_workflows::client::{TemporalSetupError, connect, ensure_search_attributes};
use secrecy::ExposeSecret;
use std::process::ExitCode;

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

const USAGE: &str = "usage: psa-worker [run]
       psa-worker register-search-attributes   the project's search attributes, then exit
       psa-worker dead-letters list [COUNT]     oldest dead letters, one JSON object a line
       psa-worker dead-letters show ID          one dead letter
       psa-worker dead-letters replay ID...     put them back on their source stream";

#[tokio::main]
async fn main() -> ExitCode {
    let filter = match config::log_filter() {
        Ok(f) => f,
        Err(e) => {
            eprintln!("psa-worker: {e}");
            return ExitCode::from(2);
        }
    };
    tracing_subscriber::fmt().with_env_filter(filter).init();
    let config = match WorkerConfig::from_env() {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "invalid configuration");
            return ExitCode::from(2);
        }
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["run"] => match run_worker(config, shutdown_signal()).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!(error = %e, "worker stopped");
                ExitCode::FAILURE
            }
        },
        ["register-search-attributes"] => match register_search_attributes(&config).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("psa-worker register-search-attributes: {e}");
                ExitCode::FAILURE
            }
        },
        ["dead-letters", rest @ ..] => match dead_letter_command(&config, rest).await {
            Ok(code) => code,
            Err(e) => {
                eprintln!("psa-worker dead-letters: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// What `run` does first, on its own: for a Temporal server that an edge's relay or a
/// benchmark uses before any worker has started (the relay's SLA starts carry these attributes,
/// and a server refuses attributes it does not know).
async fn register_search_attributes(config: &WorkerConfig) -> Result<(), TemporalSetupError> {
    let client = connect(
        &config.temporal_address,
        &config.temporal_namespace,
        "psa-worker",
    )
    .await?;
    ensure_search_attributes(&client, &config.temporal_namespace).await
}

/// Operators' view of the dead letters: list, inspect, replay.
async fn dead_letter_command(config: &WorkerConfig, args: &[&str]) -> Result<ExitCode, String> {
    let client =
        redis::Client::open(config.bus.redis_url.expose_secret()).map_err(|e| e.to_string())?;
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| e.to_string())?;
    let stream = config.bus.dead_letter_stream.as_str();
    let json = |d: &dead_letters::DeadLetter| serde_json::to_string(d).unwrap_or_default();
    match args {
        ["list"] | ["list", _] => {
            let count = match args.get(1) {
                Some(n) => n
                    .parse()
                    .map_err(|_| format!("COUNT must be a number, not {n}"))?,
                None => 100,
            };
            for d in dead_letters::list(&mut conn, stream, count)
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}", json(&d));
            }
            Ok(ExitCode::SUCCESS)
        }
        ["show", id] => match dead_letters::get(&mut conn, stream, id)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(d) => {
                println!("{}", json(&d));
                Ok(ExitCode::SUCCESS)
            }
            None => Err(format!("no dead letter {id}")),
        },
        ["replay", ids @ ..] if !ids.is_empty() => {
            let mut missing = false;
            for id in ids {
                match dead_letters::replay(&mut conn, stream, id)
                    .await
                    .map_err(|e| e.to_string())?
                {
                    Some(new_id) => println!("replayed {id} as {new_id}"),
                    None => {
                        eprintln!("no dead letter {id}");
                        missing = true;
                    }
                }
            }
            Ok(if missing {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        _ => Err(USAGE.to_owned()),
    }
}
