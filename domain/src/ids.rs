//! Business-key identifiers.
//!
//! Workflow IDs are business keys (DESIGN.md §4): the same ticket always maps to the same
//! workflow ID, so a retried start can never create a second run.

use uuid::Uuid;

/// Workflow ID of a ticket's SLA workflow: `sla:{tenant}:{ticket}`.
pub fn sla_workflow_id(tenant_id: Uuid, ticket_id: Uuid) -> String {
    format!("sla:{tenant_id}:{ticket_id}")
}

/// A new time-ordered identifier for rows and events (UUIDv7), so primary keys and cursors
/// sort by creation time.
pub fn new_id() -> Uuid {
    Uuid::now_v7()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sla_workflow_id_is_the_business_key() {
        let tenant = Uuid::parse_str("00000000-0000-0000-0000-00000000000a").unwrap();
        let ticket = Uuid::parse_str("00000000-0000-0000-0000-00000000000b").unwrap();
        assert_eq!(
            sla_workflow_id(tenant, ticket),
            "sla:00000000-0000-0000-0000-00000000000a:00000000-0000-0000-0000-00000000000b"
        );
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let a = new_id();
        let b = new_id();
        assert!(a < b);
    }
}
