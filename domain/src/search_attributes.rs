//! The custom search attributes operators use to find runs in the Temporal UI (DESIGN.md §4):
//! their names and kinds, listed once. The worker registers [`ALL`] at start-up, so a fresh
//! namespace needs no manual step; workflows and the relay set them by these names.

/// Kind of a search attribute, as the server's operator API names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Keyword,
    Int,
}

pub const TENANT_ID: &str = "TenantId";
pub const TICKET_ID: &str = "TicketId";
pub const CLIENT_ID: &str = "ClientId";
pub const BOARD_ID: &str = "BoardId";
pub const PRIORITY: &str = "Priority";
pub const SLA_STATE: &str = "SlaState";
pub const AUTOMATION_ID: &str = "AutomationId";
pub const AUTOMATION_VERSION: &str = "AutomationVersion";
pub const BILLING_PERIOD: &str = "BillingPeriod";

/// Every custom search attribute the project uses, with its kind.
pub const ALL: [(&str, Kind); 9] = [
    (TENANT_ID, Kind::Keyword),
    (TICKET_ID, Kind::Keyword),
    (CLIENT_ID, Kind::Keyword),
    (BOARD_ID, Kind::Keyword),
    (PRIORITY, Kind::Keyword),
    (SLA_STATE, Kind::Keyword),
    (AUTOMATION_ID, Kind::Keyword),
    (AUTOMATION_VERSION, Kind::Int),
    (BILLING_PERIOD, Kind::Keyword),
];
