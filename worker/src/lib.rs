//! The worker: hosts every workflow and activity on the `psa` task queue.
//!
//! Exposed as a library so the end-to-end tests run the very same worker in-process.

pub mod automation_schedules;
pub mod billing_schedules;
pub mod bus;
pub mod config;
pub mod health;
pub mod run;
pub mod subscribers;

pub use config::WorkerConfig;
pub use run::{run_worker, run_worker_with};
