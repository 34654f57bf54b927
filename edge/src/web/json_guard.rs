//! Checks on a JSON body's raw bytes, made before it is parsed into anything.
//!
//! Two things no per-field validation can catch reliably: nesting depth (the parser recurses
//! per level, and a deep body costs memory and time before any field is looked at) and U+0000
//! (`\u0000`), which Postgres refuses in text columns, so a NUL in any string, even one no rule
//! looks at, would surface as a 500. One linear pass over the bytes settles both; only a body
//! that holds a NUL is parsed again, to name the field at fault.

use crate::web::error::ApiError;
use psa_domain::validation::NUL_MESSAGE;
use serde_json::Value;

/// Deepest nesting of arrays and objects a body may have. Our deepest request (an SLA policy
/// with targets, or a schedule with windows) needs 4.
pub const MAX_JSON_DEPTH: usize = 32;

/// Refuses a body nested deeper than [`MAX_JSON_DEPTH`] or holding a NUL in any string.
pub fn check(body: &[u8]) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut nul) = (0usize, false, false);
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if in_string {
            match b {
                b'\\' => {
                    // `\u0000` is the only way a NUL enters a JSON string (a raw 0x00 byte is a
                    // syntax error the parser reports).
                    if body[i + 1..].starts_with(b"u0000") {
                        nul = true;
                    }
                    i += 1; // skip the escaped character
                }
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_JSON_DEPTH {
                        return Err(ApiError::bad_request(
                            format!("JSON is nested deeper than {MAX_JSON_DEPTH} levels"),
                            Some("body"),
                        ));
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        i += 1;
    }
    if nul {
        let field = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|v| nul_path(&v, String::new()))
            .unwrap_or_else(|| "body".to_owned());
        return Err(ApiError::invalid(&field, NUL_MESSAGE));
    }
    Ok(())
}

/// The path (`schedule.hours[0].start`) of the first string, or key, holding a NUL.
fn nul_path(value: &Value, at: String) -> Option<String> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(s) if s.contains('\0') => {
            Some(if at.is_empty() { "body".into() } else { at })
        }
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "")))
            } else {
                nul_path(v, join(k))
            }
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field_of(body: &str) -> Option<String> {
        match check(body.as_bytes()) {
            Ok(()) => None,
            Err(ApiError::Invalid(v)) => Some(v.0[0].field.clone()),
            Err(e) => Some(format!("other: {e}")),
        }
    }

    #[test]
    fn a_nul_anywhere_is_named_by_its_path() {
        assert_eq!(field_of(r#"{"title":"a\u0000b"}"#), Some("title".into()));
        assert_eq!(
            field_of(r#"{"hours":[{"start":"x"},{"start":"\u0000"}]}"#),
            Some("hours[1].start".into())
        );
        assert_eq!(field_of(r#"{"a\u0000":1}"#), Some("a".into()));
        assert_eq!(field_of(r#""\u0000""#), Some("body".into()));
    }

    #[test]
    fn an_escaped_backslash_before_u0000_is_not_a_nul() {
        assert_eq!(field_of(r#"{"title":"C:\\u0000"}"#), None);
        assert_eq!(field_of(r#"{"title":"\"\u0041"}"#), None);
        assert_eq!(field_of(r#"{"title":"\\\u0000"}"#), Some("title".into()));
    }

    #[test]
    fn depth_is_capped_and_brackets_in_strings_do_not_count() {
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH),
            "]".repeat(MAX_JSON_DEPTH)
        );
        assert!(check(ok.as_bytes()).is_ok());
        let deep = format!(
            "{}{}",
            "[".repeat(MAX_JSON_DEPTH + 1),
            "]".repeat(MAX_JSON_DEPTH + 1)
        );
        assert!(matches!(
            check(deep.as_bytes()),
            Err(ApiError::BadRequest { .. })
        ));
        let unclosed = "[".repeat(1_000_000);
        assert!(check(unclosed.as_bytes()).is_err());
        let quoted = format!(r#"{{"t":"{}"}}"#, "[".repeat(1000));
        assert!(check(quoted.as_bytes()).is_ok());
    }
}
