//! Tenant B's key can neither read, list, change nor detect tenant A's rows, through any
//! endpoint; and the database itself reads nothing when no tenant is set.

use psa_protos::v1::ticket_service_client::TicketServiceClient;
use psa_protos::v1::{
    AddCommentRequest, GetTicketRequest, ListTicketsRequest, UpdateTicketRequest,
};
use psa_tests::{Parts, TestEnv, authed};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_rows_are_invisible_and_untouchable() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let (a, b) = (&env.a, &env.b);
    let ticket: Value = env
        .req(Method::POST, "/v1/tickets", &a.key)
        .json(&json!({ "title": "Alpha's secret", "client_id": a.seeded.client_id }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let t = ticket["id"].as_str().unwrap().to_owned();
    let sa = &a.seeded;
    let before = env.count("tickets").await;

    // Every read and write on A's rows answers B exactly as for an ID that does not exist.
    let probes: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, format!("/v1/tickets/{t}"), None),
        (
            Method::PATCH,
            format!("/v1/tickets/{t}"),
            Some(json!({ "title": "pwned" })),
        ),
        (
            Method::POST,
            format!("/v1/tickets/{t}/status"),
            Some(json!({ "status_id": b.seeded.status_in_progress })),
        ),
        (
            Method::POST,
            format!("/v1/tickets/{t}/assign"),
            Some(json!({ "assignee_id": null })),
        ),
        (
            Method::POST,
            format!("/v1/tickets/{t}/close"),
            Some(json!({})),
        ),
        (Method::GET, format!("/v1/tickets/{t}/comments"), None),
        (
            Method::POST,
            format!("/v1/tickets/{t}/comments"),
            Some(json!({ "body": "hi" })),
        ),
        (Method::GET, format!("/v1/clients/{}", sa.client_id), None),
        (
            Method::PATCH,
            format!("/v1/clients/{}", sa.client_id),
            Some(json!({ "name": "x" })),
        ),
        (Method::GET, format!("/v1/contacts/{}", sa.contact_id), None),
        (
            Method::PATCH,
            format!("/v1/contacts/{}", sa.contact_id),
            Some(json!({ "name": "x" })),
        ),
        (Method::GET, format!("/v1/boards/{}", sa.board_id), None),
        (
            Method::PATCH,
            format!("/v1/boards/{}", sa.board_id),
            Some(json!({ "name": "x" })),
        ),
        (
            Method::GET,
            format!("/v1/priorities/{}", sa.priority_ids[0]),
            None,
        ),
        (Method::GET, format!("/v1/statuses/{}", sa.status_new), None),
        (
            Method::PATCH,
            format!("/v1/statuses/{}", sa.status_new),
            Some(json!({ "name": "x" })),
        ),
    ];
    let missing = uuid::Uuid::now_v7();
    for (method, path, body) in probes {
        let send = |path: String| {
            let mut r = env.req(method.clone(), &path, &b.key);
            if let Some(body) = &body {
                r = r.json(body);
            }
            r.send()
        };
        let theirs = send(path.clone()).await.unwrap();
        let status = theirs.status();
        let theirs_body: Value = theirs.json().await.unwrap();
        // The same request for an ID that exists nowhere.
        let nowhere_path = path
            .replace(&t, &missing.to_string())
            .replace(&sa.client_id.to_string(), &missing.to_string());
        let nowhere = send(nowhere_path).await.unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_eq!(
            nowhere.status(),
            StatusCode::NOT_FOUND,
            "{method} {path} (nowhere)"
        );
        assert_eq!(theirs_body["detail"], "not found");
    }

    // Referring to A's rows from B's own writes is refused the same way as a made-up ID.
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

    // Lists show only B's own rows.
    for path in [
        "/v1/tickets",
        "/v1/clients",
        "/v1/contacts",
        "/v1/boards",
        "/v1/priorities",
        "/v1/statuses",
        "/v1/users",
    ] {
        let page: Value = env
            .req(Method::GET, path, &b.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let text = page.to_string();
        for a_id in [
            t.clone(),
            sa.client_id.to_string(),
            sa.contact_id.to_string(),
            sa.board_id.to_string(),
            sa.admin_user_id.to_string(),
        ] {
            assert!(!text.contains(&a_id), "{path} leaks {a_id}");
        }
    }
    let b_tickets: Value = env
        .req(Method::GET, "/v1/tickets", &b.key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(b_tickets["items"].as_array().unwrap().len(), 0);

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

#[tokio::test]
async fn the_application_role_reads_nothing_without_a_tenant() {
    let env = TestEnv::start(Parts::NONE).await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&env.app_database_url)
        .await
        .unwrap();
    for table in [
        "tenants",
        "clients",
        "users",
        "api_keys",
        "boards",
        "priorities",
        "statuses",
        "contacts",
    ] {
        let n: i64 = sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(n, 0, "{table} without app.tenant_id");
    }
    // With a tenant set, exactly that tenant's rows.
    let mut tx = conn.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.tenant_id', $1, true)")
        .bind(env.a.seeded.tenant_id.to_string())
        .execute(&mut *tx)
        .await
        .unwrap();
    let boards: Vec<uuid::Uuid> = sqlx::query_scalar("SELECT id FROM boards")
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    assert_eq!(boards, vec![env.a.seeded.board_id]);
    // Writing a row for another tenant is refused by the policy's check.
    let err = sqlx::query("INSERT INTO boards (tenant_id, id, name) VALUES ($1, $2, 'smuggled')")
        .bind(env.b.seeded.tenant_id)
        .bind(uuid::Uuid::now_v7())
        .execute(&mut *tx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("row-level security"), "{err}");
    drop(tx);
    // The application role owns nothing, so it cannot switch row-level security off.
    let err = sqlx::query("ALTER TABLE tickets DISABLE ROW LEVEL SECURITY")
        .execute(&mut conn)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("owner"), "{err}");
    drop(conn);
    env.shutdown().await;
}
