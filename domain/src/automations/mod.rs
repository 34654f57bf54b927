//! User-designed automations: the definition format (canonical JSON), its validation, the CEL
//! expressions it carries, the action catalogue, and the interpreter (`machine`) that both the
//! dry run and the durable runs drive.
//!
//! Pure: the store looks up what validation needs (published automations to `call`), the
//! edge serves the endpoints, and the durable runs use this same interpreter's rules.

pub mod catalogue;
pub mod definition;
pub mod dry_run;
pub mod durations;
pub mod expr;
pub mod machine;
pub mod networks;
pub mod run;
pub mod validate;

pub use definition::Definition;
pub use validate::{Issue, validate};

/// The RFC 6902 JSON Patch that turns definition `from` into `to`.
pub fn diff(from: &serde_json::Value, to: &serde_json::Value) -> serde_json::Value {
    serde_json::to_value(json_patch::diff(from, to)).unwrap_or_default()
}

#[cfg(test)]
mod tests;
