//! Every API operation, once, whichever protocol it arrives through.
//!
//! Functions here authorise (one `require` per operation), validate, and read or write inside a
//! tenant transaction; HTTP and gRPC handlers only translate to and from the wire.

pub mod clients;
pub mod comments;
pub mod notification_settings;
pub mod notifications;
pub mod reference;
pub(crate) mod rows;
pub mod sla;
pub mod sla_compliance;
pub mod sla_policies;
pub mod sla_schedules;
pub mod templates;
pub mod tickets;

use crate::error::ApiError;
use psa_domain::validation::ValidationErrors;

/// Turns domain validation into the API's error.
pub(crate) fn check(result: Result<(), ValidationErrors>) -> Result<(), ApiError> {
    result.map_err(ApiError::Invalid)
}
