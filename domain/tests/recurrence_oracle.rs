//! The schedule preview against an independent oracle: `oracle/recurrence.json` holds random
//! rules around DST changes in several zones, answered by python-dateutil and zoneinfo
//! (`oracle/recurrence.py` writes it). Every answer must match exactly.

use psa_domain::recurrence::preview::{PreviewRequest, PreviewResponse, preview};
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    request: PreviewRequest,
    expected: serde_json::Value,
}

#[test]
fn previews_match_python_dateutil_on_random_rules_around_dst_changes() {
    let cases: Vec<Case> =
        serde_json::from_str(include_str!("oracle/recurrence.json")).expect("oracle cases");
    assert!(cases.len() >= 500);
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let answer: Result<PreviewResponse, _> = preview(&case.request);
        match answer {
            Ok(answer) => {
                let got = serde_json::to_value(&answer).expect("answer as JSON");
                if got != case.expected {
                    failures.push(format!(
                        "case {i}: {:?}\n  expected {}\n  got      {}",
                        case.request, case.expected, got
                    ));
                }
            }
            Err(e) => failures.push(format!("case {i}: {:?} refused: {e}", case.request)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures
            .iter()
            .take(5)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
