//! Bounds on the Handlebars templates users write, checked before any template is parsed or
//! rendered.
//!
//! A template is user input that becomes computation: partials can call themselves, the parser
//! and renderer recurse once per level of nesting, and loops multiply. Any of those, unchecked,
//! can overflow a thread's stack (which aborts the whole process, not just the request) or run
//! for as long as the sender likes. So a template is accepted only when its cost is bounded by
//! its shape: a size cap, no partials or decorators (the only way to recurse), shallow nesting
//! of brackets, blocks and `else` chains, and an output cap enforced while rendering.

use handlebars::template::{Parameter, Template, TemplateElement};
use serde::Serialize;
use std::io;

/// Largest template part accepted, in bytes.
pub const MAX_TEMPLATE_BYTES: usize = 100_000;
/// Deepest nesting of `(`, `[` and `{` anywhere in a part (mustaches count as two).
pub const MAX_BRACKET_DEPTH: usize = 24;
/// Deepest nesting of block helpers (`{{#if}}`, `{{#each}}`, ...), `else` branches included.
pub const MAX_BLOCK_DEPTH: usize = 8;
/// Deepest nesting of `{{#each}}` loops, so loops cannot multiply their work.
pub const MAX_LOOP_DEPTH: usize = 2;
/// Most `{{else}}` / `{{^}}` tags in one part.
pub const MAX_ELSE_TAGS: usize = 64;
/// Largest rendered part, in bytes.
pub const MAX_OUTPUT_BYTES: usize = 1_000_000;

/// Why a template part is refused. The message is meant for the person who wrote it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LimitError(pub String);

/// Checks the source text before the parser sees it: the parser recurses once per level of
/// nesting, so depth is bounded here, on bytes, where counting cannot itself recurse.
pub fn check_source(source: &str) -> Result<(), LimitError> {
    if source.len() > MAX_TEMPLATE_BYTES {
        return Err(LimitError(format!(
            "must be at most {MAX_TEMPLATE_BYTES} bytes"
        )));
    }
    let bytes = source.as_bytes();
    let (mut brackets, mut blocks, mut elses) = (0usize, 0usize, 0usize);
    for (i, b) in bytes.iter().enumerate() {
        match b {
            b'(' | b'[' | b'{' => {
                brackets += 1;
                if brackets > MAX_BRACKET_DEPTH {
                    return Err(LimitError(format!(
                        "nests brackets deeper than {MAX_BRACKET_DEPTH} levels"
                    )));
                }
            }
            b')' | b']' | b'}' => brackets = brackets.saturating_sub(1),
            _ => {}
        }
        // Bytes, not `&str` slices: `i` need not be on a character boundary.
        if !bytes[i..].starts_with(b"{{") {
            continue;
        }
        // The tag's first significant character, after `{{` and an optional `~`.
        let mut rest = &bytes[i + 2..];
        while let [b'~', tail @ ..] = rest {
            rest = tail;
        }
        if rest.starts_with(b"#") {
            blocks += 1;
            if blocks > MAX_BLOCK_DEPTH {
                return Err(LimitError(format!(
                    "nests blocks deeper than {MAX_BLOCK_DEPTH} levels"
                )));
            }
        } else if rest.starts_with(b"/") {
            blocks = blocks.saturating_sub(1);
        } else if rest.starts_with(b"^") || rest.trim_ascii_start().starts_with(b"else") {
            elses += 1;
            if elses > MAX_ELSE_TAGS {
                return Err(LimitError(format!(
                    "has more than {MAX_ELSE_TAGS} else branches"
                )));
            }
        }
    }
    Ok(())
}

/// Checks a parsed template: no partials or decorators, and block and loop nesting within
/// bounds (an `else if` chain nests in the parsed form, so it counts here as well).
pub fn check_parsed(template: &Template) -> Result<(), LimitError> {
    walk(template, 0, 0)
}

fn walk(template: &Template, blocks: usize, loops: usize) -> Result<(), LimitError> {
    for element in &template.elements {
        match element {
            TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
                return Err(LimitError("may not use partials ({{> ...}})".into()));
            }
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
                return Err(LimitError(
                    "may not use decorators or inline partials ({{* ...}})".into(),
                ));
            }
            TemplateElement::HelperBlock(helper) => {
                let blocks = blocks + 1;
                let is_loop = matches!(&helper.name, Parameter::Name(n) if n == "each");
                let loops = loops + usize::from(is_loop);
                if blocks > MAX_BLOCK_DEPTH {
                    return Err(LimitError(format!(
                        "nests blocks deeper than {MAX_BLOCK_DEPTH} levels"
                    )));
                }
                if loops > MAX_LOOP_DEPTH {
                    return Err(LimitError(format!(
                        "nests {{{{#each}}}} loops deeper than {MAX_LOOP_DEPTH} levels"
                    )));
                }
                for inner in [&helper.template, &helper.inverse].into_iter().flatten() {
                    walk(inner, blocks, loops)?;
                }
            }
            TemplateElement::RawString(_)
            | TemplateElement::HtmlExpression(_)
            | TemplateElement::Expression(_)
            | TemplateElement::Comment(_) => {}
            // A kind of element this code does not know cannot be shown to be bounded.
            _ => return Err(LimitError("uses an unsupported template element".into())),
        }
    }
    Ok(())
}

/// Renders one part within the bounds above: the source is checked, parsed, checked again,
/// and rendered into a buffer that refuses to grow past [`MAX_OUTPUT_BYTES`].
pub fn render_bounded<T: Serialize>(
    registry: &handlebars::Handlebars<'_>,
    source: &str,
    data: &T,
) -> Result<String, LimitError> {
    check_source(source)?;
    let parsed = Template::compile(source).map_err(|e| LimitError(e.to_string()))?;
    check_parsed(&parsed)?;
    let mut out = CappedBuffer::default();
    registry
        .render_template_to_write(source, data, &mut out)
        .map_err(|e| {
            if out.overflowed {
                LimitError(format!("renders to more than {MAX_OUTPUT_BYTES} bytes"))
            } else {
                LimitError(e.to_string())
            }
        })?;
    String::from_utf8(out.bytes).map_err(|e| LimitError(e.to_string()))
}

/// A writer that fails once its content would pass the output cap, which stops the renderer.
#[derive(Default)]
struct CappedBuffer {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl io::Write for CappedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_OUTPUT_BYTES {
            self.overflowed = true;
            return Err(io::Error::other("output limit reached"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use handlebars::Handlebars;
    use serde_json::json;

    fn render(source: &str, data: serde_json::Value) -> Result<String, String> {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        render_bounded(&hb, source, &data).map_err(|e| e.0)
    }

    #[test]
    fn ordinary_templates_render() {
        let data = json!({"ticket": {"title": "Printer", "tags": ["a", "b"]}, "n": [1, 2]});
        assert_eq!(
            render(
                "{{#if ticket.title}}T: {{ticket.title}}{{else}}none{{/if}}",
                data.clone()
            ),
            Ok("T: Printer".into())
        );
        assert_eq!(
            render(
                "{{#each ticket.tags}}{{#each ../n}}{{this}}{{/each}}{{/each}}",
                data
            ),
            Ok("1212".into())
        );
        assert_eq!(
            render("<style>p { color: red; }</style>", json!({})),
            Ok("<style>p { color: red; }</style>".into())
        );
        // Multi-byte characters anywhere, next to tags too.
        assert_eq!(
            render(
                "é{{#if a}}ü{{~else~}}ß{{/if}}\u{10FFFF}",
                json!({"a": true})
            ),
            Ok("éü\u{10FFFF}".into())
        );
        assert_eq!(render("\u{81}", json!({})), Ok("\u{81}".into()));
    }

    #[test]
    fn recursion_is_refused_before_it_starts() {
        for (source, expect) in [
            (r#"{{#*inline "p"}}{{> p}}{{/inline}}{{> p}}"#, "decorators"),
            ("{{> header}}", "partials"),
            ("{{#> layout}}x{{/layout}}", "partials"),
            ("{{*log}}", "decorators"),
        ] {
            let err = render(source, json!({})).expect_err(source);
            assert!(err.contains(expect), "{source}: {err}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_overflowing_the_stack() {
        let parens = format!("{{{{x {}y{}}}}}", "(a ".repeat(20_000), ")".repeat(20_000));
        assert!(render(&parens, json!({})).unwrap_err().contains("brackets"));
        let blocks = format!("{}x{}", "{{#if a}}".repeat(5_000), "{{/if}}".repeat(5_000));
        assert!(render(&blocks, json!({})).unwrap_err().contains("blocks"));
        let chain = format!("{{{{#if a}}}}{}{{{{/if}}}}", "{{else if a}}x".repeat(5_000));
        assert!(render(&chain, json!({})).unwrap_err().contains("else"));
        let array = format!("{{{{x {}}}}}", "[".repeat(10_000));
        assert!(render(&array, json!({})).unwrap_err().contains("brackets"));
    }

    #[test]
    fn the_limits_hold_exactly_at_their_bounds() {
        let nine = format!("{}x{}", "{{#if a}}".repeat(9), "{{/if}}".repeat(9));
        assert!(render(&nine, json!({"a": true})).is_err());
        let eight = format!("{}x{}", "{{#if a}}".repeat(8), "{{/if}}".repeat(8));
        assert_eq!(render(&eight, json!({"a": true})), Ok("x".into()));
        let three_loops = "{{#each a}}{{#each ../a}}{{#each ../../a}}x{{/each}}{{/each}}{{/each}}";
        assert!(
            render(three_loops, json!({"a": [1]}))
                .unwrap_err()
                .contains("loops")
        );
        let big = "x".repeat(MAX_TEMPLATE_BYTES + 1);
        assert!(render(&big, json!({})).unwrap_err().contains("bytes"));
    }

    #[test]
    fn output_is_capped_while_rendering() {
        let data = json!({"a": (0..1000).collect::<Vec<_>>(), "s": "y".repeat(1000)});
        let err = render(
            "{{#each a}}{{#each ../a}}{{../../s}}{{/each}}{{/each}}",
            data,
        )
        .expect_err("1000 x 1000 x 1000 bytes");
        assert!(err.contains("renders to more than"), "{err}");
    }
}
