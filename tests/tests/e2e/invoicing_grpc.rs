//! `psa.v1.InvoicingService`: invoices and money over gRPC against the real stack. A manual
//! invoice is drafted, changed and finalized (INV-00001), paid in part and then over (the rest
//! a credit), part refunded from the payment and from the credit, the balance adjusted; what
//! gRPC reads agrees with HTTP's GET of the same records, and the ledger reconciles. Settings
//! change, a dry run reports, and the errors are HTTP's: a bad decimal is INVALID_ARGUMENT
//! naming the field, an unknown or other tenant's ID NOT_FOUND, a technician PERMISSION_DENIED.
//! A real run start is recorded, and answers UNAVAILABLE while Temporal is away.

use psa_protos::v1 as pb;
use psa_protos::v1::invoicing_service_client::InvoicingServiceClient;
use psa_protos::v1::start_invoice_run_response::Result as Started;
use psa_tests::{Parts, TestEnv, authed};
use reqwest::Method;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

async fn client(addr: std::net::SocketAddr) -> InvoicingServiceClient<Channel> {
    InvoicingServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

fn item(description: &str, quantity: &str, unit_price: &str) -> pb::ManualInvoiceItem {
    pb::ManualInvoiceItem {
        description: description.into(),
        quantity: quantity.into(),
        unit_price: unit_price.into(),
        taxable: None,
    }
}

fn items() -> Vec<pb::ManualInvoiceItem> {
    vec![
        item("Server rebuild", "3", "95.50"),
        pb::ManualInvoiceItem {
            taxable: Some(false),
            ..item("Cables", "2", "4.995")
        },
    ]
}

fn id(v: &str) -> pb::BillingIdRequest {
    pb::BillingIdRequest { id: v.to_owned() }
}

/// The invoice as HTTP's JSON says it, field for field with the gRPC message.
fn assert_same_invoice(g: &pb::Invoice, h: &Value) {
    assert_eq!(h["id"], g.id.as_str(), "{h}");
    assert_eq!(h["client_id"], g.client_id.as_str());
    assert_eq!(h["number"].as_str(), g.number.as_deref());
    assert_eq!(h["status"], g.status.as_str());
    assert_eq!(h["source"], g.source.as_str());
    assert_eq!(h["currency"], g.currency.as_str());
    assert_eq!(h["invoice_date"], g.invoice_date.as_str());
    assert_eq!(h["due_date"], g.due_date.as_str());
    for (field, value) in [
        ("subtotal", &g.subtotal),
        ("tax_total", &g.tax_total),
        ("total", &g.total),
        ("credits_applied", &g.credits_applied),
        ("amount_due", &g.amount_due),
    ] {
        assert_eq!(h[field], value.as_str(), "{field}: {h}");
    }
    assert_eq!(h["reverse_charge"], g.reverse_charge);
    assert_eq!(h["note"].as_str(), g.note.as_deref());
    let lines = h["line_items"].as_array().unwrap();
    assert_eq!(lines.len(), g.line_items.len());
    for (hl, gl) in lines.iter().zip(&g.line_items) {
        assert_eq!(hl["id"], gl.id.as_str());
        assert_eq!(hl["position"], gl.position);
        assert_eq!(hl["kind"], gl.kind.as_str());
        assert_eq!(hl["description"], gl.description.as_str());
        assert_eq!(hl["quantity"].as_str(), gl.quantity.as_deref());
        assert_eq!(hl["rate"].as_str(), gl.rate.as_deref());
        assert_eq!(hl["amount"], gl.amount.as_str());
        assert_eq!(hl["taxable"], gl.taxable);
    }
    assert_eq!(h["tax"].as_array().map(Vec::len), Some(g.tax.len()));
    assert_eq!(h["finalized_at"].is_null(), g.finalized_at.is_none());
    assert_eq!(h["voided_at"].is_null(), g.voided_at.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoicing_over_grpc_bills_collects_and_agrees_with_http() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let tech = env.a.key_with_role(&env.owner, "technician").await.unwrap();
    let mut grpc = client(env.edge().grpc_addr).await;
    let client_id = env.a.seeded.client_id.to_string();

    // A draft, priced by the engine (untaxed client): 3 × 95.50 + 2 × 4.995 (rounded once).
    let create = pb::CreateInvoiceRequest {
        client_id: client_id.clone(),
        currency: "USD".into(),
        invoice_date: Some("2026-03-01".into()),
        items: items(),
        idempotency_key: Some("grpc-invoice-1".into()),
        ..Default::default()
    };
    let draft = grpc
        .create_invoice(authed(&key, create.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(draft.status, "draft");
    assert_eq!(draft.number, None);
    assert_eq!(draft.source, "manual");
    let amounts: Vec<&str> = draft.line_items.iter().map(|i| i.amount.as_str()).collect();
    assert_eq!(amounts, ["286.50", "9.99"]);
    assert_eq!(draft.total, "296.49");
    assert_eq!(draft.due_date, "2026-03-31", "30 days' terms by default");
    // The same key and request again answers the same draft.
    let again = grpc
        .create_invoice(authed(&key, create))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(again.id, draft.id);

    // A price that is not a decimal is refused, naming the item's field.
    let bad = grpc
        .create_invoice(authed(
            &key,
            pb::CreateInvoiceRequest {
                client_id: client_id.clone(),
                currency: "USD".into(),
                items: vec![item("Labour", "1", "9.5.0")],
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("items[0].unit_price"),
        "{}",
        bad.message()
    );
    let bad = grpc
        .create_invoice(authed(
            &key,
            pb::CreateInvoiceRequest {
                client_id: client_id.clone(),
                currency: "USD".into(),
                invoice_date: Some("2026-02-30".into()),
                items: items(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("invoice_date"), "{}", bad.message());

    // Changed: the note and due date alone keep the items; items given replace them all.
    let patched = grpc
        .update_invoice(authed(
            &key,
            pb::UpdateInvoiceRequest {
                id: draft.id.clone(),
                note: Some("March work".into()),
                due_date: Some("2026-04-15".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(patched.note.as_deref(), Some("March work"));
    assert_eq!(patched.due_date, "2026-04-15");
    assert_eq!(patched.line_items.len(), 2);
    let mut three = items();
    three.push(item("Travel", "1", "20.00"));
    let patched = grpc
        .update_invoice(authed(
            &key,
            pb::UpdateInvoiceRequest {
                id: draft.id.clone(),
                items: three,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(patched.line_items.len(), 3);
    assert_eq!(patched.total, "316.49");
    assert_eq!(patched.note.as_deref(), Some("March work"));

    let fin = grpc
        .finalize_invoice(authed(&key, id(&draft.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fin.number.as_deref(), Some("INV-00001"));
    assert_eq!(fin.status, "finalized");
    assert_eq!(fin.amount_due, "316.49");
    assert!(fin.finalized_at.is_some());
    // A finalized invoice does not change, nor finalize twice: HTTP's 409.
    let twice = grpc
        .finalize_invoice(authed(&key, id(&draft.id)))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);
    let changed = grpc
        .update_invoice(authed(
            &key,
            pb::UpdateInvoiceRequest {
                id: draft.id.clone(),
                note: Some("x".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(changed.code(), Code::FailedPrecondition);

    // Paid in part, then over: the excess is an over-payment credit.
    let pay = |amount: &str, method: &str| pb::RecordPaymentRequest {
        client_id: client_id.clone(),
        invoice_id: Some(draft.id.clone()),
        amount: amount.into(),
        currency: "USD".into(),
        received_on: "2026-03-10".into(),
        method: method.into(),
        ..Default::default()
    };
    let bad = grpc
        .record_payment(authed(&key, pay("12.3.4", "card")))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("amount"), "{}", bad.message());
    let bad = grpc
        .record_payment(authed(&key, pay("10.00", "cheque")))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("method"), "{}", bad.message());
    let first = grpc
        .record_payment(authed(&key, pay("100.00", "bank_transfer")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.applied, "100.00");
    assert_eq!(first.credit_id, None);
    assert_eq!(first.method, "bank_transfer");
    assert_eq!(first.received_on, "2026-03-10");
    let inv = grpc
        .get_invoice(authed(&key, id(&draft.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(inv.status, "partially_paid");
    assert_eq!(inv.amount_due, "216.49");
    let second = grpc
        .record_payment(authed(&key, pay("250.00", "card")))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.applied, "216.49");
    let credit_id = second.credit_id.clone().expect("an over-payment credit");
    let inv = grpc
        .get_invoice(authed(&key, id(&draft.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(inv.status, "paid");
    assert_eq!(inv.amount_due, "0.00");
    // A paid invoice cannot be voided.
    let void = grpc
        .void_invoice(authed(&key, id(&draft.id)))
        .await
        .unwrap_err();
    assert_eq!(void.code(), Code::FailedPrecondition);

    // Refunds: more than was paid is refused, naming `amount`; 40 of the first payment puts
    // 40 back on the invoice; 10 of the credit leaves 23.51 of its 33.51.
    let too_much = grpc
        .refund_payment(authed(
            &key,
            pb::RefundPaymentRequest {
                id: first.id.clone(),
                amount: "100.01".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(too_much.code(), Code::InvalidArgument);
    assert!(
        too_much.message().contains("amount"),
        "{}",
        too_much.message()
    );
    let refunded = grpc
        .refund_payment(authed(
            &key,
            pb::RefundPaymentRequest {
                id: first.id.clone(),
                amount: "40.00".into(),
                note: Some("Disputed hour".into()),
                idempotency_key: Some("grpc-refund-1".into()),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(refunded.id, first.id);
    assert_eq!(refunded.refunded, "40.00");
    let credit = grpc
        .refund_credit(authed(
            &key,
            pb::RefundCreditRequest {
                id: credit_id.clone(),
                amount: "10.00".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(credit.id, credit_id);
    assert_eq!(credit.source, "overpayment");
    assert_eq!(credit.amount, "33.51");
    assert_eq!(credit.remaining, "23.51");

    // What gRPC reads is what HTTP reads.
    let inv = grpc
        .get_invoice(authed(&key, id(&draft.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(inv.status, "partially_paid");
    assert_eq!(inv.amount_due, "40.00");
    let http_inv = env
        .ok(
            Method::GET,
            &format!("/v1/invoices/{}", draft.id),
            &key,
            &json!(null),
        )
        .await;
    assert_same_invoice(&inv, &http_inv);
    let listed = grpc
        .list_invoices(authed(
            &key,
            pb::ListInvoicesRequest {
                status: Some("partially_paid".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.items, std::slice::from_ref(&inv));
    assert_eq!(listed.next_cursor, None);
    let bad = grpc
        .list_invoices(authed(
            &key,
            pb::ListInvoicesRequest {
                status: Some("settled".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("status"), "{}", bad.message());

    let got = grpc
        .get_payment(authed(&key, id(&first.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got, refunded);
    let http_payment = env
        .ok(
            Method::GET,
            &format!("/v1/payments/{}", first.id),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(http_payment["refunded"], got.refunded.as_str());
    assert_eq!(http_payment["applied"], got.applied.as_str());
    let payments = grpc
        .list_payments(authed(
            &key,
            pb::ListPaymentsRequest {
                invoice_id: Some(draft.id.clone()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = payments.items.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(ids, [first.id.as_str(), second.id.as_str()]);

    // A correction by hand lowers what is owed by 5.
    let adjustment = grpc
        .adjust_balance(authed(
            &key,
            pb::AdjustBalanceRequest {
                client_id: client_id.clone(),
                amount: "-5.00".into(),
                currency: "USD".into(),
                note: "Goodwill".into(),
                idempotency_key: None,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(adjustment.kind, "adjustment");
    assert_eq!(adjustment.account, "receivable");
    assert_eq!(adjustment.amount, "-5.00");
    assert_eq!(adjustment.note.as_deref(), Some("Goodwill"));
    let bad = grpc
        .adjust_balance(authed(
            &key,
            pb::AdjustBalanceRequest {
                client_id: client_id.clone(),
                amount: "0".into(),
                currency: "USD".into(),
                note: "Nothing".into(),
                idempotency_key: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("amount"), "{}", bad.message());

    let balance = grpc
        .get_client_balance(authed(
            &key,
            pb::ClientBalanceRequest {
                client_id: client_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        balance.balances,
        [pb::CurrencyBalance {
            currency: "USD".into(),
            receivable: "35.00".into(),
            credit: "23.51".into(),
            balance: "11.49".into(),
        }]
    );
    let http_balance = env
        .ok(
            Method::GET,
            &format!("/v1/clients/{client_id}/balance"),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(http_balance["balances"][0]["receivable"], "35.00");
    assert_eq!(http_balance["balances"][0]["credit"], "23.51");

    // The ledger, page by page, is HTTP's ledger.
    let mut rows = Vec::new();
    let mut cursor = None;
    loop {
        let page = grpc
            .list_ledger(authed(
                &key,
                pb::ListLedgerRequest {
                    client_id: Some(client_id.clone()),
                    limit: Some(2),
                    cursor: cursor.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner();
        rows.extend(page.items);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let http_ledger = env
        .ok(
            Method::GET,
            &format!("/v1/ledger?client_id={client_id}&limit=200"),
            &key,
            &json!(null),
        )
        .await;
    let http_rows = http_ledger["items"].as_array().unwrap();
    assert!(rows.len() >= 6, "{rows:?}");
    assert_eq!(rows.len(), http_rows.len());
    for (g, h) in rows.iter().zip(http_rows) {
        assert_eq!(h["id"], g.id.as_str());
        assert_eq!(h["account"], g.account.as_str());
        assert_eq!(h["kind"], g.kind.as_str());
        assert_eq!(h["amount"], g.amount.as_str());
        assert_eq!(h["invoice_id"].as_str(), g.invoice_id.as_deref());
        assert_eq!(h["payment_id"].as_str(), g.payment_id.as_deref());
        assert_eq!(h["credit_id"].as_str(), g.credit_id.as_deref());
    }
    let rec = grpc
        .reconcile_ledger(authed(&key, pb::ReconcileLedgerRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert!(rec.mismatches.is_empty(), "{rec:?}");
    assert!(rec.credit_mismatches.is_empty(), "{rec:?}");
    assert_eq!(rec.invoices_checked, 1);
    assert_eq!(rec.credits_checked, 1);

    // Settings: the next number follows the finalized invoice and can no longer move.
    let s = grpc
        .get_invoice_settings(authed(&key, pb::GetInvoiceSettingsRequest {}))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (s.prefix.as_str(), s.padding, s.next_number),
        ("INV-", 5, 2)
    );
    let s = grpc
        .update_invoice_settings(authed(
            &key,
            pb::UpdateInvoiceSettingsRequest {
                prefix: Some("BILL-".into()),
                payment_terms_days: Some(14),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(s.prefix, "BILL-");
    assert_eq!(s.payment_terms_days, 14);
    let http_settings = env
        .ok(Method::GET, "/v1/invoice-settings", &key, &json!(null))
        .await;
    assert_eq!(http_settings["prefix"], "BILL-");
    assert_eq!(http_settings["payment_terms_days"], 14);
    assert_eq!(http_settings["next_number"], s.next_number);
    let moved = grpc
        .update_invoice_settings(authed(
            &key,
            pb::UpdateInvoiceSettingsRequest {
                next_number: Some(10),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(moved.code(), Code::FailedPrecondition);
    for padding in [0, 99_999] {
        let bad = grpc
            .update_invoice_settings(authed(
                &key,
                pb::UpdateInvoiceSettingsRequest {
                    padding: Some(padding),
                    ..Default::default()
                },
            ))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert!(bad.message().contains("padding"), "{}", bad.message());
    }

    // A dry run reports, in HTTP's words, and writes nothing.
    let report = grpc
        .start_invoice_run(authed(
            &key,
            pb::StartInvoiceRunRequest {
                period: "2026-03".into(),
                dry_run: Some(true),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    let Some(Started::DryRunJson(text)) = report.result else {
        panic!("a dry run answers its report: {report:?}");
    };
    let report: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(report["dry_run"], true, "{report}");
    assert_eq!(report["period"], "2026-03");
    assert_eq!(report["period_start"], "2026-03-01");
    assert_eq!(report["period_end"], "2026-04-01");
    let http_report = env
        .ok(
            Method::POST,
            "/v1/invoice-runs",
            &key,
            &json!({"period": "2026-03", "dry_run": true}),
        )
        .await;
    assert_eq!(report, http_report);
    assert_eq!(env.count("invoice_runs").await, 0);
    for (request, field) in [
        (
            pb::StartInvoiceRunRequest {
                period: "2026-13".into(),
                dry_run: Some(true),
                ..Default::default()
            },
            "period",
        ),
        (
            pb::StartInvoiceRunRequest {
                period: "2026-03".into(),
                batch_size: Some(0),
                ..Default::default()
            },
            "batch_size",
        ),
        (
            pb::StartInvoiceRunRequest {
                period: "2026-03".into(),
                limit: Some(5),
                ..Default::default()
            },
            "limit",
        ),
    ] {
        let bad = grpc
            .start_invoice_run(authed(&key, request))
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        assert!(bad.message().contains(field), "{}", bad.message());
    }
    assert_eq!(env.count("invoice_runs").await, 0);

    // Unknown, malformed and other tenants' IDs are not found.
    let nobody = uuid::Uuid::new_v4().to_string();
    for target in [nobody.as_str(), "not-an-id"] {
        let missing = grpc
            .get_invoice(authed(&key, id(target)))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        let missing = grpc
            .get_payment(authed(&key, id(target)))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
        let missing = grpc
            .get_invoice_run(authed(&key, id(target)))
            .await
            .unwrap_err();
        assert_eq!(missing.code(), Code::NotFound);
    }
    let missing = grpc
        .get_client_balance(authed(&key, pb::ClientBalanceRequest { client_id: nobody }))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let other = grpc
        .get_invoice(authed(&env.b.key, id(&draft.id)))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);

    // A technician may not bill, over gRPC as over HTTP.
    let denied = grpc
        .get_invoice(authed(&tech, id(&draft.id)))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = grpc
        .record_payment(authed(&tech, pay("1.00", "cash")))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = grpc
        .list_ledger(authed(&tech, pb::ListLedgerRequest::default()))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = grpc
        .start_invoice_run(authed(
            &tech,
            pb::StartInvoiceRunRequest {
                period: "2026-03".into(),
                dry_run: Some(true),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // No key at all is unauthenticated.
    let anonymous = grpc
        .get_invoice_settings(pb::GetInvoiceSettingsRequest {})
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);

    env.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_started_over_grpc_is_recorded_and_waits_for_temporal() {
    let env = TestEnv::start(Parts::EDGE_ONLY).await.unwrap();
    let key = env.a.key_with_role(&env.owner, "billing").await.unwrap();
    let start = pb::StartInvoiceRunRequest {
        period: "2026-04".into(),
        ..Default::default()
    };

    // An edge that cannot reach Temporal records the run and answers UNAVAILABLE (HTTP's 503):
    // the same request later starts it.
    let mut config = env.edge_config(false);
    config.temporal_address = "127.0.0.1:1".into();
    let broken = psa_edge::serve::start(config).await.unwrap();
    let away = client(broken.grpc_addr)
        .await
        .start_invoice_run(authed(&key, start.clone()))
        .await
        .unwrap_err();
    assert_eq!(away.code(), Code::Unavailable, "{}", away.message());
    broken.shutdown().await;

    let mut grpc = client(env.edge().grpc_addr).await;
    let recorded = grpc
        .list_invoice_runs(authed(
            &key,
            pb::ListInvoiceRunsRequest {
                period: Some("2026-04".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recorded.items.len(), 1, "{recorded:?}");
    assert_eq!(recorded.items[0].status, "requested");

    // With Temporal there, the same request starts it (no worker here, so it stays requested).
    let started = grpc
        .start_invoice_run(authed(&key, start))
        .await
        .unwrap()
        .into_inner();
    let Some(Started::Run(run)) = started.result else {
        panic!("a run answers the run: {started:?}");
    };
    assert_eq!(run.id, recorded.items[0].id);
    assert_eq!(run.period, "2026-04");
    assert_eq!(run.period_start, "2026-04-01");
    assert_eq!(run.period_end, "2026-05-01");
    assert_eq!(run.requests, 2);
    assert!(
        run.workflow_id.starts_with("invoice-run:"),
        "{}",
        run.workflow_id
    );

    let got = grpc
        .get_invoice_run(authed(&key, id(&run.id)))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.id, run.id);
    assert_eq!(got.requests, 2);
    let http_run = env
        .ok(
            Method::GET,
            &format!("/v1/invoice-runs/{}", run.id),
            &key,
            &json!(null),
        )
        .await;
    assert_eq!(http_run["status"], got.status.as_str());
    assert_eq!(http_run["workflow_id"], got.workflow_id.as_str());
    assert_eq!(http_run["requests"], got.requests);
    assert_eq!(http_run["total"], got.total);

    let elsewhere = grpc
        .list_invoice_runs(authed(
            &key,
            pb::ListInvoiceRunsRequest {
                period: Some("2026-05".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(elsewhere.items.is_empty(), "{elsewhere:?}");
    let bad = grpc
        .list_invoice_runs(authed(
            &key,
            pb::ListInvoiceRunsRequest {
                period: Some("2026-13".into()),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("period"), "{}", bad.message());

    env.shutdown().await;
}
