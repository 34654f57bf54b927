//! `psa.v1.InvoicingService`: invoices, invoice settings, payments, refunds, adjustments,
//! balances, the ledger and invoice runs over gRPC.
//!
//! It exists so that a gRPC client can do over one channel what it otherwise needs HTTP for:
//! bill and collect, not only set billing up (`BillingService`, in `grpc.rs`). Every RPC calls
//! the `psa_store::billing` function its HTTP handler calls (`invoices.rs`, `payments.rs`,
//! `runs.rs`), filled with the same input type, so the two transports share rules, roles and
//! errors; starting a run goes through [`super::runs::begin`], as HTTP does. Dates, decimals
//! and the enum-like fields arrive as strings and are read here with `grpc.rs`'s helpers; one
//! that does not read is INVALID_ARGUMENT naming its field.

use super::grpc::{Reply, credit, date, day, ok, opt_date, page, present, uuid_str};
use super::runs::{self as run_start, Started};
use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use crate::web::grpc_convert::{id, opt_id, target, ts};
use psa_protos::v1 as pb;
use psa_protos::v1::invoicing_service_server::InvoicingService;
use psa_store::billing::invoices::{
    self, Invoice, InvoiceItem, InvoiceSettings, InvoiceSettingsPatch, InvoiceStatus,
    InvoiceTaxRow, ManualInvoiceInput, ManualInvoicePatch, ManualItem,
};
use psa_store::billing::ledger::{self, Account, ClientBalance, Kind, Reconciliation, Transaction};
use psa_store::billing::payments::{
    self, AdjustmentInput, Payment, PaymentInput, PaymentMethod, RefundInput,
};
use psa_store::billing::runs::{self, Failure, InvoiceRun, InvoiceRunRequest};
use tonic::Request;

pub struct InvoicingApi {
    state: AppState,
}

impl InvoicingApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn principal<T>(&self, req: &Request<T>) -> Result<Principal, ApiError> {
        crate::web::grpc::principal(&self.state, req).await
    }
}

fn invoice_status(value: Option<String>) -> Result<Option<InvoiceStatus>, ApiError> {
    let Some(v) = present(value) else {
        return Ok(None);
    };
    Ok(Some(match v.as_str() {
        "draft" => InvoiceStatus::Draft,
        "finalized" => InvoiceStatus::Finalized,
        "partially_paid" => InvoiceStatus::PartiallyPaid,
        "paid" => InvoiceStatus::Paid,
        "overdue" => InvoiceStatus::Overdue,
        "void" => InvoiceStatus::Void,
        _ => {
            return Err(ApiError::invalid(
                "status",
                "must be one of draft, finalized, partially_paid, paid, overdue, void",
            ));
        }
    }))
}

fn payment_method(value: &str) -> Result<PaymentMethod, ApiError> {
    Ok(match value {
        "bank_transfer" => PaymentMethod::BankTransfer,
        "card" => PaymentMethod::Card,
        "cash" => PaymentMethod::Cash,
        "check" => PaymentMethod::Check,
        "other" => PaymentMethod::Other,
        _ => {
            return Err(ApiError::invalid(
                "method",
                "must be one of bank_transfer, card, cash, check, other",
            ));
        }
    })
}

// The store keeps these spellings private to its modules; they are the serde ones.
fn payment_method_str(m: PaymentMethod) -> &'static str {
    match m {
        PaymentMethod::BankTransfer => "bank_transfer",
        PaymentMethod::Card => "card",
        PaymentMethod::Cash => "cash",
        PaymentMethod::Check => "check",
        PaymentMethod::Other => "other",
    }
}

fn account_str(a: Account) -> &'static str {
    match a {
        Account::Receivable => "receivable",
        Account::Credit => "credit",
    }
}

fn kind_str(k: Kind) -> &'static str {
    match k {
        Kind::Invoice => "invoice",
        Kind::Payment => "payment",
        Kind::CreditIssued => "credit_issued",
        Kind::CreditApplied => "credit_applied",
        Kind::Refund => "refund",
        Kind::Adjustment => "adjustment",
        Kind::Void => "void",
        Kind::CreditExpired => "credit_expired",
    }
}

fn manual_items(items: Vec<pb::ManualInvoiceItem>) -> Vec<ManualItem> {
    items
        .into_iter()
        .map(|i| ManualItem {
            description: i.description,
            quantity: i.quantity,
            unit_price: i.unit_price,
            taxable: i.taxable,
        })
        .collect()
}

/// `padding` is a small integer in the store; anything outside it is out of the 1 to 12 range
/// the store checks, with the store's words.
fn padding(value: Option<i32>) -> Result<Option<i16>, ApiError> {
    value
        .map(|n| {
            i16::try_from(n).map_err(|_| ApiError::invalid("padding", "must be between 1 and 12"))
        })
        .transpose()
}

fn line_item(i: InvoiceItem) -> pb::InvoiceLineItem {
    pb::InvoiceLineItem {
        id: uuid_str(i.id),
        position: i.position,
        kind: i.kind,
        contract_line_id: i.contract_line_id.map(uuid_str),
        description: i.description,
        minutes: i.minutes,
        quantity: i.quantity.map(|d| d.to_string()),
        rate: i.rate.map(|d| d.to_string()),
        amount: i.amount.to_string(),
        taxable: i.taxable,
    }
}

fn tax_row(t: InvoiceTaxRow) -> pb::InvoiceTaxRow {
    pb::InvoiceTaxRow {
        region: t.region,
        name: t.name,
        base: t.base.to_string(),
        amount: t.amount.to_string(),
    }
}

fn invoice(i: Invoice) -> pb::Invoice {
    pb::Invoice {
        id: uuid_str(i.id),
        client_id: uuid_str(i.client_id),
        number: i.number,
        status: i.status.as_str().to_owned(),
        source: i.source,
        currency: i.currency,
        period_start: i.period_start.map(day),
        period_end: i.period_end.map(day),
        invoice_date: day(i.invoice_date),
        due_date: day(i.due_date),
        subtotal: i.subtotal.to_string(),
        tax_total: i.tax_total.to_string(),
        total: i.total.to_string(),
        credits_applied: i.credits_applied.to_string(),
        amount_due: i.amount_due.to_string(),
        reverse_charge: i.reverse_charge,
        note: i.note,
        line_items: i.line_items.into_iter().map(line_item).collect(),
        tax: i.tax.into_iter().map(tax_row).collect(),
        created_at: Some(ts(i.created_at)),
        finalized_at: i.finalized_at.map(ts),
        voided_at: i.voided_at.map(ts),
        updated_at: Some(ts(i.updated_at)),
    }
}

fn settings(s: InvoiceSettings) -> pb::InvoiceSettings {
    pb::InvoiceSettings {
        prefix: s.prefix,
        padding: i32::from(s.padding),
        next_number: s.next_number,
        payment_terms_days: s.payment_terms_days,
        timezone: s.timezone,
    }
}

fn payment(p: Payment) -> pb::Payment {
    pb::Payment {
        id: uuid_str(p.id),
        client_id: uuid_str(p.client_id),
        invoice_id: p.invoice_id.map(uuid_str),
        amount: p.amount.to_string(),
        currency: p.currency,
        received_on: day(p.received_on),
        method: payment_method_str(p.method).to_owned(),
        reference: p.reference,
        applied: p.applied.to_string(),
        credit_id: p.credit_id.map(uuid_str),
        refunded: p.refunded.to_string(),
        created_at: Some(ts(p.created_at)),
    }
}

fn transaction(t: Transaction) -> pb::LedgerTransaction {
    pb::LedgerTransaction {
        id: uuid_str(t.id),
        client_id: uuid_str(t.client_id),
        account: account_str(t.account).to_owned(),
        kind: kind_str(t.kind).to_owned(),
        amount: t.amount.to_string(),
        currency: t.currency,
        invoice_id: t.invoice_id.map(uuid_str),
        payment_id: t.payment_id.map(uuid_str),
        credit_id: t.credit_id.map(uuid_str),
        note: t.note,
        occurred_at: Some(ts(t.occurred_at)),
    }
}

fn client_balance(b: ClientBalance) -> pb::ClientBalance {
    pb::ClientBalance {
        client_id: uuid_str(b.client_id),
        balances: b
            .balances
            .into_iter()
            .map(|b| pb::CurrencyBalance {
                currency: b.currency,
                receivable: b.receivable.to_string(),
                credit: b.credit.to_string(),
                balance: b.balance.to_string(),
            })
            .collect(),
    }
}

fn reconciliation(r: Reconciliation) -> pb::LedgerReconciliation {
    pb::LedgerReconciliation {
        clients_checked: r.clients_checked,
        invoices_checked: r.invoices_checked,
        credits_checked: r.credits_checked,
        mismatches: r
            .mismatches
            .into_iter()
            .map(|m| pb::LedgerInvoiceMismatch {
                invoice_id: uuid_str(m.invoice_id),
                stored_amount_due: m.stored_amount_due.to_string(),
                ledger_amount_due: m.ledger_amount_due.to_string(),
            })
            .collect(),
        credit_mismatches: r
            .credit_mismatches
            .into_iter()
            .map(|m| pb::LedgerCreditMismatch {
                credit_id: uuid_str(m.credit_id),
                stored_remaining: m.stored_remaining.to_string(),
                ledger_remaining: m.ledger_remaining.to_string(),
            })
            .collect(),
    }
}

fn run_failure(f: Failure) -> pb::InvoiceRunFailure {
    pb::InvoiceRunFailure {
        client_id: uuid_str(f.client_id),
        reason: f.reason,
    }
}

fn invoice_run(r: InvoiceRun) -> pb::InvoiceRun {
    pb::InvoiceRun {
        id: uuid_str(r.id),
        period: r.period,
        period_start: day(r.period_start),
        period_end: day(r.period_end),
        workflow_id: r.workflow_id,
        status: r.status,
        total: r.total,
        done: r.done,
        empty: r.empty,
        failed: r.failed.into_iter().map(run_failure).collect(),
        requests: r.requests,
        requested_at: Some(ts(r.requested_at)),
        started_at: r.started_at.map(ts),
        finished_at: r.finished_at.map(ts),
        updated_at: Some(ts(r.updated_at)),
    }
}

#[tonic::async_trait]
impl InvoicingService for InvoicingApi {
    async fn create_invoice(&self, req: Request<pb::CreateInvoiceRequest>) -> Reply<pb::Invoice> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = ManualInvoiceInput {
            client_id: id("client_id", &r.client_id)?,
            currency: r.currency,
            invoice_date: opt_date("invoice_date", r.invoice_date)?,
            due_date: opt_date("due_date", r.due_date)?,
            note: r.note,
            items: manual_items(r.items),
        };
        let i = invoices::create_manual(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(invoice(i))
    }

    async fn get_invoice(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Invoice> {
        let p = self.principal(&req).await?;
        let i = invoices::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(invoice(i))
    }

    async fn list_invoices(&self, req: Request<pb::ListInvoicesRequest>) -> Reply<pb::InvoiceList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = opt_id("client_id", r.client_id.as_deref())?;
        let status = invoice_status(r.status)?;
        let out = invoices::list(
            &self.state.pool,
            &p,
            client,
            status,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::InvoiceList {
            items: out.items.into_iter().map(invoice).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn update_invoice(&self, req: Request<pb::UpdateInvoiceRequest>) -> Reply<pb::Invoice> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let patch = ManualInvoicePatch {
            invoice_date: opt_date("invoice_date", r.invoice_date)?,
            due_date: opt_date("due_date", r.due_date)?,
            note: r.note,
            // An empty list cannot say "no items" (an invoice has at least one): unchanged.
            items: (!r.items.is_empty()).then(|| manual_items(r.items)),
        };
        let i = invoices::update_manual(&self.state.pool, &p, which, patch)
            .await
            .map_err(ApiError::from)?;
        ok(invoice(i))
    }

    async fn finalize_invoice(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Invoice> {
        let p = self.principal(&req).await?;
        let i = invoices::finalize(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(invoice(i))
    }

    async fn void_invoice(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Invoice> {
        let p = self.principal(&req).await?;
        let i = invoices::void(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(invoice(i))
    }

    async fn get_invoice_settings(
        &self,
        req: Request<pb::GetInvoiceSettingsRequest>,
    ) -> Reply<pb::InvoiceSettings> {
        let p = self.principal(&req).await?;
        let s = invoices::get_settings(&self.state.pool, &p)
            .await
            .map_err(ApiError::from)?;
        ok(settings(s))
    }

    async fn update_invoice_settings(
        &self,
        req: Request<pb::UpdateInvoiceSettingsRequest>,
    ) -> Reply<pb::InvoiceSettings> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let patch = InvoiceSettingsPatch {
            prefix: r.prefix,
            padding: padding(r.padding)?,
            next_number: r.next_number,
            payment_terms_days: r.payment_terms_days,
            timezone: r.timezone,
        };
        let s = invoices::update_settings(&self.state.pool, &p, patch)
            .await
            .map_err(ApiError::from)?;
        ok(settings(s))
    }

    async fn record_payment(&self, req: Request<pb::RecordPaymentRequest>) -> Reply<pb::Payment> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = PaymentInput {
            client_id: id("client_id", &r.client_id)?,
            invoice_id: opt_id("invoice_id", r.invoice_id.as_deref())?,
            amount: r.amount,
            currency: r.currency,
            received_on: date("received_on", &r.received_on)?,
            method: payment_method(&r.method)?,
            reference: r.reference,
        };
        let out = payments::record(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(payment(out))
    }

    async fn get_payment(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Payment> {
        let p = self.principal(&req).await?;
        let out = payments::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(payment(out))
    }

    async fn list_payments(&self, req: Request<pb::ListPaymentsRequest>) -> Reply<pb::PaymentList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = opt_id("client_id", r.client_id.as_deref())?;
        let inv = opt_id("invoice_id", r.invoice_id.as_deref())?;
        let out = payments::list(
            &self.state.pool,
            &p,
            client,
            inv,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::PaymentList {
            items: out.items.into_iter().map(payment).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn refund_payment(&self, req: Request<pb::RefundPaymentRequest>) -> Reply<pb::Payment> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let input = RefundInput {
            amount: r.amount,
            note: r.note,
        };
        let out = payments::refund(
            &self.state.pool,
            &p,
            r.idempotency_key.as_deref(),
            which,
            input,
        )
        .await
        .map_err(ApiError::from)?;
        ok(payment(out))
    }

    async fn refund_credit(&self, req: Request<pb::RefundCreditRequest>) -> Reply<pb::Credit> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let input = RefundInput {
            amount: r.amount,
            note: r.note,
        };
        let c = payments::refund_credit(
            &self.state.pool,
            &p,
            r.idempotency_key.as_deref(),
            which,
            input,
        )
        .await
        .map_err(ApiError::from)?;
        ok(credit(c))
    }

    async fn adjust_balance(
        &self,
        req: Request<pb::AdjustBalanceRequest>,
    ) -> Reply<pb::LedgerTransaction> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = target(&r.client_id)?;
        let input = AdjustmentInput {
            amount: r.amount,
            currency: r.currency,
            note: r.note,
        };
        let t = payments::adjust(
            &self.state.pool,
            &p,
            r.idempotency_key.as_deref(),
            client,
            input,
        )
        .await
        .map_err(ApiError::from)?;
        ok(transaction(t))
    }

    async fn get_client_balance(
        &self,
        req: Request<pb::ClientBalanceRequest>,
    ) -> Reply<pb::ClientBalance> {
        let p = self.principal(&req).await?;
        let b = ledger::balance(&self.state.pool, &p, target(&req.get_ref().client_id)?)
            .await
            .map_err(ApiError::from)?;
        ok(client_balance(b))
    }

    async fn list_ledger(
        &self,
        req: Request<pb::ListLedgerRequest>,
    ) -> Reply<pb::LedgerTransactionList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = opt_id("client_id", r.client_id.as_deref())?;
        let out = ledger::list(
            &self.state.pool,
            &p,
            client,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::LedgerTransactionList {
            items: out.items.into_iter().map(transaction).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn reconcile_ledger(
        &self,
        req: Request<pb::ReconcileLedgerRequest>,
    ) -> Reply<pb::LedgerReconciliation> {
        let p = self.principal(&req).await?;
        let r = ledger::reconcile(&self.state.pool, &p)
            .await
            .map_err(ApiError::from)?;
        ok(reconciliation(r))
    }

    async fn start_invoice_run(
        &self,
        req: Request<pb::StartInvoiceRunRequest>,
    ) -> Reply<pb::StartInvoiceRunResponse> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = InvoiceRunRequest {
            period: r.period,
            dry_run: r.dry_run,
            limit: r.limit,
            batch_size: r.batch_size,
            parallel_batches: r.parallel_batches,
        };
        let result =
            match run_start::begin(&self.state, &p, r.idempotency_key.as_deref(), input).await? {
                Started::Run(run) => pb::start_invoice_run_response::Result::Run(invoice_run(run)),
                Started::DryRun(report) => {
                    // The text HTTP answers, instants and all.
                    let json = crate::web::json::to_vec(&report).map_err(ApiError::internal)?;
                    let json = String::from_utf8(json).map_err(ApiError::internal)?;
                    pb::start_invoice_run_response::Result::DryRunJson(json)
                }
            };
        ok(pb::StartInvoiceRunResponse {
            result: Some(result),
        })
    }

    async fn get_invoice_run(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::InvoiceRun> {
        let p = self.principal(&req).await?;
        let run = runs::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(invoice_run(run))
    }

    async fn list_invoice_runs(
        &self,
        req: Request<pb::ListInvoiceRunsRequest>,
    ) -> Reply<pb::InvoiceRunList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let period = present(r.period);
        let out = runs::list(
            &self.state.pool,
            &p,
            period.as_deref(),
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::InvoiceRunList {
            items: out.items.into_iter().map(invoice_run).collect(),
            next_cursor: out.next_cursor,
        })
    }
}
