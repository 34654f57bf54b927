//! Postgres side of notifications: settings, preferences, templates, in-app rows and the log.

use crate::db::begin_tenant;
use psa_domain::events::Envelope;
use psa_domain::ids::new_id;
use psa_domain::notifications::{self, Template, TemplateError};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("template {subtype} ({source_kind} v{version}) does not render: {error}")]
    Template {
        subtype: String,
        source_kind: &'static str,
        version: i32,
        error: TemplateError,
    },
}

/// A template as chosen for a tenant: its own copy if it has one, else the system's.
#[derive(Debug, Clone)]
pub struct ChosenTemplate {
    pub template: Template,
    pub source: &'static str,
    pub version: i32,
}

#[derive(Clone)]
pub struct NotificationStore {
    pool: PgPool,
}

impl NotificationStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// Writes the in-app notifications `env` calls for, once per (event, recipient): a
    /// redelivered event finds its rows and adds nothing. Returns how many were added.
    pub async fn deliver_in_app(&self, env: &Envelope) -> Result<usize, NotifyError> {
        let Some(subtype) = notifications::subtype_for(&env.event) else {
            return Ok(0);
        };
        let recipients = notifications::direct_recipients(env);
        if recipients.is_empty() {
            return Ok(0);
        }
        let mut tx = begin_tenant(&self.pool, env.tenant_id).await?;
        if !subtype_enabled(&mut tx, env.tenant_id, subtype).await? {
            return Ok(0);
        }
        let chosen = template(&mut tx, env.tenant_id, subtype).await?;
        let rendered = chosen
            .template
            .render(&notifications::context(env))
            .map_err(|error| NotifyError::Template {
                subtype: subtype.to_owned(),
                source_kind: chosen.source,
                version: chosen.version,
                error,
            })?;
        let ticket_id = env.event.ticket().map(|t| t.ticket_id);
        let mut added = 0;
        for user in recipients {
            if !wants(&mut tx, user, subtype, "in_app").await? {
                continue;
            }
            let inserted = sqlx::query(
                "INSERT INTO in_app_notifications (tenant_id, id, user_id, subtype_code, title, body, ticket_id, event_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (tenant_id, event_id, user_id) DO NOTHING",
            )
            .bind(env.tenant_id)
            .bind(new_id())
            .bind(user)
            .bind(subtype)
            .bind(&rendered.subject)
            .bind(&rendered.text)
            .bind(ticket_id)
            .bind(env.event_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                added += 1;
                log(&mut tx, env, user, subtype, &chosen).await?;
            }
        }
        tx.commit().await?;
        Ok(added)
    }
}

/// The tenant's switches: notifications on, the subtype's category on, the subtype on. Absent
/// rows mean on.
async fn subtype_enabled(
    conn: &mut PgConnection,
    tenant: Uuid,
    subtype: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT coalesce((SELECT enabled FROM tenant_notification_settings WHERE tenant_id = $1), true)
            AND coalesce((SELECT c.enabled FROM tenant_notification_categories c
                          JOIN notification_subtypes s ON s.category = c.category
                          WHERE c.tenant_id = $1 AND s.code = $2), true)
            AND coalesce((SELECT enabled FROM tenant_notification_subtypes
                          WHERE tenant_id = $1 AND subtype_code = $2), true)",
    )
    .bind(tenant)
    .bind(subtype)
    .fetch_one(conn)
    .await
}

/// A user's preference for `channel` (`email` or `in_app`); absent means yes.
async fn wants(
    conn: &mut PgConnection,
    user: Uuid,
    subtype: &str,
    channel: &str,
) -> Result<bool, sqlx::Error> {
    let column = if channel == "email" {
        "email"
    } else {
        "in_app"
    };
    let pref: Option<bool> = sqlx::query_scalar(&format!(
        "SELECT {column} FROM user_notification_preferences WHERE user_id = $1 AND subtype_code = $2"
    ))
    .bind(user)
    .bind(subtype)
    .fetch_optional(conn)
    .await?;
    Ok(pref.unwrap_or(true))
}

/// The tenant's template for `subtype`, else the system default.
pub async fn template(
    conn: &mut PgConnection,
    tenant: Uuid,
    subtype: &str,
) -> Result<ChosenTemplate, sqlx::Error> {
    let own: Option<(String, String, String, i32)> = sqlx::query_as(
        "SELECT subject, html, text, version FROM tenant_email_templates WHERE tenant_id = $1 AND subtype_code = $2",
    )
    .bind(tenant)
    .bind(subtype)
    .fetch_optional(&mut *conn)
    .await?;
    let (row, source) = match own {
        Some(row) => (row, "tenant"),
        None => (
            sqlx::query_as("SELECT subject, html, text, version FROM system_email_templates WHERE subtype_code = $1")
                .bind(subtype)
                .fetch_one(&mut *conn)
                .await?,
            "system",
        ),
    };
    let (subject, html, text, version) = row;
    Ok(ChosenTemplate {
        template: Template {
            subject,
            html,
            text,
        },
        source,
        version,
    })
}

async fn log(
    conn: &mut PgConnection,
    env: &Envelope,
    user: Uuid,
    subtype: &str,
    t: &ChosenTemplate,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notification_log (tenant_id, id, event_id, recipient_id, channel, subtype_code,
                                       template_source, template_version, status, sent_at)
         VALUES ($1, $2, $3, $4, 'in_app', $5, $6, $7, 'sent', now())
         ON CONFLICT (tenant_id, event_id, recipient_id, channel) DO NOTHING",
    )
    .bind(env.tenant_id)
    .bind(new_id())
    .bind(env.event_id)
    .bind(user)
    .bind(subtype)
    .bind(t.source)
    .bind(t.version)
    .execute(conn)
    .await?;
    Ok(())
}
