//! How workflows call activities that touch only Postgres: as local activities in runs begun
//! with their workflow's local-store marker (run by the worker inside the workflow task, with
//! no round trip through the server's activity queue), else as the activities older runs began
//! with. One definition of their timeouts and retries for every workflow.

use std::time::Duration;
use temporalio_common::{ActivityDefinition, RetryPolicy};
use temporalio_sdk::{ActivityOptions, LocalActivityOptions, WorkflowContext, WorkflowResult};

/// Store work as an activity (runs that began before the local-store markers).
fn activity_options() -> ActivityOptions {
    ActivityOptions::start_to_close_timeout(Duration::from_secs(30))
}

/// Store work as a local activity: retried like the activities (a store outage is waited out,
/// never fails the run), backing off to ten minutes between attempts so that a long outage
/// adds few events to the history.
fn local_options() -> LocalActivityOptions {
    LocalActivityOptions::builder()
        .start_to_close_timeout(Duration::from_secs(30))
        .retry_policy(
            RetryPolicy::builder()
                .initial_interval(Duration::from_secs(1))
                .maximum_interval(Duration::from_secs(600))
                .build(),
        )
        .build()
}

/// Runs one store activity: local when `local`, else as an activity.
pub(crate) async fn store<W, AD: ActivityDefinition>(
    ctx: &WorkflowContext<W>,
    local: bool,
    activity: AD,
    input: AD::Input,
) -> WorkflowResult<AD::Output> {
    Ok(if local {
        ctx.execute_local_activity(activity, input, local_options())
            .await?
    } else {
        ctx.execute_activity(activity, input, activity_options())
            .await?
    })
}
