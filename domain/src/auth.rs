//! Roles and what each may do.
//!
//! Authorisation is decided here, in one table, and checked once per endpoint at the edge, so
//! that a newcomer can read every rule in one place (DESIGN.md §3).

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// The role an API key or token acts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything inside the tenant, including reference data.
    Admin,
    /// Works tickets: reads reference data, writes tickets, comments, clients and contacts.
    Technician,
    /// Reads everything; runs billing (invoice previews, and billing data as it arrives).
    Billing,
    /// A client-portal user: sees and writes only its own client's tickets, public comments only.
    Client,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Technician, Role::Billing, Role::Client];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Technician => "technician",
            Role::Billing => "billing",
            Role::Client => "client",
        }
    }

    /// Whether this role may perform `permission` at all. Row-level limits (a client sees only
    /// its own client's tickets) are applied on top of this by the queries.
    pub fn allows(self, permission: Permission) -> bool {
        use Permission::*;
        match self {
            Role::Admin => true,
            Role::Technician => matches!(
                permission,
                ReadReference
                    | WriteClients
                    | ReadTickets
                    | WriteTickets
                    | ManageTickets
                    | WriteComments
                    | ReadInternalNotes
                    | ReadSla
                    | ReadTime
                    | ReadSchedule
                    | WriteSchedule
                    | ReadAutomations
            ),
            Role::Billing => matches!(
                permission,
                ReadReference
                    | ReadTickets
                    | ReadInternalNotes
                    | ReadSla
                    | ManageBilling
                    | ReadTime
                    | ReadInvoices
                    | ReadSchedule
            ),
            Role::Client => matches!(
                permission,
                ReadTickets | WriteTickets | WriteComments | ReadInvoices
            ),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}` (expected one of admin, technician, billing, client)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// Things an endpoint may require.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// Read boards, priorities, statuses, clients and contacts.
    ReadReference,
    /// Create and change boards, priorities and statuses.
    WriteReference,
    /// Create and change clients and contacts.
    WriteClients,
    ReadTickets,
    /// Create and change tickets (status, assignee, fields, close).
    WriteTickets,
    WriteComments,
    /// See comments marked internal.
    ReadInternalNotes,
    /// Change fields that only MSP staff may change (assignee, status, board, priority).
    ManageTickets,
    /// Edit the tenant's notification templates, switches and sender.
    ManageNotifications,
    /// See SLA schedules, policies, ticket SLA status, audit and compliance; run previews.
    ReadSla,
    /// Create and change business-hours schedules, SLA policies and escalation managers.
    ManageSla,
    /// Run billing: read and change services, contracts, tax, credits, usage, time entries and
    /// timesheets (approving them too); invoice previews.
    ManageBilling,
    /// Read time entries and timesheets.
    ReadTime,
    /// Read invoices: all of them, or for a client-portal key its own client's finalized ones.
    ReadInvoices,
    /// Read the dispatch calendar (schedule entries and their occurrences); run schedule
    /// previews.
    ReadSchedule,
    /// Create, change and delete schedule entries. A technician may touch only entries they
    /// are assigned to (checked by the store, on top of this).
    WriteSchedule,
    /// Read automations, their versions and the action catalogue; dry-run a definition.
    ReadAutomations,
    /// Create automations, edit drafts, publish, enable, disable and roll back.
    PublishAutomations,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_through_their_names() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn permission_table() {
        use Permission::*;
        // (role, permission, allowed)
        let cases = [
            (Role::Admin, WriteReference, true),
            (Role::Admin, ManageTickets, true),
            (Role::Technician, WriteReference, false),
            (Role::Technician, ReadSla, true),
            (Role::Technician, ManageSla, false),
            (Role::Billing, ReadSla, true),
            (Role::Client, ReadSla, false),
            (Role::Technician, WriteSchedule, true),
            (Role::Billing, ReadSchedule, true),
            (Role::Billing, WriteSchedule, false),
            (Role::Client, ReadSchedule, false),
            (Role::Admin, PublishAutomations, true),
            (Role::Technician, ReadAutomations, true),
            (Role::Technician, PublishAutomations, false),
            (Role::Billing, ReadAutomations, false),
            (Role::Client, ReadAutomations, false),
            (Role::Admin, ManageSla, true),
            (Role::Technician, WriteTickets, true),
            (Role::Technician, ManageTickets, true),
            (Role::Billing, ReadTickets, true),
            (Role::Billing, WriteTickets, false),
            (Role::Billing, WriteComments, false),
            (Role::Client, ReadTickets, true),
            (Role::Client, WriteTickets, true),
            (Role::Client, ReadInternalNotes, false),
            (Role::Client, ReadReference, false),
            (Role::Client, ManageTickets, false),
            (Role::Admin, ManageNotifications, true),
            (Role::Technician, ManageNotifications, false),
            (Role::Billing, ManageNotifications, false),
            (Role::Admin, ManageBilling, true),
            (Role::Technician, ReadTime, true),
            (Role::Technician, ManageBilling, false),
            (Role::Billing, ReadTime, true),
            (Role::Client, ReadTime, false),
            (Role::Client, ReadInvoices, true),
            (Role::Technician, ReadInvoices, false),
            (Role::Billing, ManageBilling, true),
            (Role::Technician, ManageBilling, false),
            (Role::Client, ManageBilling, false),
        ];
        for (role, perm, allowed) in cases {
            assert_eq!(role.allows(perm), allowed, "{role:?} {perm:?}");
        }
    }
}
