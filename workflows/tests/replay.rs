//! Determinism: saved histories of real runs replay against the current workflow code.
//!
//! A change to a workflow that would break runs already in flight fails here; guard it with
//! `ctx.patched(..)` instead. Histories are recorded by the end-to-end tests with
//! `PSA_RECORD_HISTORIES=1 scripts/test` and saved under `tests/histories/`. No server needed.

use psa_workflows::ticket_sla::SlaTicketWorkflow;
use temporalio_client::WorkflowHistory;
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

fn histories() -> Vec<(String, WorkflowHistory)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/histories");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.display().to_string(), WorkflowHistory::from_json(&bytes).unwrap())
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[tokio::test]
async fn saved_ticket_histories_replay() {
    let saved = histories();
    assert!(!saved.is_empty(), "no saved histories: record them (see module docs)");
    let replayer = WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<SlaTicketWorkflow>()
            .unwrap()
            .build(),
    )
    .unwrap();
    for (name, history) in saved {
        replayer
            .replay_workflow(history)
            .await
            .unwrap_or_else(|e| panic!("{name} no longer replays: {e}"));
    }
}
