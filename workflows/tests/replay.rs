//! Determinism: saved histories of real runs replay against the current workflow code.
//!
//! A change to a workflow that would break runs already in flight fails here; guard it with
//! `ctx.patched(..)` instead. Histories are recorded by the end-to-end tests with
//! `PSA_RECORD_HISTORIES=1 scripts/test` and saved under `tests/histories/`. No server needed.

use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn histories() -> std::io::Result<Vec<(String, Vec<u8>)>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|x| x == "json") {
            out.push((path.display().to_string(), std::fs::read(&path)?));
        }
    }
    out.sort();
    Ok(out)
}

#[tokio::test]
async fn saved_histories_replay() {
    let saved = histories().unwrap();
    assert!(
        !saved.is_empty(),
        "no saved histories: record them (see module docs)"
    );
    let mut options = WorkflowReplayerOptions::new().build();
    psa_workflows::register::on_replayer(&mut options).unwrap();
    let replayer = WorkflowReplayer::new(options).unwrap();
    for (name, bytes) in saved {
        let history = WorkflowHistory::from_json(&bytes).unwrap();
        replayer
            .replay_workflow(history)
            .await
            .unwrap_or_else(|e| panic!("{name} no longer replays: {e}"));
    }
}
