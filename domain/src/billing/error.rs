//! The one error a preview can end in: a request field that cannot be billed.
//!
//! The edge turns it into a 400 problem+json naming `field`, so every refusal (including an
//! arithmetic overflow caused by hostile numbers) must point at the part of the request to fix.

/// A request the engine refuses, with the path of the offending field (`lines[2].amount`,
/// `period.end`, `tax.regions.VAT[0].rate`, `currency`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InputError {
    pub field: String,
    pub message: String,
}

impl InputError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// Hostile magnitudes overflow `Decimal`; they are the caller's mistake, never a 5xx.
    pub(crate) fn too_large(field: impl Into<String>) -> Self {
        Self::new(field, "the amounts involved are too large to compute")
    }
}
