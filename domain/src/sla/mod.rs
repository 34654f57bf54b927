//! SLA arithmetic: when each phase of a ticket's SLA is due, when its thresholds fall, how much
//! business time has elapsed. Pure, on top of [`crate::calendar`]; the SLA workflow, the edge's
//! status endpoint and the what-if preview all compute with this one module.

pub mod limits;
mod percent;
mod phase;
mod policy;
mod preview;
pub mod run;
mod thresholds;
mod tracker;

pub use percent::{Percent, PercentError};
pub use phase::{Phase, PhasePlan, ThresholdAt, plan_phase, threshold_amount};
pub use policy::{
    DEFAULT_ESCALATION_PERCENTS, SlaPolicySnapshot, ThresholdRule, default_threshold_rules,
};
pub use preview::{
    PhasePreview, PreviewPause, PreviewRequest, PreviewResponse, PreviewTargets, preview,
};
pub use thresholds::{DEFAULT_THRESHOLDS, MAX_THRESHOLD, normalize_thresholds};
pub use tracker::{PhaseClock, PhaseView, SlaAction, SlaState, SlaTracker, SlaView};

#[cfg(test)]
mod tracker_tests;
