//! Search attributes operators use to find runs in the Temporal UI (DESIGN.md §4).
//!
//! The worker registers them at start-up ([`ALL`]), so a fresh namespace works without a
//! manual step.

use temporalio_common::search_attributes::SearchAttributeKey;

pub const TENANT_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("TenantId");
pub const TICKET_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("TicketId");
pub const CLIENT_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("ClientId");
pub const BOARD_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("BoardId");
pub const PRIORITY: SearchAttributeKey<String> = SearchAttributeKey::keyword("Priority");
pub const SLA_STATE: SearchAttributeKey<String> = SearchAttributeKey::keyword("SlaState");
pub const AUTOMATION_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("AutomationId");
pub const AUTOMATION_VERSION: SearchAttributeKey<i64> =
    SearchAttributeKey::int("AutomationVersion");
pub const BILLING_PERIOD: SearchAttributeKey<String> = SearchAttributeKey::keyword("BillingPeriod");

/// Kind of a search attribute, as the server's operator API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    Int,
}

/// Every custom search attribute the project uses, with its kind.
pub const ALL: [(&str, Kind); 9] = [
    ("TenantId", Kind::Keyword),
    ("TicketId", Kind::Keyword),
    ("ClientId", Kind::Keyword),
    ("BoardId", Kind::Keyword),
    ("Priority", Kind::Keyword),
    ("SlaState", Kind::Keyword),
    ("AutomationId", Kind::Keyword),
    ("AutomationVersion", Kind::Int),
    ("BillingPeriod", Kind::Keyword),
];
