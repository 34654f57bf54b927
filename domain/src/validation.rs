//! Field-level validation errors shared by every write.
//!
//! A request that can be wrong gets an error naming the field at fault; the edge maps these to
//! `problem+json` (HTTP) or `INVALID_ARGUMENT` (gRPC) in one place.

use std::fmt;

/// One field that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Path of the field in the request body, e.g. `title`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every field error of one request, so a caller can fix them all at once.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        write!(f, "{}", parts.join("; "))
    }
}

impl ValidationErrors {
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// `Ok(())` when nothing was pushed.
    pub fn into_result(self) -> Result<(), ValidationErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// The message for text holding U+0000, which Postgres cannot store in a text column.
pub const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// Checks a required free-text field: trimmed, non-empty, at most `max` characters, no NUL.
pub fn text(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) {
    if value.trim().is_empty() {
        errors.push(field, "must not be empty");
    } else {
        optional_text(errors, field, Some(value), max);
    }
}

/// Checks an optional free-text field: when present, at most `max` characters and no NUL.
pub fn optional_text(errors: &mut ValidationErrors, field: &str, value: Option<&str>, max: usize) {
    let Some(v) = value else { return };
    if v.contains('\0') {
        errors.push(field, NUL_MESSAGE);
    } else if v.chars().count() > max {
        errors.push(field, format!("must be at most {max} characters"));
    }
}

/// Checks a text field that is not free text (a code, a key, a name to look up): no NUL, at
/// most `max` characters, may be empty.
pub fn token(errors: &mut ValidationErrors, field: &str, value: &str, max: usize) {
    optional_text(errors, field, Some(value), max);
}

/// Checks an e-mail address for the shape `local@domain.tld`; deliverability is not our call.
pub fn optional_email(errors: &mut ValidationErrors, field: &str, value: Option<&str>) {
    let Some(v) = value else { return };
    let ok = v.len() <= 254
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
        && v.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if !ok {
        errors.push(field, "must be an e-mail address");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(f: impl FnOnce(&mut ValidationErrors)) -> Vec<String> {
        let mut e = ValidationErrors::default();
        f(&mut e);
        e.0.into_iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn text_rules() {
        assert_eq!(check(|e| text(e, "title", "ok", 5)), Vec::<String>::new());
        assert_eq!(
            check(|e| text(e, "title", "  ", 5)),
            ["title: must not be empty"]
        );
        assert_eq!(
            check(|e| text(e, "title", "abcdef", 5)),
            ["title: must be at most 5 characters"]
        );
        // Counted in characters, not bytes.
        assert_eq!(
            check(|e| text(e, "title", "ééééé", 5)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn nul_is_refused_in_every_text_check() {
        let nul = "a\0b";
        assert_eq!(
            check(|e| text(e, "t", nul, 10)),
            [format!("t: {NUL_MESSAGE}")]
        );
        assert_eq!(
            check(|e| optional_text(e, "t", Some(nul), 10)),
            [format!("t: {NUL_MESSAGE}")]
        );
        assert_eq!(
            check(|e| token(e, "t", nul, 10)),
            [format!("t: {NUL_MESSAGE}")]
        );
        assert_eq!(
            check(|e| optional_email(e, "t", Some("a\0@b.co"))),
            ["t: must be an e-mail address"]
        );
        assert!(check(|e| token(e, "t", "", 10)).is_empty());
    }

    #[test]
    fn email_rules() {
        for good in ["a@b.co", "first.last+tag@example.org"] {
            assert!(
                check(|e| optional_email(e, "email", Some(good))).is_empty(),
                "{good}"
            );
        }
        for bad in ["", "a", "a@b", "@b.co", "a b@c.de", "a@.co", "a@co."] {
            assert_eq!(
                check(|e| optional_email(e, "email", Some(bad))),
                ["email: must be an e-mail address"],
                "{bad}"
            );
        }
        assert!(check(|e| optional_email(e, "email", None)).is_empty());
    }

    #[test]
    fn into_result_is_ok_only_when_empty() {
        assert!(ValidationErrors::default().into_result().is_ok());
        let mut e = ValidationErrors::default();
        e.push("x", "bad");
        assert_eq!(e.into_result().unwrap_err().to_string(), "x: bad");
    }
}
