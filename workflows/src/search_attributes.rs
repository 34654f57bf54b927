//! Typed keys of the search attributes named in [`psa_domain::search_attributes`], for the
//! workflows that keep them current.

use psa_domain::search_attributes as names;
use temporalio_common::search_attributes::SearchAttributeKey;

pub use names::{ALL, Kind};

pub const TENANT_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword(names::TENANT_ID);
pub const TICKET_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword(names::TICKET_ID);
pub const CLIENT_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword(names::CLIENT_ID);
pub const BOARD_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword(names::BOARD_ID);
pub const PRIORITY: SearchAttributeKey<String> = SearchAttributeKey::keyword(names::PRIORITY);
pub const SLA_STATE: SearchAttributeKey<String> = SearchAttributeKey::keyword(names::SLA_STATE);
pub const AUTOMATION_ID: SearchAttributeKey<String> =
    SearchAttributeKey::keyword(names::AUTOMATION_ID);
pub const AUTOMATION_VERSION: SearchAttributeKey<i64> =
    SearchAttributeKey::int(names::AUTOMATION_VERSION);
pub const BILLING_PERIOD: SearchAttributeKey<String> =
    SearchAttributeKey::keyword(names::BILLING_PERIOD);
