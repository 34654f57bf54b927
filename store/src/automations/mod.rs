//! Automations: drafts, immutable numbered versions (publish, roll back, compare), the switch
//! that lets new runs start, the dry run, the runs' read model, and the tenant's automation
//! settings. The definition's rules live in
//! `psa_domain::automations`; this module stores what they accept.

pub mod action_reads;
pub mod drafts;
pub mod dry_run;
pub mod messages;
pub mod runs;
pub mod settings;
pub mod versions;
