//! `scripts/bench invoice-run`: how fast an invoice run bills a tenant. Prints figures; asserts
//! nothing.
//!
//! For each size in `--clients` (default 2500,10000) a tenant of that many clients, each on a
//! contract of 5 lines (a monthly fee, two hourly services, a bucket of hours, a product) with
//! `--entries` (default 20) approved time entries in the month billed, is written straight to
//! Postgres; then the run `invoice-run:{tenant}:2026-11` is started on the Temporal dev server
//! and timed from its start to its completion (the last invoice committed): seconds, invoices
//! per second, and the cost per invoice, which should stay flat as the tenant grows. The
//! worker runs in this process (its own thread and runtime, like the harness's): the process's
//! peak RSS is the worker's. `--batch` and `--parallel` set the run's batch size and batches
//! at once.

use psa_domain::billing::run::{InvoiceRunInput, RunProgress};
use psa_domain::ids::invoice_run_workflow_id;
use psa_tests::bench::{arg, list_arg, machine, peak_rss_mib, rss_mib, start_worker};
use psa_tests::{Parts, TestEnv};
use psa_workflows::invoice_run::InvoiceRunWorkflow;
use sqlx::PgPool;
use std::time::Instant;
use temporalio_client::{WorkflowGetResultOptions, WorkflowStartOptions};
use uuid::Uuid;

/// Writes `clients` clients on one 5-line contract with `entries` approved entries each, in
/// tenant `tenant` (whose seeded technician does the work); answers how long it took.
async fn seed(
    owner: &PgPool,
    tenant: Uuid,
    worker: Uuid,
    clients: usize,
    entries: usize,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let mut tx = owner.begin().await?;
    let service = |name: &str, unit: &str, rate: &str| {
        let id = Uuid::now_v7();
        let q = sqlx::query(
            "INSERT INTO services (tenant_id, id, name, unit, rates)
             VALUES ($1, $2, $3, $4, jsonb_build_object('USD', $5::text))",
        )
        .bind(tenant)
        .bind(id)
        .bind(name.to_owned())
        .bind(unit.to_owned())
        .bind(rate.to_owned());
        (id, q)
    };
    let (helpdesk, q) = service("Bench helpdesk", "hour", "120.00");
    q.execute(&mut *tx).await?;
    let (onsite, q) = service("Bench on-site", "hour", "165.00");
    q.execute(&mut *tx).await?;
    let (projects, q) = service("Bench projects", "hour", "140.00");
    q.execute(&mut *tx).await?;
    let contract = Uuid::now_v7();
    sqlx::query("INSERT INTO contracts (tenant_id, id, name) VALUES ($1, $2, 'Bench contract')")
        .bind(tenant)
        .bind(contract)
        .execute(&mut *tx)
        .await?;
    let lines = [
        ("fixed", None, r#"{"amount": "450.00"}"#),
        (
            "hourly",
            Some(helpdesk),
            r#"{"minimum_minutes": 15, "round_up_to_minutes": 15}"#,
        ),
        ("hourly", Some(onsite), r#"{"minimum_minutes": 60}"#),
        (
            "bucket",
            Some(projects),
            r#"{"included_minutes": 600, "fee": "1200.00", "overage_rate": "150.00"}"#,
        ),
        (
            "product",
            None,
            r#"{"unit_price": "12.50", "quantity": "8"}"#,
        ),
    ];
    for (position, (kind, service, terms)) in lines.into_iter().enumerate() {
        sqlx::query(
            "INSERT INTO contract_lines (tenant_id, id, contract_id, position, kind, service_id,
                 terms)
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)",
        )
        .bind(tenant)
        .bind(Uuid::now_v7())
        .bind(contract)
        .bind(i32::try_from(position)?)
        .bind(kind)
        .bind(service)
        .bind(terms)
        .execute(&mut *tx)
        .await?;
    }
    let client_ids: Vec<Uuid> = (0..clients).map(|_| Uuid::now_v7()).collect();
    sqlx::query(
        "INSERT INTO clients (tenant_id, id, name)
         SELECT $1, id, 'Bench client ' || n FROM unnest($2::uuid[]) WITH ORDINALITY AS c(id, n)",
    )
    .bind(tenant)
    .bind(&client_ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO client_contracts (tenant_id, id, client_id, contract_id, start_date,
             currency, billing_cycle, timing)
         SELECT $1, gen_random_uuid(), id, $3, '2026-01-01', 'USD', 'monthly', 'arrears'
         FROM unnest($2::uuid[]) AS c(id)",
    )
    .bind(tenant)
    .bind(&client_ids)
    .bind(contract)
    .execute(&mut *tx)
    .await?;
    // Work in October across the three hourly services, from 20 minutes to 3 hours.
    sqlx::query(
        "INSERT INTO time_entries (tenant_id, id, worker_id, client_id, service_id, work_date,
             minutes)
         SELECT $1, gen_random_uuid(), $3, c.id,
                (ARRAY[$4, $5, $6]::uuid[])[1 + k % 3],
                date '2026-10-01' + (k % 31), 20 + (k * 37) % 160
         FROM unnest($2::uuid[]) AS c(id), generate_series(0, $7 - 1) AS k",
    )
    .bind(tenant)
    .bind(&client_ids)
    .bind(worker)
    .bind(helpdesk)
    .bind(onsite)
    .bind(projects)
    .bind(i32::try_from(entries)?)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO timesheets (tenant_id, id, worker_id, period_start, period_end, status,
             approver_id, submitted_at, decided_at, decided_by)
         VALUES ($1, $2, $3, '2026-10-01', '2026-11-01', 'approved', $3, now(), now(), $3)",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(worker)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(owner).await?;
    Ok(started.elapsed().as_secs_f64())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let sizes = list_arg(&args, "--clients", &[2_500, 10_000]);
    let entries = arg(&args, "--entries", 20);
    let batch = u32::try_from(arg(&args, "--batch", 100))?;
    let parallel = u32::try_from(arg(&args, "--parallel", 4))?;
    println!("{}", machine());
    println!(
        "invoice run: {entries} approved time entries and 5 contract lines per client; batches \
         of {batch} clients, {parallel} at once"
    );

    let mut per_invoice = Vec::new();
    for clients in sizes {
        // A fresh database per size, so each run starts from the same state.
        let env = TestEnv::start(Parts::NONE).await?;
        let s = env.a.seeded.clone();
        let seeded = seed(
            &env.owner,
            s.tenant_id,
            s.technician_user_id,
            clients,
            entries,
        )
        .await?;
        let worker = start_worker(&env, |_| Ok(()));
        let rss_before = rss_mib();
        let client = env.temporal().await?;
        let period = "2026-11";
        let workflow_id = invoice_run_workflow_id(s.tenant_id, period);
        let started = Instant::now();
        let handle = client
            .start_workflow(
                InvoiceRunWorkflow::run,
                InvoiceRunInput {
                    tenant_id: s.tenant_id,
                    period: period.to_owned(),
                    batch_size: batch,
                    parallel_batches: parallel,
                },
                WorkflowStartOptions::new(&env.task_queue, workflow_id.as_str()).build(),
            )
            .await?;
        let progress: RunProgress = handle
            .get_result(WorkflowGetResultOptions::default())
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        let invoices: i64 =
            sqlx::query_scalar("SELECT count(*) FROM invoices WHERE tenant_id = $1")
                .bind(s.tenant_id)
                .fetch_one(&env.owner)
                .await?;
        let items: i64 =
            sqlx::query_scalar("SELECT count(*) FROM invoice_items WHERE tenant_id = $1")
                .bind(s.tenant_id)
                .fetch_one(&env.owner)
                .await?;
        let ms_per_invoice = seconds * 1000.0 / (invoices.max(1) as f64);
        per_invoice.push((clients, ms_per_invoice));
        println!(
            "{clients} clients (seeded in {seeded:.1} s): {invoices} invoices ({items} items) in \
             {seconds:.1} s = {:.0} invoices/s, {ms_per_invoice:.2} ms each; run status {} \
             ({} done, {} failed); worker RSS {rss_before:.0} MiB before, peak {:.0} MiB",
            invoices as f64 / seconds,
            progress.status,
            progress.done,
            progress.failed.len(),
            peak_rss_mib(),
        );
        worker.stop().await;
        env.shutdown().await;
    }
    if let (Some(first), Some(last)) = (per_invoice.first(), per_invoice.last())
        && first.0 != last.0
    {
        println!(
            "cost per invoice at {} clients / at {} clients: {:.2} (1.00 is linear growth)",
            last.0,
            first.0,
            last.1 / first.1
        );
    }
    Ok(())
}
