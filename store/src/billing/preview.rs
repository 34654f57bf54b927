//! `POST /v1/invoices/preview`: the stateless what-if. The engine is pure; this is where the
//! caller's permission is checked and the work is run off the async runtime, bounded like
//! every other computation a request asks for.

use crate::compute;
use crate::error::StoreError;
use crate::principal::Principal;
use psa_domain::auth::Permission;
use psa_domain::billing;
use psa_domain::validation::{FieldError, ValidationErrors};
use serde_json::Value;

/// The invoice draft `body` describes, in the preview contract's shape; a request the engine
/// cannot take is a 400 naming its field.
pub async fn preview(p: &Principal, body: Value) -> Result<Value, StoreError> {
    p.require(Permission::ManageBilling)?;
    compute::bounded("the preview", move || billing::preview(&body))
        .await?
        .map_err(|e| {
            StoreError::Malformed(ValidationErrors(vec![FieldError::new(e.field, e.message)]))
        })
}
