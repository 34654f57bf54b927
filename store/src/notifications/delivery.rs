//! Postgres side of notifications: settings, preferences, templates, in-app rows and the log.

use crate::tenant::begin_for as begin_tenant;
use psa_domain::email_job::{EmailJob, EmailOutcome};
use psa_domain::events::Envelope;
use psa_domain::ids::new_id;
use psa_domain::notifications::billing::{self, BillingDocument, ClientCard};
use psa_domain::notifications::{self, Channel, Rendered, Template, TemplateError};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
use uuid::Uuid;

/// Why an e-mail's log row could not be claimed for sending.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    /// Another attempt holds the row: it is sending this message now.
    #[error("another attempt is sending this message")]
    InProgress,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Store(#[from] crate::error::StoreError),
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

/// Who a message goes to: a user (whose preferences apply and whose address `users` holds), or
/// a client's billing contact (with the address to use).
struct Recipient {
    id: Uuid,
    contact_email: Option<String>,
}

/// The outcome of [`NotificationStore::plan`].
struct Planned {
    tx: Transaction<'static, Postgres>,
    subtype: &'static str,
    recipients: Vec<Recipient>,
    chosen: ChosenTemplate,
    rendered: Rendered,
}

#[derive(Clone)]
pub struct NotificationStore {
    pool: PgPool,
}

impl NotificationStore {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// What every channel decides first: whether the event goes out on `channel` at all, its
    /// subtype, its recipients, whether the tenant's switches let it through, and the rendered
    /// template. `None` when nobody is to be notified. The returned transaction is the
    /// tenant's, still open.
    async fn plan(&self, env: &Envelope, channel: Channel) -> Result<Option<Planned>, NotifyError> {
        if !notifications::channel_allowed(env, channel) {
            return Ok(None);
        }
        let Some(subtype) = notifications::subtype_for(&env.event) else {
            return Ok(None);
        };
        let client = billing::billing_client(&env.event);
        let contact = notifications::addressed_contact(&env.event);
        let users = notifications::direct_recipients(env);
        // A client's contact has no inbox here: billing events go out by e-mail only.
        if client.is_some_and(|_| channel == Channel::InApp)
            || (client.is_none() && contact.is_none() && users.is_empty())
        {
            return Ok(None);
        }
        let mut tx = begin_tenant(&self.pool, env.tenant_id).await?;
        if !subtype_enabled(&mut tx, env.tenant_id, subtype).await? {
            return Ok(None);
        }
        let (recipients, doc) = match (client, contact) {
            (Some(client), _) => match billing_audience(&mut tx, env, client).await? {
                Some((contact, doc)) => (vec![contact], Some(doc)),
                None => return Ok(None),
            },
            (None, Some(contact)) => match contact_address(&mut tx, contact).await? {
                Some(contact) => (vec![contact], None),
                None => return Ok(None),
            },
            (None, None) => {
                let users = users.into_iter().map(|id| Recipient {
                    id,
                    contact_email: None,
                });
                (users.collect(), None)
            }
        };
        let (chosen, rendered) = render(&mut tx, env, subtype, doc.as_ref()).await?;
        Ok(Some(Planned {
            tx,
            subtype,
            recipients,
            chosen,
            rendered,
        }))
    }

    /// Whether `env` is addressed to anyone by e-mail: a user it names, or for a billing event a
    /// client billing contact with an address. Asked before an e-mail run is started, so the
    /// invoices of clients nobody is to be told of start none.
    pub async fn emails_anyone(&self, env: &Envelope) -> Result<bool, NotifyError> {
        let client = billing::billing_client(&env.event);
        let contact = notifications::addressed_contact(&env.event);
        if client.is_none() && contact.is_none() {
            return Ok(!notifications::direct_recipients(env).is_empty());
        }
        let mut tx = begin_tenant(&self.pool, env.tenant_id).await?;
        let addressed = match (client, contact) {
            (Some(client), _) => billing_contact(&mut tx, client).await?.is_some(),
            (None, Some(contact)) => contact_address(&mut tx, contact).await?.is_some(),
            (None, None) => false,
        };
        tx.commit().await?;
        Ok(addressed)
    }

    /// Writes the in-app notifications `env` calls for, once per (event, recipient): a
    /// redelivered event finds its rows and adds nothing. Returns how many were added.
    pub async fn deliver_in_app(&self, env: &Envelope) -> Result<usize, NotifyError> {
        let Some(Planned {
            mut tx,
            subtype,
            recipients,
            chosen,
            rendered,
        }) = self.plan(env, Channel::InApp).await?
        else {
            return Ok(0);
        };
        let ticket_id = env.event.ticket_id();
        let mut added = 0;
        for Recipient { id: user, .. } in recipients {
            if !wants(&mut tx, user, subtype, Channel::InApp).await? {
                continue;
            }
            let inserted = sqlx::query!(
                "INSERT INTO in_app_notifications (tenant_id, id, user_id, subtype_code, title, body, ticket_id, event_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                 ON CONFLICT (tenant_id, event_id, user_id) DO NOTHING",
                env.tenant_id,
                new_id(),
                user,
                subtype,
                rendered.subject,
                rendered.text,
                ticket_id,
                env.event_id,
            )
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if inserted == 1 {
                added += 1;
                log(&mut tx, env, user, Channel::InApp, "sent", subtype, &chosen).await?;
            }
        }
        tx.commit().await?;
        Ok(added)
    }

    /// The e-mails `env` calls for, rendered, each recorded as queued. A recipient whose
    /// e-mail for this event was already sent is left out, so a re-planned event sends nothing
    /// twice.
    pub async fn plan_emails(&self, env: &Envelope) -> Result<Vec<EmailJob>, NotifyError> {
        Ok(self.plan_emails_then(env, false).await?.0)
    }

    /// [`Self::plan_emails`] and, when there is an e-mail to send, [`Self::reserve_send_slot`]
    /// for the first, in one transaction: the jobs, and the milliseconds to wait before asking
    /// for the first one's slot again (0 when it was taken, or there are no jobs).
    pub async fn plan_emails_reserving(
        &self,
        env: &Envelope,
    ) -> Result<(Vec<EmailJob>, u64), NotifyError> {
        self.plan_emails_then(env, true).await
    }

    async fn plan_emails_then(
        &self,
        env: &Envelope,
        reserve: bool,
    ) -> Result<(Vec<EmailJob>, u64), NotifyError> {
        let Some(Planned {
            mut tx,
            subtype,
            recipients,
            chosen,
            rendered,
        }) = self.plan(env, Channel::Email).await?
        else {
            return Ok((Vec::new(), 0));
        };
        let from = sqlx::query_scalar!(
            "SELECT from_address FROM tenant_notification_settings WHERE tenant_id = $1",
            env.tenant_id,
        )
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        let mut jobs = Vec::new();
        for Recipient {
            id: user,
            contact_email,
        } in recipients
        {
            let to = match contact_email {
                Some(address) => address,
                None => {
                    if !wants(&mut tx, user, subtype, Channel::Email).await? {
                        continue;
                    }
                    let address = sqlx::query_scalar!(
                        "SELECT email FROM users WHERE id = $1 AND active",
                        user
                    )
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some(address) = address else { continue };
                    address
                }
            };
            log(
                &mut tx,
                env,
                user,
                Channel::Email,
                "queued",
                subtype,
                &chosen,
            )
            .await?;
            let status = sqlx::query_scalar!(
                "SELECT status FROM notification_log WHERE event_id = $1 AND recipient_id = $2 AND channel = $3",
                env.event_id,
                user,
                Channel::Email.as_str(),
            )
            .fetch_one(&mut *tx)
            .await?;
            if status == "sent" {
                continue;
            }
            let Rendered {
                subject,
                html,
                text,
            } = rendered.clone();
            jobs.push(EmailJob {
                tenant_id: env.tenant_id,
                event_id: env.event_id,
                recipient_id: user,
                to,
                from: from.clone(),
                subject,
                html,
                text,
                message_id: format!("<{}.{}@psa>", env.event_id, user),
            });
        }
        // Last, so the budget row the reservation updates stays locked only until the commit.
        let wait_ms = match reserve && !jobs.is_empty() {
            true => reserve_in(&mut tx, env.tenant_id).await?,
            false => 0,
        };
        tx.commit().await?;
        Ok((jobs, wait_ms))
    }

    /// Takes one e-mail from the tenant's budget for the current minute. Returns 0 when taken,
    /// else the milliseconds until the next minute, when the caller should ask again.
    pub async fn reserve_send_slot(&self, tenant: Uuid) -> Result<u64, sqlx::Error> {
        let mut tx = begin_tenant(&self.pool, tenant).await?;
        let wait_ms = reserve_in(&mut tx, tenant).await?;
        tx.commit().await?;
        Ok(wait_ms)
    }

    /// Locks the e-mail's log row and marks it sent, in a transaction the caller commits once
    /// the SMTP server has accepted the message (and drops, rolling back, when it has not).
    /// `None` when the log already has it as sent. Holding the row lock across the SMTP
    /// exchange means a second attempt waits for the first instead of sending beside it, and
    /// after the server's acceptance only the commit remains, so the window in which a crash
    /// makes a retry send again is one round trip long.
    pub async fn claim_email(
        &self,
        job: &EmailJob,
    ) -> Result<Option<Transaction<'static, Postgres>>, ClaimError> {
        self.try_claim_email(job).await.map_err(|e| match &e {
            // lock_not_available: the lock timeout below ran out.
            sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03") => {
                ClaimError::InProgress
            }
            _ => ClaimError::Database(e),
        })
    }

    async fn try_claim_email(
        &self,
        job: &EmailJob,
    ) -> Result<Option<Transaction<'static, Postgres>>, sqlx::Error> {
        let mut tx = begin_tenant(&self.pool, job.tenant_id).await?;
        // An attempt that finds another mid-send gives up after a while and is retried,
        // rather than holding a connection for as long as the other's SMTP exchange lasts.
        sqlx::query!("SET LOCAL lock_timeout = '5s'")
            .execute(&mut *tx)
            .await?;
        let status = sqlx::query_scalar!(
            "SELECT status FROM notification_log
             WHERE event_id = $1 AND recipient_id = $2 AND channel = $3 FOR UPDATE",
            job.event_id,
            job.recipient_id,
            Channel::Email.as_str(),
        )
        .fetch_optional(&mut *tx)
        .await?;
        if status.as_deref() == Some("sent") {
            tx.commit().await?;
            return Ok(None);
        }
        sqlx::query!(
            "UPDATE notification_log SET status = 'sent', error = NULL, sent_at = now()
             WHERE event_id = $1 AND recipient_id = $2 AND channel = $3",
            job.event_id,
            job.recipient_id,
            Channel::Email.as_str(),
        )
        .execute(&mut *tx)
        .await?;
        Ok(Some(tx))
    }

    /// Marks an e-mail sent, or failed with its error. A message already sent stays sent:
    /// a late failure report for it (a retried attempt after a crash) does not undo that.
    pub async fn record_email_outcome(&self, o: &EmailOutcome) -> Result<(), sqlx::Error> {
        let mut tx = begin_tenant(&self.pool, o.tenant_id).await?;
        sqlx::query!(
            "UPDATE notification_log
             SET status = CASE WHEN $3::text IS NULL THEN 'sent' ELSE 'failed' END,
                 error = $3, sent_at = CASE WHEN $3::text IS NULL THEN now() END
             WHERE event_id = $1 AND recipient_id = $2 AND channel = $4
               AND status <> 'sent'",
            o.event_id,
            o.recipient_id,
            o.error,
            Channel::Email.as_str(),
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}

/// [`NotificationStore::reserve_send_slot`] inside the tenant's transaction `conn`.
async fn reserve_in(conn: &mut PgConnection, tenant: Uuid) -> Result<u64, sqlx::Error> {
    let taken = sqlx::query_scalar!(
        "INSERT INTO notification_send_budget (tenant_id, minute, sent)
         VALUES ($1, date_trunc('minute', now()), 1)
         ON CONFLICT (tenant_id, minute) DO UPDATE SET sent = notification_send_budget.sent + 1
         WHERE notification_send_budget.sent <
               coalesce((SELECT rate_limit_per_minute FROM tenant_notification_settings WHERE tenant_id = $1), 60)
         RETURNING sent",
        tenant,
    )
    .fetch_optional(&mut *conn)
    .await?;
    let wait_ms = if taken.is_some() {
        0
    } else {
        // `extract` answers `numeric`: rounded up to whole milliseconds in SQL.
        let ms = sqlx::query_scalar!(
            r#"SELECT ceil(extract(epoch FROM date_trunc('minute', now()) + interval '1 minute' - now()) * 1000)::bigint
                   AS "ms!""#
        )
        .fetch_one(&mut *conn)
        .await?;
        // At least a little, so a caller never spins (and never below zero).
        ms.max(50).unsigned_abs()
    };
    Ok(wait_ms)
}

/// The billing contact of `client` as a recipient, with the client's name, when it has one
/// with an address.
async fn billing_contact(
    conn: &mut PgConnection,
    client: Uuid,
) -> Result<Option<(Recipient, String)>, sqlx::Error> {
    let row = sqlx::query!(
        r#"SELECT k.name, c.id AS "contact_id?", c.email AS "email?"
           FROM clients k LEFT JOIN contacts c ON c.id = k.billing_contact_id
           WHERE k.id = $1"#,
        client,
    )
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|row| {
        let email = row.email.filter(|e| !e.trim().is_empty())?;
        let contact = Recipient {
            id: row.contact_id?,
            contact_email: Some(email),
        };
        Some((contact, row.name))
    }))
}

/// A contact an event names, with its e-mail address; `None` when it is gone or has none.
async fn contact_address(
    conn: &mut PgConnection,
    contact: Uuid,
) -> Result<Option<Recipient>, sqlx::Error> {
    let email = sqlx::query_scalar!("SELECT email FROM contacts WHERE id = $1", contact)
        .fetch_optional(conn)
        .await?
        .flatten();
    Ok(email
        .filter(|e| !e.trim().is_empty())
        .map(|email| Recipient {
            id: contact,
            contact_email: Some(email),
        }))
}

/// The billing contact of `client` and what the message about `env` shows: the client's name
/// and the invoice the event is about.
async fn billing_audience(
    conn: &mut PgConnection,
    env: &Envelope,
    client: Uuid,
) -> Result<Option<(Recipient, BillingDocument)>, NotifyError> {
    let Some((contact, name)) = billing_contact(conn, client).await? else {
        return Ok(None);
    };
    let invoice = match billing::invoice_of(&env.event) {
        Some(id) => crate::billing::invoices::document(conn, id).await?,
        None => None,
    };
    let doc = BillingDocument {
        client: ClientCard { name },
        invoice,
    };
    Ok(Some((contact, doc)))
}

/// The tenant's (or system's) template for `subtype`, rendered with `env` (and `doc`). A
/// tenant's copy that does not render for this event (a field only some events have) does not
/// hold the message back: the standard template says it instead.
async fn render(
    conn: &mut PgConnection,
    env: &Envelope,
    subtype: &str,
    doc: Option<&BillingDocument>,
) -> Result<(ChosenTemplate, Rendered), NotifyError> {
    let ctx = billing::context_with(env, doc);
    let chosen = template(conn, env.tenant_id, subtype).await?;
    let failed = |chosen: &ChosenTemplate, error| NotifyError::Template {
        subtype: subtype.to_owned(),
        source_kind: chosen.source,
        version: chosen.version,
        error,
    };
    match chosen.template.render(&ctx) {
        Ok(rendered) => Ok((chosen, rendered)),
        Err(error) if chosen.source == "tenant" => {
            tracing::warn!(tenant = %env.tenant_id, subtype, version = chosen.version, %error,
                "the tenant's template does not render for this event; using the standard one");
            let standard = system_template(conn, subtype).await?;
            let rendered = standard
                .template
                .render(&ctx)
                .map_err(|e| failed(&standard, e))?;
            Ok((standard, rendered))
        }
        Err(error) => Err(failed(&chosen, error)),
    }
}

/// The tenant's switches: notifications on, the subtype's category on, the subtype on. Absent
/// rows mean on.
async fn subtype_enabled(
    conn: &mut PgConnection,
    tenant: Uuid,
    subtype: &str,
) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(
        r#"SELECT coalesce((SELECT enabled FROM tenant_notification_settings WHERE tenant_id = $1), true)
              AND coalesce((SELECT c.enabled FROM tenant_notification_categories c
                            JOIN notification_subtypes s ON s.category = c.category
                            WHERE c.tenant_id = $1 AND s.code = $2), true)
              AND coalesce((SELECT enabled FROM tenant_notification_subtypes
                            WHERE tenant_id = $1 AND subtype_code = $2), true) AS "enabled!""#,
        tenant,
        subtype,
    )
    .fetch_one(conn)
    .await
}

/// A user's preference for `channel`; absent means yes.
async fn wants(
    conn: &mut PgConnection,
    user: Uuid,
    subtype: &str,
    channel: Channel,
) -> Result<bool, sqlx::Error> {
    // One fixed query per channel: each has a column of its own.
    let pref = match channel {
        Channel::Email => {
            sqlx::query_scalar!(
                "SELECT email FROM user_notification_preferences WHERE user_id = $1 AND subtype_code = $2",
                user,
                subtype,
            )
            .fetch_optional(conn)
            .await?
        }
        Channel::InApp => {
            sqlx::query_scalar!(
                "SELECT in_app FROM user_notification_preferences WHERE user_id = $1 AND subtype_code = $2",
                user,
                subtype,
            )
            .fetch_optional(conn)
            .await?
        }
    };
    Ok(pref.unwrap_or(true))
}

/// A row of `tenant_email_templates` or `system_email_templates`.
struct StoredTemplate {
    subject: String,
    html: String,
    text: String,
    version: i32,
}

/// The tenant's template for `subtype`, else the system default.
pub async fn template(
    conn: &mut PgConnection,
    tenant: Uuid,
    subtype: &str,
) -> Result<ChosenTemplate, sqlx::Error> {
    let own = sqlx::query_as!(
        StoredTemplate,
        "SELECT subject, html, text, version FROM tenant_email_templates WHERE tenant_id = $1 AND subtype_code = $2",
        tenant,
        subtype,
    )
    .fetch_optional(&mut *conn)
    .await?;
    match own {
        Some(row) => Ok(chosen(row, "tenant")),
        None => system_template(conn, subtype).await,
    }
}

/// The standard template for `subtype`.
async fn system_template(
    conn: &mut PgConnection,
    subtype: &str,
) -> Result<ChosenTemplate, sqlx::Error> {
    let row = sqlx::query_as!(
        StoredTemplate,
        "SELECT subject, html, text, version FROM system_email_templates WHERE subtype_code = $1",
        subtype,
    )
    .fetch_one(&mut *conn)
    .await?;
    Ok(chosen(row, "system"))
}

fn chosen(row: StoredTemplate, source: &'static str) -> ChosenTemplate {
    let StoredTemplate {
        subject,
        html,
        text,
        version,
    } = row;
    ChosenTemplate {
        template: Template {
            subject,
            html,
            text,
        },
        source,
        version,
    }
}

/// Records a message in `notification_log`; the first record of (event, recipient, channel)
/// stands.
async fn log(
    conn: &mut PgConnection,
    env: &Envelope,
    user: Uuid,
    channel: Channel,
    status: &str,
    subtype: &str,
    t: &ChosenTemplate,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "INSERT INTO notification_log (tenant_id, id, event_id, recipient_id, channel, subtype_code,
                                       template_source, template_version, status, sent_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, CASE WHEN $9 = 'sent' THEN now() END)
         ON CONFLICT (tenant_id, event_id, recipient_id, channel) DO NOTHING",
        env.tenant_id,
        new_id(),
        env.event_id,
        user,
        channel.as_str(),
        subtype,
        t.source,
        t.version,
        status,
    )
    .execute(conn)
    .await?;
    Ok(())
}
