//! Automations over HTTP: drafts, published versions, the switch, the action catalogue and
//! the dry run. The operations are `psa_store::automations`; the rules
//! `psa_domain::automations`.

pub mod http;
