//! Re-timing open tickets after an SLA configuration change, as one durable job per tenant.
//!
//! A change to schedules, holidays, policies, their assignment or a status's `pauses_sla` may
//! move every open ticket's deadlines. Writing one event per open ticket inside the request's
//! transaction made a configuration write cost as much as the tenant's whole backlog and let a
//! burst of writes flood the outbox. Instead the request records that a re-time is due
//! ([`request`], one row per tenant, migration `sla_retime_jobs`), and a runner beside the
//! outbox relay walks the open tickets a page at a time, each page in its own transaction
//! (one `ticket.updated`, changed `sla_policy`, per ticket: each clock re-reads its policy and
//! ignores it when nothing changed for it). The job survives crashes (its lease expires and
//! another runner resumes from the cursor), and changes during a pass cost one more pass, not
//! one pass each. The edge runs the runner loop (`edge/src/sla/retime.rs`).

use crate::error::StoreError;
use crate::outbox;
use crate::principal::Principal;
use crate::tenant;
use crate::tickets;
use psa_domain::auth::Role;
use psa_domain::events::Event;
use psa_domain::notifications::SLA_POLICY_CHANGE;
use sqlx::{PgConnection, PgPool};

/// Open tickets re-timed per transaction.
pub const PAGE: i64 = 200;
/// Pages one claim re-times before the job goes back in line.
const PAGES_PER_TURN: u32 = 25;
/// How long a runner holds a job between pages before another may take it over.
const LEASE_SECONDS: i32 = 30;

/// Records, in the caller's transaction, that `p`'s tenant needs its open tickets re-timed.
pub async fn request(conn: &mut PgConnection, p: &Principal) -> Result<(), StoreError> {
    sqlx::query!(
        "INSERT INTO sla_retime_jobs (tenant_id, requested_by) VALUES ($1, $2)
         ON CONFLICT (tenant_id) DO UPDATE
         SET generation = sla_retime_jobs.generation + 1, requested_at = now(), requested_by = $2",
        p.tenant_id,
        p.key_id
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Claims one waiting job and runs it to the end; `false` when none was waiting.
pub async fn round(pool: &PgPool) -> Result<bool, StoreError> {
    // The function's columns are its job row's keys, never NULL.
    let claimed = sqlx::query!(
        r#"SELECT tenant_id AS "tenant_id!", requested_by AS "requested_by!"
             FROM sla_retime_claim($1)"#,
        LEASE_SECONDS
    )
    .fetch_optional(pool)
    .await?;
    let Some(claimed) = claimed else {
        return Ok(false);
    };
    let (tenant_id, requested_by) = (claimed.tenant_id, claimed.requested_by);
    // The events carry the key whose change caused them; the role only opens the transaction.
    let p = Principal {
        tenant_id,
        key_id: requested_by,
        role: Role::Admin,
        user_id: None,
        client_id: None,
    };
    let mut total = 0i64;
    for pages in 1.. {
        let (n, next) = page(pool, &p).await?;
        total += n;
        if next != Next::Page {
            break;
        }
        // A long pass gives up its turn now and then (and its lease, so any runner may take
        // it on from the cursor): other tenants' jobs, and a shutdown, wait one turn at most.
        if pages == PAGES_PER_TURN {
            let mut tx = tenant::begin(pool, &p).await?;
            sqlx::query!("UPDATE sla_retime_jobs SET lease_until = NULL")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            break;
        }
    }
    tracing::info!(%tenant_id, tickets = total, "open tickets re-timed after an SLA change");
    Ok(true)
}

/// What follows a page.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// The pass goes on from the page's last ticket.
    Page,
    /// The pass ended but changes came during it: the job waits, unleased, for its next
    /// claim (by requested time), so one tenant's stream of changes cannot hold the runner.
    Pass,
    /// Nothing left: the job is deleted.
    Done,
}

/// Re-times one page of the job's pass: how many tickets, and what follows.
async fn page(pool: &PgPool, p: &Principal) -> Result<(i64, Next), StoreError> {
    let mut tx = tenant::begin(pool, p).await?;
    // The row lock orders this page against a change arriving now (see `request`).
    let job = sqlx::query!(
        "SELECT generation, pass_generation, after_ticket FROM sla_retime_jobs FOR UPDATE"
    )
    .fetch_optional(&mut *tx)
    .await?;
    let Some(job) = job else {
        tx.commit().await?;
        return Ok((0, Next::Done));
    };
    let (generation, mut pass_generation, after) =
        (job.generation, job.pass_generation, job.after_ticket);
    if after.is_none() {
        pass_generation = generation;
    }
    let ids = sqlx::query_scalar!(
        "SELECT id FROM tickets WHERE closed_at IS NULL AND ($1::uuid IS NULL OR id > $1)
         ORDER BY id LIMIT $2",
        after,
        PAGE
    )
    .fetch_all(&mut *tx)
    .await?;
    for id in &ids {
        tickets::emit(&mut tx, p, *id, |ticket| Event::TicketUpdated {
            ticket,
            changed: vec![SLA_POLICY_CHANGE.into()],
        })
        .await?;
    }
    // At most `PAGE` (the query's limit), so it always fits.
    let n = i64::try_from(ids.len()).map_err(StoreError::internal)?;
    let last = ids.last().copied();
    let pass_over = n < PAGE;
    if pass_over && generation == pass_generation {
        sqlx::query!("DELETE FROM sla_retime_jobs")
            .execute(&mut *tx)
            .await?;
        outbox::commit(tx, pool).await?;
        return Ok((n, Next::Done));
    }
    // Either the page was full (go on from its last ticket, lease renewed) or a change came
    // during this pass (one more from the beginning, at the job's next claim).
    sqlx::query!(
        "UPDATE sla_retime_jobs
         SET after_ticket = $1, pass_generation = $2, done = done + $3,
             lease_until = CASE WHEN $5 THEN NULL ELSE now() + make_interval(secs => $4) END",
        if pass_over { None } else { last },
        pass_generation,
        n,
        // `make_interval` takes its seconds as a double.
        f64::from(LEASE_SECONDS),
        pass_over
    )
    .execute(&mut *tx)
    .await?;
    outbox::commit(tx, pool).await?;
    Ok((n, if pass_over { Next::Pass } else { Next::Page }))
}
