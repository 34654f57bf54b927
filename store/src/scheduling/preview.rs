//! `POST /v1/schedules/preview`: a series' occurrences with nothing stored. The expansion is
//! bounded by validation (window, limit, skipping to the window) and still runs off the async
//! runtime under the shared time limit.

use crate::compute;
use crate::error::StoreError;
use crate::principal::Principal;
use psa_domain::auth::Permission;
use psa_domain::recurrence::preview::{PreviewRequest, PreviewResponse};

pub async fn preview(
    p: &Principal,
    request: PreviewRequest,
) -> Result<PreviewResponse, StoreError> {
    p.require(Permission::ReadSchedule)?;
    compute::bounded("the schedule preview", move || {
        psa_domain::recurrence::preview::preview(&request)
    })
    .await?
    .map_err(StoreError::Malformed)
}
