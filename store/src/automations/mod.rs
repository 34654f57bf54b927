//! Automations: drafts, immutable numbered versions (publish, roll back, compare), the switch
//! that lets new runs start, and the dry run. The definition's rules live in
//! `psa_domain::automations`; this module stores what they accept.

pub mod drafts;
pub mod dry_run;
pub mod versions;
