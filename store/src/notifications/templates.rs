//! Notification templates: the system defaults and the tenant's own copies.
//!
//! A template is checked by rendering it against a sample event of its subtype before it is
//! saved, so a template that would fail (bad syntax, a field the event lacks) is refused with
//! the part and the reason, never discovered when a message is due.

use crate::compute;
use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use psa_domain::auth::Permission;
use psa_domain::notifications::{Rendered, Template, sample_context};
use psa_domain::template_limits::MAX_TEMPLATE_BYTES;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TemplateView {
    pub subtype: String,
    pub category: String,
    pub name: String,
    /// `system` (the shipped default) or `tenant` (this tenant's copy).
    pub source: String,
    pub version: i32,
    pub subject: String,
    pub html: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateInput {
    /// Handlebars; at most 100,000 bytes.
    #[schema(max_length = 100000)]
    pub subject: String,
    /// Handlebars; at most 100,000 bytes.
    #[schema(max_length = 100000)]
    pub html: String,
    /// Handlebars; at most 100,000 bytes.
    #[schema(max_length = 100000)]
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Preview {
    pub subject: String,
    pub html: String,
    pub text: String,
}

/// The effective template of every subtype, in the subtypes' order, or of the one named.
async fn effective_templates(
    conn: &mut PgConnection,
    subtype: Option<&str>,
) -> Result<Vec<TemplateView>, sqlx::Error> {
    sqlx::query_as!(
        TemplateView,
        r#"SELECT s.code AS subtype, s.category, s.name,
                  CASE WHEN t.subtype_code IS NULL THEN 'system' ELSE 'tenant' END AS "source!",
                  coalesce(t.version, d.version) AS "version!",
                  coalesce(t.subject, d.subject) AS "subject!",
                  coalesce(t.html, d.html) AS "html!",
                  coalesce(t.text, d.text) AS "text!"
           FROM notification_subtypes s
           JOIN system_email_templates d ON d.subtype_code = s.code
           LEFT JOIN tenant_email_templates t ON t.subtype_code = s.code
           WHERE $1::text IS NULL OR s.code = $1
           ORDER BY s.position"#,
        subtype,
    )
    .fetch_all(conn)
    .await
}

async fn effective(conn: &mut PgConnection, subtype: &str) -> Result<TemplateView, StoreError> {
    effective_templates(conn, Some(subtype))
        .await?
        .into_iter()
        .next()
        .ok_or(StoreError::NotFound)
}

pub async fn list(pool: &PgPool, p: &Principal) -> Result<Vec<TemplateView>, StoreError> {
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = effective_templates(&mut tx, None).await?;
    tx.commit().await?;
    Ok(rows)
}

pub async fn get(pool: &PgPool, p: &Principal, subtype: &str) -> Result<TemplateView, StoreError> {
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let t = effective(&mut tx, subtype).await?;
    tx.commit().await?;
    Ok(t)
}

/// Gives the tenant its own copy of the system template, to edit; a copy it already has is
/// returned as it is.
pub async fn clone_to_tenant(
    pool: &PgPool,
    p: &Principal,
    subtype: &str,
) -> Result<TemplateView, StoreError> {
    p.require(Permission::ManageNotifications)?;
    let mut tx = tenant::begin(pool, p).await?;
    sqlx::query!(
        "INSERT INTO tenant_email_templates (tenant_id, subtype_code, subject, html, text)
         SELECT $1, subtype_code, subject, html, text FROM system_email_templates WHERE subtype_code = $2
         ON CONFLICT (tenant_id, subtype_code) DO NOTHING",
        p.tenant_id,
        subtype,
    )
    .execute(&mut *tx)
    .await?;
    let t = effective(&mut tx, subtype).await?;
    tx.commit().await?;
    Ok(t)
}

/// Renders `t` against the subtype's sample event; errors name the part at fault. Rendering
/// runs off the async runtime with a time limit (`compute`), within `template_limits`.
async fn check(subtype: &str, t: Template) -> Result<(Template, Rendered), StoreError> {
    let sample = sample_context(subtype).ok_or(StoreError::NotFound)?;
    let mut e = ValidationErrors::default();
    for (part, value) in [
        ("subject", &t.subject),
        ("html", &t.html),
        ("text", &t.text),
    ] {
        if value.len() > MAX_TEMPLATE_BYTES {
            e.push(part, format!("must be at most {MAX_TEMPLATE_BYTES} bytes"));
        } else {
            validation::optional_text(&mut e, part, Some(value), MAX_TEMPLATE_BYTES);
        }
    }
    if t.subject.trim().is_empty() {
        e.push("subject", "must not be empty");
    }
    e.into_result()?;
    let rendered = compute::bounded("rendering the template", move || {
        let r = t.render(&sample);
        (t, r)
    })
    .await?;
    let (t, r) = rendered;
    let r = r.map_err(|err| {
        StoreError::invalid(err.part, format!("does not render: {}", err.message))
    })?;
    Ok((t, r))
}

/// Saves the tenant's version of a template after checking it renders; bumps its version.
pub async fn update(
    pool: &PgPool,
    p: &Principal,
    subtype: &str,
    input: TemplateInput,
) -> Result<TemplateView, StoreError> {
    p.require(Permission::ManageNotifications)?;
    let template = Template {
        subject: input.subject,
        html: input.html,
        text: input.text,
    };
    let (template, _) = check(subtype, template).await?;
    let mut tx = tenant::begin(pool, p).await?;
    effective(&mut tx, subtype).await?;
    sqlx::query!(
        "INSERT INTO tenant_email_templates (tenant_id, subtype_code, subject, html, text)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (tenant_id, subtype_code) DO UPDATE
         SET subject = $3, html = $4, text = $5, version = tenant_email_templates.version + 1, updated_at = now()",
        p.tenant_id,
        subtype,
        template.subject,
        template.html,
        template.text,
    )
    .execute(&mut *tx)
    .await?;
    let t = effective(&mut tx, subtype).await?;
    tx.commit().await?;
    Ok(t)
}

/// Renders the given template (or the effective one) against the subtype's sample event.
pub async fn preview(
    pool: &PgPool,
    p: &Principal,
    subtype: &str,
    input: Option<TemplateInput>,
) -> Result<Preview, StoreError> {
    p.require(Permission::ReadReference)?;
    let template = match input {
        Some(i) => Template {
            subject: i.subject,
            html: i.html,
            text: i.text,
        },
        None => {
            let t = get(pool, p, subtype).await?;
            Template {
                subject: t.subject,
                html: t.html,
                text: t.text,
            }
        }
    };
    let (_, r) = check(subtype, template).await?;
    Ok(Preview {
        subject: r.subject,
        html: r.html,
        text: r.text,
    })
}
