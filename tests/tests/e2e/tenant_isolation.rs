//! Tenant B's key can neither read, list, change nor detect tenant A's rows, through any
//! endpoint; and the database itself keeps every tenant table to the tenant the transaction
//! names. Both hold by construction: the tables come from the Postgres catalogue and the
//! endpoints from `/openapi.json`, so a new table or endpoint is checked without anyone listing
//! it here (`coverage_fixtures` says how to make its records and what to send it, and the tests
//! fail until it does).

use crate::coverage_fixtures::{Api, Caller, admin, mark};
use psa_protos::v1::ticket_service_client::TicketServiceClient;
use psa_protos::v1::{
    AddCommentRequest, GetTicketRequest, ListTicketsRequest, UpdateTicketRequest,
};
use psa_tests::{Parts, TestEnv, authed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::{Connection, PgPool};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Fewer tables than this with a `tenant_id` means the catalogue query went wrong (a schema
/// renamed, a column renamed), not that the tables went away: the checks must not pass on an
/// empty list.
const MIN_TENANT_TABLES: usize = 25;

/// A table with a `tenant_id` column, as the catalogue describes it.
#[derive(Debug, sqlx::FromRow)]
struct TenantTable {
    name: String,
    rls: bool,
    forced: bool,
    owner: String,
    /// `psa_app` is the owner or a member of the owner's role (so it could switch RLS off).
    app_owns: bool,
}

/// Every table of the public schema with a `tenant_id` column.
async fn tenant_tables(owner: &PgPool) -> Vec<TenantTable> {
    let tables: Vec<TenantTable> = sqlx::query_as(
        "SELECT c.relname::text AS name, c.relrowsecurity AS rls,
                c.relforcerowsecurity AS forced, pg_get_userbyid(c.relowner)::text AS owner,
                pg_has_role('psa_app', c.relowner, 'MEMBER') AS app_owns
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
            AND EXISTS (SELECT 1 FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attname = 'tenant_id'
                           AND a.attnum > 0 AND NOT a.attisdropped)
          ORDER BY 1",
    )
    .fetch_all(owner)
    .await
    .unwrap();
    assert!(
        tables.len() >= MIN_TENANT_TABLES,
        "only {} tables with a tenant_id: {:?}",
        tables.len(),
        tables.iter().map(|t| &t.name).collect::<Vec<_>>()
    );
    for t in &tables {
        // The names are pasted into the SQL below; the catalogue's own names are plain.
        assert!(
            t.name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{}",
            t.name
        );
    }
    tables
}

#[derive(Debug, sqlx::FromRow)]
struct Policy {
    table: String,
    name: String,
    permissive: bool,
    cmd: String,
    roles: Vec<String>,
    qual: Option<String>,
    with_check: Option<String>,
}

/// Whether a policy expression compares the row's `column` with the transaction's tenant.
fn names_the_tenant(expr: Option<&str>, column: &str) -> bool {
    let Some(expr) = expr else { return false };
    let setting = expr.contains("app_tenant()") || expr.contains("app.tenant_id");
    let rest = expr
        .replace("app.tenant_id", "")
        .replace("app_tenant()", "");
    setting && rest.contains(column)
}

/// Checks `table`'s policies. Exactly two: `tenant_isolation`, which applies to every role and
/// limits reads and writes to the transaction's tenant, and `schema_owner`, which lets the
/// table's owner (the migrating role, whose `SECURITY DEFINER` functions work across tenants by
/// design) through and applies to no one else. Permissive policies are OR-ed, so any other
/// one could undo the first.
fn check_policies(table: &str, column: &str, owner: &str, policies: &[Policy]) {
    let mine: Vec<&Policy> = policies.iter().filter(|p| p.table == table).collect();
    let mut names: Vec<&str> = mine.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["schema_owner", "tenant_isolation"],
        "{table}: policies {mine:?}"
    );
    for p in mine {
        assert!(p.permissive, "{table}: {p:?}");
        assert_eq!(p.cmd, "ALL", "{table}: {p:?}");
        if p.name == "schema_owner" {
            assert_eq!(
                p.roles,
                [owner],
                "{table}: schema_owner applies to others: {p:?}"
            );
            assert_ne!(owner, "psa_app", "{table}");
            continue;
        }
        assert_eq!(p.roles, ["public"], "{table}: {p:?}");
        assert!(
            names_the_tenant(p.qual.as_deref(), column),
            "{table}: {} does not limit reads to `{column} = app_tenant()`: {p:?}",
            p.name
        );
        // Without WITH CHECK, Postgres checks new rows against USING.
        let check = p.with_check.as_deref().or(p.qual.as_deref());
        assert!(
            names_the_tenant(check, column),
            "{table}: {} lets rows be written for another tenant: {p:?}",
            p.name
        );
    }
}

/// Per tenant table, a digest of the rows of `tenant` (owner view): what B's requests must
/// leave alone.
async fn fingerprint(
    owner: &PgPool,
    tables: &[TenantTable],
    tenant: Uuid,
) -> BTreeMap<String, String> {
    let mut parts: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "SELECT '{0}' AS t, md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) AS d
                   FROM {0} r WHERE tenant_id = $1",
                t.name
            )
        })
        .collect();
    parts.push(
        "SELECT 'tenants', md5(coalesce(string_agg(r::text, '|'), '')) FROM tenants r WHERE id = $1"
            .into(),
    );
    let rows: Vec<(String, String)> = sqlx::query_as(&parts.join(" UNION ALL "))
        .bind(tenant)
        .fetch_all(owner)
        .await
        .unwrap();
    rows.into_iter().collect()
}

/// Rows the worker writes and no endpoint does, so that every tenant table has rows of both
/// tenants when the app role's view of it is checked.
async fn insert_worker_rows(env: &TestEnv, tenant: &psa_tests::Tenant) {
    let s = &tenant.seeded;
    let ticket: Uuid = sqlx::query_scalar("SELECT id FROM tickets WHERE tenant_id = $1 LIMIT 1")
        .bind(s.tenant_id)
        .fetch_one(&env.owner)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO sla_audit_log (tenant_id, id, ticket_id, step_key, event, occurred_at)
         VALUES ($1, $2, $3, 'coverage', 'start', now())",
    )
    .bind(s.tenant_id)
    .bind(Uuid::now_v7())
    .bind(ticket)
    .execute(&env.owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO notification_log (tenant_id, id, event_id, recipient_id, channel,
                                       subtype_code, template_source, template_version, status)
         VALUES ($1, $2, $3, $4, 'email', 'ticket.assigned', 'system', 1, 'sent')",
    )
    .bind(s.tenant_id)
    .bind(Uuid::now_v7())
    .bind(Uuid::now_v7())
    .bind(s.technician_user_id)
    .execute(&env.owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO notification_send_budget (tenant_id, minute, sent)
         VALUES ($1, date_trunc('minute', now()), 1)",
    )
    .bind(s.tenant_id)
    .execute(&env.owner)
    .await
    .unwrap();
    // A reminder of one of the entries the API calls booked.
    sqlx::query(
        "INSERT INTO schedule_reminders (tenant_id, entry_id, occurrence_start, event_id)
         SELECT tenant_id, id, first_start, $2 FROM schedule_entries WHERE tenant_id = $1 LIMIT 1",
    )
    .bind(s.tenant_id)
    .bind(Uuid::now_v7())
    .execute(&env.owner)
    .await
    .unwrap();
    // A run's trace entry and its wait for an event, as its activities write them.
    sqlx::query(
        "INSERT INTO automation_run_steps (tenant_id, run_id, seq, entry)
         SELECT tenant_id, id, 0, '{}'::jsonb FROM automation_runs WHERE tenant_id = $1 LIMIT 1",
    )
    .bind(s.tenant_id)
    .execute(&env.owner)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO automation_waits (tenant_id, workflow_id, event_type, step, since)
         SELECT tenant_id, workflow_id, 'ticket.updated', 'hold', now()
           FROM automation_runs WHERE tenant_id = $1 LIMIT 1",
    )
    .bind(s.tenant_id)
    .execute(&env.owner)
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tenant_table_has_row_level_security_and_reads_nothing_without_a_tenant() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let api = Api::new(&env).await;
    // Rows in every table, for both tenants: every operation once as each tenant's admin,
    // then what only the worker writes.
    for tenant in [&env.a, &env.b] {
        let caller = admin(tenant);
        for op in api.ops.iter().filter(|o| o.is_api()) {
            let (path, body) = api
                .request_for(op, tenant, tenant.seeded.admin_user_id)
                .await;
            let a = api
                .send(&caller, op.method.clone(), &path, body.as_ref())
                .await;
            assert!(a.status.is_success(), "{op} as admin: {a}");
        }
        insert_worker_rows(&env, tenant).await;
    }

    let tables = tenant_tables(&env.owner).await;
    let policies: Vec<Policy> = sqlx::query_as(
        "SELECT tablename::text AS table, policyname::text AS name,
                permissive = 'PERMISSIVE' AS permissive, cmd, roles::text[] AS roles, qual,
                with_check
           FROM pg_policies WHERE schemaname = 'public'",
    )
    .fetch_all(&env.owner)
    .await
    .unwrap();
    let (superuser, bypass): (bool, bool) =
        sqlx::query_as("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = 'psa_app'")
            .fetch_one(&env.owner)
            .await
            .unwrap();
    assert!(!superuser && !bypass, "psa_app bypasses row-level security");
    for t in &tables {
        assert!(t.rls, "{}: row-level security is not enabled", t.name);
        assert!(
            !t.app_owns,
            "{}: owned by {}, which psa_app is or belongs to: it could switch RLS off",
            t.name, t.owner
        );
        check_policies(&t.name, "tenant_id", &t.owner, &policies);
    }
    // The root of every tenant's data is keyed by `id`.
    let tenants_owner: String = sqlx::query_scalar(
        "SELECT pg_get_userbyid(relowner)::text FROM pg_class WHERE oid = 'tenants'::regclass",
    )
    .fetch_one(&env.owner)
    .await
    .unwrap();
    check_policies("tenants", "id", &tenants_owner, &policies);
    // A view runs with its owner's rights, past RLS, unless it is `security_invoker`.
    let views: Vec<String> = sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE n.nspname = 'public' AND c.relkind IN ('v', 'm')
            AND EXISTS (SELECT 1 FROM pg_attribute a
                         WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
            AND (c.relkind = 'm' OR NOT coalesce('security_invoker=true' = ANY (c.reloptions), false))",
    )
    .fetch_all(&env.owner)
    .await
    .unwrap();
    assert!(
        views.is_empty(),
        "views that bypass row-level security: {views:?}"
    );

    // The application role, on a connection that names no tenant, reads nothing; naming tenant
    // A, it reads exactly A's rows and can write none of them over to B.
    let (ta, tb) = (env.a.seeded.tenant_id, env.b.seeded.tenant_id);
    let mut app = sqlx::PgConnection::connect(&env.app_database_url)
        .await
        .unwrap();
    let setting: Option<String> =
        sqlx::query_scalar("SELECT nullif(current_setting('app.tenant_id', true), '')")
            .fetch_one(&mut app)
            .await
            .unwrap();
    assert_eq!(setting, None, "a new connection names no tenant");
    let mut empty = Vec::new();
    for t in &tables {
        let name = &t.name;
        let (in_a, in_b): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*) FILTER (WHERE tenant_id = $1), count(*) FILTER (WHERE tenant_id = $2)
               FROM {name}"
        ))
        .bind(ta)
        .bind(tb)
        .fetch_one(&env.owner)
        .await
        .unwrap();
        if in_a == 0 || in_b == 0 {
            empty.push(format!("{name} (A: {in_a}, B: {in_b})"));
        }
        let seen: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {name}"))
            .fetch_one(&mut app)
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            seen, 0,
            "{name}: psa_app reads {seen} rows with no tenant set"
        );

        let mut tx = app.begin().await.unwrap();
        sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
            .bind(ta.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        let (own, others): (i64, i64) = sqlx::query_as(&format!(
            "SELECT count(*) FILTER (WHERE tenant_id = $1),
                    count(*) FILTER (WHERE tenant_id IS DISTINCT FROM $1) FROM {name}"
        ))
        .bind(ta)
        .fetch_one(&mut *tx)
        .await
        .unwrap();
        assert_eq!((own, others), (in_a, 0), "{name}: psa_app as tenant A");
        // Moving A's rows over to B is refused (on an empty table it would prove nothing:
        // those fail below).
        if in_a > 0 {
            let mut step = tx.begin().await.unwrap();
            let moved = sqlx::query(&format!("UPDATE {name} SET tenant_id = $1"))
                .bind(tb)
                .execute(&mut *step)
                .await;
            let Err(err) = moved else {
                panic!("{name}: psa_app moved tenant A's rows to tenant B");
            };
            assert!(
                err.to_string().contains("row-level security")
                    || err.to_string().contains("permission denied"),
                "{name}: {err}"
            );
            step.rollback().await.unwrap();
        }
        // The app role owns nothing, so it cannot switch row-level security off either.
        let mut step = tx.begin().await.unwrap();
        let disabled = sqlx::query(&format!("ALTER TABLE {name} DISABLE ROW LEVEL SECURITY"))
            .execute(&mut *step)
            .await;
        let Err(err) = disabled else {
            panic!("{name}: psa_app switched row-level security off");
        };
        assert!(err.to_string().contains("owner"), "{name}: {err}");
        step.rollback().await.unwrap();
        tx.rollback().await.unwrap();
    }
    assert!(
        empty.is_empty(),
        "tables without rows of both tenants, so the app role's view of them proves nothing: \
         {empty:?}; make a row through the API (coverage_fixtures.rs) or, for rows only the \
         worker writes, in insert_worker_rows"
    );
    // The tenants table itself.
    let seen: i64 = sqlx::query_scalar("SELECT count(*) FROM tenants")
        .fetch_one(&mut app)
        .await
        .unwrap();
    assert_eq!(
        seen, 0,
        "tenants: psa_app reads {seen} rows with no tenant set"
    );
    let mut tx = app.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(ta.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM tenants")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(ids, [ta]);
    tx.rollback().await.unwrap();
    drop(app);
    eprintln!(
        "row-level security checked on {} tenant tables and tenants",
        tables.len()
    );
    env.shutdown().await;
}

/// `FORCE ROW LEVEL SECURITY` makes the policies bind the tables' owner too, so the owner
/// reaches other tenants' rows only through its own `schema_owner` policy, written down per
/// table (checked above). The tests migrate as a superuser, which bypasses RLS even when forced:
/// this checks the flag itself.
#[tokio::test]
async fn every_tenant_table_forces_row_level_security() {
    let env = TestEnv::start(Parts::NONE).await.unwrap();
    let mut not_forced: Vec<String> = tenant_tables(&env.owner)
        .await
        .into_iter()
        .filter(|t| !t.forced)
        .map(|t| t.name)
        .collect();
    let tenants_forced: bool = sqlx::query_scalar(
        "SELECT relforcerowsecurity FROM pg_class WHERE oid = 'tenants'::regclass",
    )
    .fetch_one(&env.owner)
    .await
    .unwrap();
    if !tenants_forced {
        not_forced.push("tenants".into());
    }
    assert!(
        not_forced.is_empty(),
        "row-level security not forced on {not_forced:?}"
    );
    env.shutdown().await;
}

/// The answer as it would read for `from` in place of `to` (IDs appear in some answers).
fn with_id(answer: &Value, from: &str, to: &str) -> Value {
    serde_json::from_str(&answer.to_string().replace(from, to)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_path_with_a_parameter_answers_another_tenant_as_for_a_random_id() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let api = Api::new(&env).await;
    let (a, b): (Caller, Caller) = (admin(&env.a), admin(&env.b));
    let a_user = env.a.seeded.admin_user_id;
    let b_user = env.b.seeded.admin_user_id;
    let swept: Vec<_> = api
        .ops
        .iter()
        .filter(|o| o.is_api() && o.parameter().is_some())
        .collect();
    assert!(
        swept.len() >= 30,
        "only {} operations with a parameter",
        swept.len()
    );

    // One record of each kind in tenant A.
    let mut records: BTreeMap<&str, String> = BTreeMap::new();
    for op in &swept {
        let collection = op.collection().unwrap();
        if !records.contains_key(collection) {
            let key = api.create(&env.a, collection, a_user).await;
            records.insert(collection, key);
        }
    }
    let tables = tenant_tables(&env.owner).await;
    let rows_before = fingerprint(&env.owner, &tables, env.a.seeded.tenant_id).await;

    let (mut by_id, mut by_code) = (0, 0);
    for op in &swept {
        let collection = op.collection().unwrap();
        let key = &records[collection];
        let seen_before = api.read_back(&a, collection, key).await;
        // The same valid body (in B's terms) for every ID, so the answer is about the ID.
        let body = api.body(op, &env.b);
        let theirs = api
            .send(&b, op.method.clone(), &op.path(key), body.as_ref())
            .await;
        // An occurrence's ID is its entry's and its date-time: an ID like any other.
        let occurrence = key
            .split_once('_')
            .filter(|(entry, _)| Uuid::parse_str(entry).is_ok());
        if Uuid::parse_str(key).is_ok() || occurrence.is_some() {
            by_id += 1;
            let random = match occurrence {
                Some((_, at)) => format!("{}_{at}", Uuid::new_v4()),
                None => Uuid::new_v4().to_string(),
            };
            let nowhere = api
                .send(&b, op.method.clone(), &op.path(&random), body.as_ref())
                .await;
            assert_eq!(
                theirs.status,
                StatusCode::NOT_FOUND,
                "{op} on tenant A's record, as tenant B: {theirs}"
            );
            assert_eq!(
                (theirs.status, &theirs.body),
                (nowhere.status, &with_id(&nowhere.body, &random, key)),
                "{op}: tenant B can tell tenant A's record from a random ID"
            );
            // The body was valid: B's own record of the kind takes it. Otherwise the 404s
            // above could be about the body, not the ID.
            let own = api.create(&env.b, collection, b_user).await;
            api.prepare(op, &env.b, &own).await;
            let mine = api
                .send(&b, op.method.clone(), &op.path(&own), body.as_ref())
                .await;
            assert!(
                mine.status.is_success(),
                "{op} on tenant B's own record: {mine}"
            );
        } else {
            // A code every tenant shares (a notification subtype or category): B reaches its
            // own state for it, never A's.
            by_code += 1;
            assert!(theirs.status.is_success(), "{op} as tenant B: {theirs}");
            assert!(
                !theirs.body.to_string().contains(&mark(&env.a)),
                "{op} as tenant B shows tenant A's state: {theirs}"
            );
        }
        assert_eq!(
            api.read_back(&a, collection, key).await,
            seen_before,
            "{op} as tenant B changed what tenant A reads"
        );
        let rows = fingerprint(&env.owner, &tables, env.a.seeded.tenant_id).await;
        let changed: Vec<&String> = rows
            .iter()
            .filter(|(t, d)| rows_before.get(*t) != Some(d))
            .map(|(t, _)| t)
            .collect();
        assert!(
            changed.is_empty(),
            "{op} as tenant B changed tenant A's rows in {changed:?}"
        );
    }

    // No list shows B anything of A's: not its records' IDs, nor the names they were given.
    let s = &env.a.seeded;
    let mut a_ids: Vec<String> = records
        .values()
        .filter(|k| Uuid::parse_str(k).is_ok())
        .cloned()
        .collect();
    a_ids.extend(
        [
            s.client_id,
            s.contact_id,
            s.board_id,
            s.admin_user_id,
            s.technician_user_id,
        ]
        .into_iter()
        .chain(s.priority_ids.iter().copied())
        .chain([s.status_new, s.status_closed])
        .map(|id| id.to_string()),
    );
    let mut lists = 0;
    for op in api
        .ops
        .iter()
        .filter(|o| o.is_api() && o.method == Method::GET && o.parameter().is_none())
    {
        lists += 1;
        let page = api.send(&b, Method::GET, &op.path(""), None).await;
        assert!(page.status.is_success(), "{op} as tenant B: {page}");
        let text = page.body.to_string();
        assert!(
            !text.contains(&mark(&env.a)),
            "{op} shows tenant B tenant A's names: {text}"
        );
        for id in &a_ids {
            assert!(
                !text.contains(id),
                "{op} shows tenant B tenant A's {id}: {text}"
            );
        }
    }
    eprintln!(
        "cross-tenant sweep: {} operations on {} paths ({by_id} by record ID, {by_code} by \
         shared code), {} kinds of record, {lists} lists",
        swept.len(),
        swept
            .iter()
            .map(|o| o.template.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        records.len()
    );
    env.shutdown().await;
}

/// What the sweep does not reach: IDs of another tenant inside a body, and the gRPC API.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_ids_in_bodies_and_over_grpc_are_refused() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let (a, b) = (&env.a, &env.b);
    let sa = &a.seeded;
    let ticket = env
        .ok(
            Method::POST,
            "/v1/tickets",
            &a.key,
            &json!({ "title": "Alpha's secret", "client_id": sa.client_id }),
        )
        .await;
    let t = ticket["id"].as_str().unwrap().to_owned();
    let before = env.count("tickets").await;

    // Referring to A's rows from B's own writes is refused as a made-up ID would be.
    let r = env
        .req(Method::POST, "/v1/tickets", &b.key)
        .json(&json!({ "title": "sneaky", "board_id": sa.board_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "board_id");
    let r = env
        .req(Method::POST, "/v1/contacts", &b.key)
        .json(&json!({ "name": "sneaky", "client_id": sa.client_id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Over gRPC too.
    let mut grpc = TicketServiceClient::connect(format!("http://{}", env.edge().grpc_addr))
        .await
        .unwrap();
    let e = grpc
        .get_ticket(authed(&b.key, GetTicketRequest { id: t.clone() }))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let e = grpc
        .update_ticket(authed(
            &b.key,
            UpdateTicketRequest {
                id: t.clone(),
                title: Some("pwned".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let e = grpc
        .add_comment(authed(
            &b.key,
            AddCommentRequest {
                ticket_id: t.clone(),
                body: "hi".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::NotFound);
    let list = grpc
        .list_tickets(authed(&b.key, ListTicketsRequest::default()))
        .await
        .unwrap()
        .into_inner();
    assert!(list.tickets.is_empty());

    // Nothing of A's changed.
    assert_eq!(env.count("tickets").await, before);
    let title: String = sqlx::query_scalar("SELECT title FROM tickets")
        .fetch_one(&env.owner)
        .await
        .unwrap();
    assert_eq!(title, "Alpha's secret");
    assert_eq!(env.count("ticket_comments").await, 0);
    env.shutdown().await;
}
