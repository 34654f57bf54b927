//! The actions an automation can call: name, version, what each takes and gives, for the
//! validator (required and known inputs) and the editor's palette (`GET
//! /v1/automation-actions`). Names and required inputs are a contract with stored
//! definitions: an action is never renamed and never gains a required input.

use serde::Serialize;
use serde_json::{Value, json};

/// One input of an action.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Input {
    pub name: &'static str,
    pub required: bool,
    /// JSON Schema type: `string`, `integer`, `boolean`, `object`, `array`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub description: &'static str,
}

/// One action of the catalogue.
#[derive(Debug, Clone, Copy)]
pub struct Action {
    pub name: &'static str,
    pub version: u32,
    pub description: &'static str,
    pub inputs: &'static [Input],
    /// JSON Schema of what the action yields (`save_as` keeps it).
    pub output: fn() -> Value,
}

impl Action {
    /// The input's JSON Schema.
    pub fn input_schema(&self) -> Value {
        let properties: serde_json::Map<String, Value> = self
            .inputs
            .iter()
            .map(|i| {
                (
                    i.name.to_owned(),
                    json!({ "type": i.kind, "description": i.description }),
                )
            })
            .collect();
        let required: Vec<&str> = self
            .inputs
            .iter()
            .filter(|i| i.required)
            .map(|i| i.name)
            .collect();
        json!({
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }

    /// The catalogue entry as the API shows it.
    pub fn describe(&self) -> Value {
        json!({
            "name": self.name,
            "version": self.version,
            "description": self.description,
            "input": self.input_schema(),
            "output": (self.output)(),
        })
    }
}

const fn req(name: &'static str, kind: &'static str, description: &'static str) -> Input {
    Input {
        name,
        required: true,
        kind,
        description,
    }
}

const fn opt(name: &'static str, kind: &'static str, description: &'static str) -> Input {
    Input {
        name,
        required: false,
        kind,
        description,
    }
}

fn ticket() -> Value {
    json!({"type": "object", "properties": {
        "ticket_id": {"type": "string"}, "number": {"type": "integer"},
        "title": {"type": "string"}, "status": {"type": "string"},
        "assignee_id": {"type": ["string", "null"]},
        "responded_at": {"type": ["string", "null"], "description": "First public reply by a technician (RFC 3339)."},
        "updated_at": {"type": "string"}}})
}
fn tickets() -> Value {
    json!({"type": "object", "properties": {"tickets": {"type": "array", "items": ticket()}}})
}
fn comment() -> Value {
    json!({"type": "object", "properties": {"comment_id": {"type": "string"}}})
}
fn client() -> Value {
    json!({"type": "object", "properties": {"client_id": {"type": "string"}, "name": {"type": "string"}}})
}
fn clients() -> Value {
    json!({"type": "object", "properties": {"clients": {"type": "array", "items": client()}}})
}
fn contact() -> Value {
    json!({"type": "object", "properties": {"contact_id": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"}}})
}
fn contacts() -> Value {
    json!({"type": "object", "properties": {"contacts": {"type": "array", "items": contact()}}})
}
fn sent() -> Value {
    json!({"type": "object", "properties": {"notification_id": {"type": "string"}}})
}
fn entry() -> Value {
    json!({"type": "object", "properties": {"entry_id": {"type": "string"}}})
}
fn time_entry() -> Value {
    json!({"type": "object", "properties": {"time_entry_id": {"type": "string"}}})
}
fn response() -> Value {
    json!({"type": "object", "properties": {
        "status": {"type": "integer"}, "headers": {"type": "object"}, "body": {}}})
}

/// Every action, by name.
pub const ACTIONS: &[Action] = &[
    Action {
        name: "tickets.create",
        version: 1,
        description: "Opens a ticket.",
        inputs: &[
            req("title", "string", "The ticket's title."),
            opt("description", "string", "First description."),
            opt("client_id", "string", "The client it is for."),
            opt(
                "board_id",
                "string",
                "Board; the tenant's default when absent.",
            ),
            opt(
                "priority_id",
                "string",
                "Priority; the default when absent.",
            ),
            opt("assignee_id", "string", "Technician to assign."),
        ],
        output: ticket,
    },
    Action {
        name: "tickets.update",
        version: 1,
        description: "Changes a ticket's fields.",
        inputs: &[
            req("ticket_id", "string", "The ticket."),
            opt("title", "string", "New title."),
            opt("priority_id", "string", "New priority."),
            opt("board_id", "string", "New board."),
            opt("client_id", "string", "New client."),
        ],
        output: ticket,
    },
    Action {
        name: "tickets.change_status",
        version: 1,
        description: "Moves a ticket to a status, by the status's name.",
        inputs: &[
            req("ticket_id", "string", "The ticket."),
            req("status", "string", "The status's name."),
        ],
        output: ticket,
    },
    Action {
        name: "tickets.assign",
        version: 1,
        description: "Assigns a ticket to a technician.",
        inputs: &[
            req("ticket_id", "string", "The ticket."),
            req("user_id", "string", "The technician."),
        ],
        output: ticket,
    },
    Action {
        name: "tickets.add_comment",
        version: 1,
        description: "Adds a comment to a ticket.",
        inputs: &[
            req("ticket_id", "string", "The ticket."),
            req("body", "string", "The comment's text."),
            opt(
                "is_public",
                "boolean",
                "Shown to the client (default false).",
            ),
        ],
        output: comment,
    },
    Action {
        name: "tickets.close",
        version: 1,
        description: "Closes a ticket.",
        inputs: &[req("ticket_id", "string", "The ticket.")],
        output: ticket,
    },
    Action {
        name: "tickets.find",
        version: 1,
        description: "Finds tickets by ID, status, client, assignee or age.",
        inputs: &[
            opt("ticket_id", "string", "One ticket."),
            opt("status", "string", "A status's name."),
            opt("client_id", "string", "The client."),
            opt("assignee_id", "string", "The assignee."),
            opt(
                "updated_before",
                "string",
                "Only tickets not changed since (RFC 3339).",
            ),
            opt(
                "limit",
                "integer",
                "At most this many (1 to 1,000; 100 by default).",
            ),
        ],
        output: tickets,
    },
    Action {
        name: "clients.create",
        version: 1,
        description: "Adds a client.",
        inputs: &[req("name", "string", "The client's name.")],
        output: client,
    },
    Action {
        name: "clients.find",
        version: 1,
        description: "Finds clients by name.",
        inputs: &[opt("name", "string", "Part of the name.")],
        output: clients,
    },
    Action {
        name: "clients.update",
        version: 1,
        description: "Renames a client or changes its billing contact.",
        inputs: &[
            req("client_id", "string", "The client."),
            opt("name", "string", "New name."),
            opt("billing_contact_id", "string", "New billing contact."),
        ],
        output: client,
    },
    Action {
        name: "contacts.create",
        version: 1,
        description: "Adds a contact to a client.",
        inputs: &[
            req("client_id", "string", "The client."),
            req("name", "string", "The contact's name."),
            opt("email", "string", "E-mail address."),
        ],
        output: contact,
    },
    Action {
        name: "contacts.find",
        version: 1,
        description: "Finds contacts by client or e-mail address.",
        inputs: &[
            opt("client_id", "string", "The client."),
            opt("email", "string", "The e-mail address."),
        ],
        output: contacts,
    },
    Action {
        name: "contacts.update",
        version: 1,
        description: "Changes a contact's name or e-mail address.",
        inputs: &[
            req("contact_id", "string", "The contact."),
            opt("name", "string", "New name."),
            opt("email", "string", "New e-mail address."),
        ],
        output: contact,
    },
    Action {
        name: "notifications.send_email",
        version: 1,
        description: "E-mails a user the given subject and body, framed by the tenant's \
                      template for automation messages (subtype automation.message).",
        inputs: &[
            req("user_id", "string", "The user."),
            req("body", "string", "The message's text."),
            opt("subject", "string", "Subject line."),
        ],
        output: sent,
    },
    Action {
        name: "notifications.send_contact_email",
        version: 1,
        description: "E-mails a client's contact the given subject and body, framed by the \
                      tenant's template for automation messages to contacts (subtype \
                      automation.contact_message).",
        inputs: &[
            req("contact_id", "string", "The contact."),
            req("body", "string", "The message's text."),
            opt("subject", "string", "Subject line."),
        ],
        output: sent,
    },
    Action {
        name: "notifications.notify_in_app",
        version: 1,
        description: "Puts a notification in a user's in-app list.",
        inputs: &[
            req("user_id", "string", "The user."),
            req("title", "string", "Its title."),
            opt("body", "string", "Its text."),
        ],
        output: sent,
    },
    Action {
        name: "schedule_entries.create",
        version: 1,
        description: "Books a schedule entry.",
        inputs: &[
            req("title", "string", "What it is."),
            req("assignees", "array", "The technicians' user IDs."),
            req("start", "string", "Wall-clock start, YYYY-MM-DDTHH:MM:SS."),
            req("timezone", "string", "IANA zone of the start."),
            req("duration_minutes", "integer", "Length."),
            opt("ticket_id", "string", "The ticket it works on."),
            opt("rrule", "string", "RFC 5545 recurrence rule."),
            opt(
                "reminder_minutes",
                "integer",
                "Reminder lead; none when null.",
            ),
        ],
        output: entry,
    },
    Action {
        name: "time_entries.create",
        version: 1,
        description: "Records time worked.",
        inputs: &[
            req("user_id", "string", "Who worked."),
            req("work_date", "string", "The day (YYYY-MM-DD)."),
            req("minutes", "integer", "How long."),
            opt("ticket_id", "string", "The ticket worked on."),
            opt("service_id", "string", "The service to bill it as."),
            opt("notes", "string", "What was done."),
        ],
        output: time_entry,
    },
    Action {
        name: "http.request",
        version: 1,
        description: "Calls a webhook; signs the body with HMAC-SHA256 when a secret is configured.",
        inputs: &[
            req("method", "string", "GET, POST, PUT, PATCH or DELETE."),
            req("url", "string", "An https URL."),
            opt("headers", "object", "Extra headers."),
            opt("body", "object", "JSON body."),
            opt("timeout", "string", "ISO 8601 duration, at most PT30S."),
        ],
        output: response,
    },
];

/// The action called `name`.
pub fn action(name: &str) -> Option<&'static Action> {
    ACTIONS.iter().find(|a| a.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_names_keep_their_required_inputs() {
        let required = |name: &str| -> Vec<&str> {
            action(name)
                .unwrap_or_else(|| panic!("{name} missing"))
                .inputs
                .iter()
                .filter(|i| i.required)
                .map(|i| i.name)
                .collect()
        };
        assert_eq!(required("tickets.add_comment"), ["ticket_id", "body"]);
        assert_eq!(required("tickets.assign"), ["ticket_id", "user_id"]);
        assert_eq!(required("tickets.change_status"), ["ticket_id", "status"]);
        assert_eq!(required("notifications.send_email"), ["user_id", "body"]);
        assert_eq!(required("http.request"), ["method", "url"]);
        let mut names: Vec<&str> = ACTIONS.iter().map(|a| a.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ACTIONS.len(), "names are unique");
    }
}
