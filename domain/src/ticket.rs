//! Ticket rules that hold whichever API a change arrives through.

use crate::validation::{self, ValidationErrors};

pub const TITLE_MAX: usize = 500;
pub const DESCRIPTION_MAX: usize = 20_000;
pub const COMMENT_MAX: usize = 20_000;
pub const NAME_MAX: usize = 200;

/// Validates the free-text fields of a new or changed ticket. `title` is `None` when a patch
/// leaves it unchanged.
pub fn validate_ticket_text(
    title: Option<&str>,
    description: Option<&str>,
) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    if let Some(t) = title {
        validation::text(&mut e, "title", t, TITLE_MAX);
    }
    validation::optional_text(&mut e, "description", description, DESCRIPTION_MAX);
    e.into_result()
}

/// Validates a comment body.
pub fn validate_comment(body: &str) -> Result<(), ValidationErrors> {
    let mut e = ValidationErrors::default();
    validation::text(&mut e, "body", body, COMMENT_MAX);
    e.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_text() {
        assert!(validate_ticket_text(Some("Printer on fire"), None).is_ok());
        assert!(validate_ticket_text(None, Some("")).is_ok());
        let err =
            validate_ticket_text(Some(""), Some(&"x".repeat(DESCRIPTION_MAX + 1))).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["title", "description"]);
    }

    #[test]
    fn comment_body() {
        assert!(validate_comment("Rebooted it.").is_ok());
        assert_eq!(validate_comment(" \n").unwrap_err().0[0].field, "body");
    }
}
