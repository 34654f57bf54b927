//! `psa.v1.BillingService`: the billing resources and invoice previews over gRPC, on the same
//! `psa_store::billing` functions the HTTP handlers call, with the same inputs.
//!
//! What JSON carries as typed values arrives here as strings (dates, decimals, the enum-like
//! fields) or JSON text (line terms, tax components, previews); each is read into the store's
//! input type here, and a value that does not read is INVALID_ARGUMENT naming its field.

use crate::state::AppState;
use crate::web::auth::Principal;
use crate::web::error::ApiError;
use crate::web::grpc_convert::{id, instant, nullable, opt_id, target, ts};
use chrono::{DateTime, NaiveDate, Utc};
use prost_types::Timestamp;
use psa_domain::billing::{Anchor, BillingCycle, Timing};
use psa_protos::v1 as pb;
use psa_protos::v1::billing_service_server::BillingService;
use psa_store::billing::assignments::{self, Assignment, AssignmentInput, AssignmentPatch};
use psa_store::billing::client_preview;
use psa_store::billing::contracts::{
    self, Contract, ContractInput, ContractLine, ContractLineInput, ContractLinePatch,
    ContractPatch, LineKind,
};
use psa_store::billing::credits::{self, Credit, CreditInput, CreditPatch, CreditSource};
use psa_store::billing::preview;
use psa_store::billing::services::{self, Service, ServiceInput, ServicePatch};
use psa_store::billing::tax::{
    self, ClientTaxSettings, ClientTaxSettingsInput, TaxRegion, TaxRegionInput, TaxRegionPatch,
};
use psa_store::billing::time_entries::{
    self, EntryFilter, TimeEntry, TimeEntryInput, TimeEntryPatch,
};
use psa_store::billing::timesheets::{
    self, ApproveTimesheet, RejectTimesheet, ReopenTimesheet, SubmitTimesheet, Timesheet,
    TimesheetFilter, TimesheetInput, TimesheetStatus,
};
use psa_store::billing::usage::{self, UsageInput, UsageRecord};
use psa_store::pagination::PageRequest;
use serde_json::Value;
use tonic::{Request, Response, Status};

pub struct BillingApi {
    state: AppState,
}

impl BillingApi {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }

    async fn principal<T>(&self, req: &Request<T>) -> Result<Principal, ApiError> {
        crate::web::grpc::principal(&self.state, req).await
    }
}

pub(super) type Reply<T> = Result<Response<T>, Status>;

pub(super) fn ok<T>(t: T) -> Reply<T> {
    Ok(Response::new(t))
}

/// Protobuf clients send an unset `limit` as 0 and an unset cursor as empty; both mean the
/// default, as `PageRequest::parse` reads `None`.
pub(super) fn page(limit: Option<u32>, cursor: Option<&str>) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::parse(limit.filter(|n| *n != 0), cursor)?)
}

/// An optional string field; empty counts as absent, as for IDs (`grpc_convert::opt_id`),
/// since many clients cannot tell an unset string from an empty one.
pub(super) fn present(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.is_empty())
}

/// A required "YYYY-MM-DD" date, read as HTTP's JSON reads it.
pub(super) fn date(field: &str, value: &str) -> Result<NaiveDate, ApiError> {
    value
        .parse()
        .map_err(|_| ApiError::invalid(field, "must be a date, YYYY-MM-DD"))
}

pub(super) fn opt_date(field: &str, value: Option<String>) -> Result<Option<NaiveDate>, ApiError> {
    present(value).map(|v| date(field, &v)).transpose()
}

pub(super) fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn opt_instant(field: &str, t: Option<Timestamp>) -> Result<Option<DateTime<Utc>>, ApiError> {
    t.map(|t| instant(field, Some(t))).transpose()
}

/// JSON text standing in for a JSON value of the HTTP body.
fn json(field: &str, text: &str) -> Result<Value, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::invalid(field, format!("is not JSON: {e}")))
}

fn opt_json(field: &str, text: Option<String>) -> Result<Option<Value>, ApiError> {
    text.map(|t| json(field, &t)).transpose()
}

pub(super) fn uuid_str(u: uuid::Uuid) -> String {
    u.to_string()
}

fn line_kind(value: &str) -> Result<LineKind, ApiError> {
    Ok(match value {
        "fixed" => LineKind::Fixed,
        "hourly" => LineKind::Hourly,
        "bucket" => LineKind::Bucket,
        "usage" => LineKind::Usage,
        "product" => LineKind::Product,
        _ => {
            return Err(ApiError::invalid(
                "type",
                "must be one of fixed, hourly, bucket, usage, product",
            ));
        }
    })
}

fn credit_source(value: Option<String>) -> Result<Option<CreditSource>, ApiError> {
    let Some(v) = present(value) else {
        return Ok(None);
    };
    Ok(Some(match v.as_str() {
        "manual" => CreditSource::Manual,
        "prepayment" => CreditSource::Prepayment,
        "overpayment" => CreditSource::Overpayment,
        "refund" => CreditSource::Refund,
        "goodwill" => CreditSource::Goodwill,
        "invoice" => CreditSource::Invoice,
        _ => {
            return Err(ApiError::invalid(
                "source",
                "must be one of manual, prepayment, overpayment, refund, goodwill, invoice",
            ));
        }
    }))
}

// The store keeps this spelling private to its module; it is the serde one.
fn credit_source_str(s: CreditSource) -> &'static str {
    match s {
        CreditSource::Manual => "manual",
        CreditSource::Prepayment => "prepayment",
        CreditSource::Overpayment => "overpayment",
        CreditSource::Refund => "refund",
        CreditSource::Goodwill => "goodwill",
        CreditSource::Invoice => "invoice",
    }
}

fn timesheet_status(value: Option<String>) -> Result<Option<TimesheetStatus>, ApiError> {
    let Some(v) = present(value) else {
        return Ok(None);
    };
    Ok(Some(match v.as_str() {
        "draft" => TimesheetStatus::Draft,
        "submitted" => TimesheetStatus::Submitted,
        "approved" => TimesheetStatus::Approved,
        "rejected" => TimesheetStatus::Rejected,
        _ => {
            return Err(ApiError::invalid(
                "status",
                "must be one of draft, submitted, approved, rejected",
            ));
        }
    }))
}

fn billing_cycle(value: &str) -> Result<BillingCycle, ApiError> {
    BillingCycle::parse(value).ok_or_else(|| {
        ApiError::invalid(
            "billing_cycle",
            "must be one of weekly, bi_weekly, monthly, quarterly, semi_annual, annual",
        )
    })
}

fn timing(value: Option<String>) -> Result<Option<Timing>, ApiError> {
    present(value)
        .map(|v| {
            Timing::parse(&v)
                .ok_or_else(|| ApiError::invalid("timing", "must be one of advance, arrears"))
        })
        .transpose()
}

/// "calendar" or "1" to "28", as JSON's `"calendar"` or integer day.
fn anchor(value: Option<String>) -> Result<Option<Anchor>, ApiError> {
    let Some(v) = present(value) else {
        return Ok(None);
    };
    if v == "calendar" {
        return Ok(Some(Anchor::Calendar));
    }
    // `from_db` is the one public reader that range-checks a day.
    v.parse::<i16>()
        .ok()
        .and_then(|d| Anchor::from_db(Some(d)))
        .map(Some)
        .ok_or_else(|| {
            ApiError::invalid(
                "anchor",
                "must be \"calendar\" or a day of the month from 1 to 28",
            )
        })
}

fn anchor_str(a: Anchor) -> String {
    match a {
        Anchor::Calendar => "calendar".to_owned(),
        Anchor::Day(d) => d.to_string(),
    }
}

/// The fields `UpdateTimeEntryRequest.clear` may name: those `TimeEntryPatch` can set to null.
const CLEARABLE: [&str; 5] = ["ticket_id", "project_ref", "started_at", "ended_at", "note"];

fn service(s: Service) -> pb::Service {
    pb::Service {
        id: uuid_str(s.id),
        name: s.name,
        unit: s.unit,
        description: s.description,
        taxable: s.taxable,
        rates: s.rates.into_iter().collect(),
        created_at: Some(ts(s.created_at)),
        updated_at: Some(ts(s.updated_at)),
    }
}

fn contract(c: Contract) -> pb::Contract {
    pb::Contract {
        id: uuid_str(c.id),
        name: c.name,
        description: c.description,
        created_at: Some(ts(c.created_at)),
        updated_at: Some(ts(c.updated_at)),
    }
}

fn contract_line(l: ContractLine) -> pb::ContractLine {
    pb::ContractLine {
        id: uuid_str(l.id),
        contract_id: uuid_str(l.contract_id),
        position: l.position,
        r#type: l.kind.as_str().to_owned(),
        service_id: l.service_id.map(uuid_str),
        description: l.description,
        taxable: l.taxable,
        terms_json: l.terms.to_string(),
        created_at: Some(ts(l.created_at)),
        updated_at: Some(ts(l.updated_at)),
    }
}

fn client_contract(a: Assignment) -> pb::ClientContract {
    pb::ClientContract {
        id: uuid_str(a.id),
        client_id: uuid_str(a.client_id),
        contract_id: uuid_str(a.contract_id),
        start_date: day(a.start_date),
        end_date: a.end_date.map(day),
        currency: a.currency,
        billing_cycle: a.billing_cycle.as_str().to_owned(),
        anchor: anchor_str(a.anchor),
        timing: a.timing.as_str().to_owned(),
        created_at: Some(ts(a.created_at)),
        updated_at: Some(ts(a.updated_at)),
    }
}

fn tax_region(r: TaxRegion) -> pb::TaxRegion {
    pb::TaxRegion {
        id: uuid_str(r.id),
        name: r.name,
        components_json: r.components.to_string(),
        created_at: Some(ts(r.created_at)),
        updated_at: Some(ts(r.updated_at)),
    }
}

fn tax_settings(s: ClientTaxSettings) -> pb::ClientTaxSettings {
    pb::ClientTaxSettings {
        client_id: uuid_str(s.client_id),
        region_id: s.region_id.map(uuid_str),
        exempt: s.exempt,
        reverse_charge: s.reverse_charge,
        updated_at: s.updated_at.map(ts),
    }
}

pub(super) fn credit(c: Credit) -> pb::Credit {
    pb::Credit {
        id: uuid_str(c.id),
        client_id: uuid_str(c.client_id),
        amount: c.amount.to_string(),
        remaining: c.remaining.to_string(),
        currency: c.currency,
        expires_on: c.expires_on.map(day),
        source: credit_source_str(c.source).to_owned(),
        note: c.note,
        created_at: Some(ts(c.created_at)),
        updated_at: Some(ts(c.updated_at)),
    }
}

fn usage_record(u: UsageRecord) -> pb::UsageRecord {
    pb::UsageRecord {
        id: uuid_str(u.id),
        client_id: uuid_str(u.client_id),
        service_id: uuid_str(u.service_id),
        quantity: u.quantity.to_string(),
        occurred_at: Some(ts(u.occurred_at)),
        external_id: u.external_id,
        invoice_item_id: u.invoice_item_id.map(uuid_str),
        created_at: Some(ts(u.created_at)),
    }
}

fn time_entry(e: TimeEntry) -> pb::TimeEntry {
    pb::TimeEntry {
        id: uuid_str(e.id),
        worker_id: uuid_str(e.worker_id),
        client_id: uuid_str(e.client_id),
        ticket_id: e.ticket_id.map(uuid_str),
        project_ref: e.project_ref,
        service_id: uuid_str(e.service_id),
        work_date: day(e.work_date),
        started_at: e.started_at.map(ts),
        ended_at: e.ended_at.map(ts),
        minutes: e.minutes,
        billable: e.billable,
        note: e.note,
        timesheet_id: e.timesheet_id.map(uuid_str),
        status: e.status,
        invoice_item_id: e.invoice_item_id.map(uuid_str),
        created_at: Some(ts(e.created_at)),
        updated_at: Some(ts(e.updated_at)),
    }
}

fn timesheet(t: Timesheet) -> pb::Timesheet {
    pb::Timesheet {
        id: uuid_str(t.id),
        worker_id: uuid_str(t.worker_id),
        period_start: day(t.period_start),
        period_end: day(t.period_end),
        status: t.status,
        approver_id: t.approver_id.map(uuid_str),
        reason: t.reason,
        submitted_at: t.submitted_at.map(ts),
        decided_at: t.decided_at.map(ts),
        decided_by: t.decided_by.map(uuid_str),
        entries: t.entries,
        minutes: t.minutes,
        created_at: Some(ts(t.created_at)),
        updated_at: Some(ts(t.updated_at)),
    }
}

#[tonic::async_trait]
impl BillingService for BillingApi {
    async fn create_service(&self, req: Request<pb::CreateServiceRequest>) -> Reply<pb::Service> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = ServiceInput {
            name: r.name,
            unit: r.unit,
            description: r.description,
            taxable: r.taxable,
            // No rates is the same request as JSON without `rates`, also for idempotency.
            rates: (!r.rates.is_empty()).then(|| r.rates.into_iter().collect()),
        };
        let s = services::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(service(s))
    }

    async fn get_service(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Service> {
        let p = self.principal(&req).await?;
        let s = services::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(service(s))
    }

    async fn list_services(&self, req: Request<pb::BillingListRequest>) -> Reply<pb::ServiceList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let out = services::list(&self.state.pool, &p, page(r.limit, r.cursor.as_deref())?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::ServiceList {
            items: out.items.into_iter().map(service).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn update_service(&self, req: Request<pb::UpdateServiceRequest>) -> Reply<pb::Service> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let rates = match (r.clear_rates, r.rates.is_empty()) {
            (true, false) => {
                return Err(ApiError::invalid("clear_rates", "cannot be set with rates").into());
            }
            (true, true) => Some(Default::default()),
            (false, false) => Some(r.rates.into_iter().collect()),
            (false, true) => None,
        };
        let patch = ServicePatch {
            name: r.name,
            unit: r.unit,
            description: r.description,
            taxable: r.taxable,
            rates,
        };
        let s = services::update(&self.state.pool, &p, target(&r.id)?, patch)
            .await
            .map_err(ApiError::from)?;
        ok(service(s))
    }

    async fn create_contract(
        &self,
        req: Request<pb::CreateContractRequest>,
    ) -> Reply<pb::Contract> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = ContractInput {
            name: r.name,
            description: r.description,
        };
        let c = contracts::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(contract(c))
    }

    async fn get_contract(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Contract> {
        let p = self.principal(&req).await?;
        let c = contracts::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(contract(c))
    }

    async fn list_contracts(
        &self,
        req: Request<pb::BillingListRequest>,
    ) -> Reply<pb::ContractList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let out = contracts::list(&self.state.pool, &p, page(r.limit, r.cursor.as_deref())?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::ContractList {
            items: out.items.into_iter().map(contract).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn update_contract(
        &self,
        req: Request<pb::UpdateContractRequest>,
    ) -> Reply<pb::Contract> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let patch = ContractPatch {
            name: r.name,
            description: r.description,
        };
        let c = contracts::update(&self.state.pool, &p, target(&r.id)?, patch)
            .await
            .map_err(ApiError::from)?;
        ok(contract(c))
    }

    async fn create_contract_line(
        &self,
        req: Request<pb::CreateContractLineRequest>,
    ) -> Reply<pb::ContractLine> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let contract_id = target(&r.contract_id)?;
        let input = ContractLineInput {
            kind: line_kind(&r.r#type)?,
            service_id: opt_id("service_id", r.service_id.as_deref())?,
            description: r.description,
            taxable: r.taxable,
            position: r.position,
            terms: json("terms_json", &r.terms_json)?,
        };
        let l = contracts::create_line(
            &self.state.pool,
            &p,
            r.idempotency_key.as_deref(),
            contract_id,
            input,
        )
        .await
        .map_err(ApiError::from)?;
        ok(contract_line(l))
    }

    async fn list_contract_lines(
        &self,
        req: Request<pb::ListContractLinesRequest>,
    ) -> Reply<pb::ContractLineList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let contract_id = target(&r.contract_id)?;
        let out = contracts::list_lines(
            &self.state.pool,
            &p,
            contract_id,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::ContractLineList {
            items: out.items.into_iter().map(contract_line).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn get_contract_line(
        &self,
        req: Request<pb::BillingIdRequest>,
    ) -> Reply<pb::ContractLine> {
        let p = self.principal(&req).await?;
        let l = contracts::get_line(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(contract_line(l))
    }

    async fn update_contract_line(
        &self,
        req: Request<pb::UpdateContractLineRequest>,
    ) -> Reply<pb::ContractLine> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let patch = ContractLinePatch {
            service_id: opt_id("service_id", r.service_id.as_deref())?,
            description: r.description,
            taxable: r.taxable,
            position: r.position,
            terms: opt_json("terms_json", r.terms_json)?,
        };
        let l = contracts::update_line(&self.state.pool, &p, which, patch)
            .await
            .map_err(ApiError::from)?;
        ok(contract_line(l))
    }

    async fn create_client_contract(
        &self,
        req: Request<pb::CreateClientContractRequest>,
    ) -> Reply<pb::ClientContract> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = AssignmentInput {
            client_id: id("client_id", &r.client_id)?,
            contract_id: id("contract_id", &r.contract_id)?,
            start_date: date("start_date", &r.start_date)?,
            end_date: opt_date("end_date", r.end_date)?,
            currency: r.currency,
            billing_cycle: billing_cycle(&r.billing_cycle)?,
            anchor: anchor(r.anchor)?,
            timing: timing(r.timing)?,
        };
        let a = assignments::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(client_contract(a))
    }

    async fn get_client_contract(
        &self,
        req: Request<pb::BillingIdRequest>,
    ) -> Reply<pb::ClientContract> {
        let p = self.principal(&req).await?;
        let a = assignments::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(client_contract(a))
    }

    async fn list_client_contracts(
        &self,
        req: Request<pb::ListClientContractsRequest>,
    ) -> Reply<pb::ClientContractList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = opt_id("client_id", r.client_id.as_deref())?;
        let out = assignments::list(
            &self.state.pool,
            &p,
            client,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::ClientContractList {
            items: out.items.into_iter().map(client_contract).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn update_client_contract(
        &self,
        req: Request<pb::UpdateClientContractRequest>,
    ) -> Reply<pb::ClientContract> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let patch = AssignmentPatch {
            end_date: opt_date("end_date", r.end_date)?,
        };
        let a = assignments::update(&self.state.pool, &p, which, patch)
            .await
            .map_err(ApiError::from)?;
        ok(client_contract(a))
    }

    async fn create_tax_region(
        &self,
        req: Request<pb::CreateTaxRegionRequest>,
    ) -> Reply<pb::TaxRegion> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = TaxRegionInput {
            name: r.name,
            components: json("components_json", &r.components_json)?,
        };
        let t = tax::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(tax_region(t))
    }

    async fn get_tax_region(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::TaxRegion> {
        let p = self.principal(&req).await?;
        let t = tax::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(tax_region(t))
    }

    async fn list_tax_regions(
        &self,
        req: Request<pb::BillingListRequest>,
    ) -> Reply<pb::TaxRegionList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let out = tax::list(&self.state.pool, &p, page(r.limit, r.cursor.as_deref())?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::TaxRegionList {
            items: out.items.into_iter().map(tax_region).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn update_tax_region(
        &self,
        req: Request<pb::UpdateTaxRegionRequest>,
    ) -> Reply<pb::TaxRegion> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let patch = TaxRegionPatch {
            name: r.name,
            components: opt_json("components_json", r.components_json)?,
        };
        let t = tax::update(&self.state.pool, &p, which, patch)
            .await
            .map_err(ApiError::from)?;
        ok(tax_region(t))
    }

    async fn get_client_tax_settings(
        &self,
        req: Request<pb::ClientTaxSettingsRequest>,
    ) -> Reply<pb::ClientTaxSettings> {
        let p = self.principal(&req).await?;
        let s = tax::get_settings(&self.state.pool, &p, target(&req.get_ref().client_id)?)
            .await
            .map_err(ApiError::from)?;
        ok(tax_settings(s))
    }

    async fn put_client_tax_settings(
        &self,
        req: Request<pb::PutClientTaxSettingsRequest>,
    ) -> Reply<pb::ClientTaxSettings> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = target(&r.client_id)?;
        let input = ClientTaxSettingsInput {
            region_id: opt_id("region_id", r.region_id.as_deref())?,
            exempt: r.exempt,
            reverse_charge: r.reverse_charge,
        };
        let s = tax::put_settings(&self.state.pool, &p, client, input)
            .await
            .map_err(ApiError::from)?;
        ok(tax_settings(s))
    }

    async fn create_credit(&self, req: Request<pb::CreateCreditRequest>) -> Reply<pb::Credit> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = CreditInput {
            client_id: id("client_id", &r.client_id)?,
            amount: r.amount,
            currency: r.currency,
            expires_on: opt_date("expires_on", r.expires_on)?,
            source: credit_source(r.source)?,
            note: r.note,
        };
        let c = credits::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(credit(c))
    }

    async fn get_credit(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Credit> {
        let p = self.principal(&req).await?;
        let c = credits::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(credit(c))
    }

    async fn list_credits(&self, req: Request<pb::ListCreditsRequest>) -> Reply<pb::CreditList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = opt_id("client_id", r.client_id.as_deref())?;
        let out = credits::list(
            &self.state.pool,
            &p,
            client,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::CreditList {
            items: out.items.into_iter().map(credit).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn update_credit(&self, req: Request<pb::UpdateCreditRequest>) -> Reply<pb::Credit> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let patch = CreditPatch {
            expires_on: opt_date("expires_on", r.expires_on)?,
            note: r.note,
        };
        let c = credits::update(&self.state.pool, &p, which, patch)
            .await
            .map_err(ApiError::from)?;
        ok(credit(c))
    }

    async fn record_usage(
        &self,
        req: Request<pb::RecordUsageRequest>,
    ) -> Reply<pb::RecordUsageResponse> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = UsageInput {
            client_id: id("client_id", &r.client_id)?,
            service_id: id("service_id", &r.service_id)?,
            quantity: r.quantity,
            occurred_at: instant("occurred_at", r.occurred_at)?,
            external_id: r.external_id,
        };
        let (record, created) = usage::record(&self.state.pool, &p, input)
            .await
            .map_err(ApiError::from)?;
        ok(pb::RecordUsageResponse {
            record: Some(usage_record(record)),
            created,
        })
    }

    async fn get_usage(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::UsageRecord> {
        let p = self.principal(&req).await?;
        let u = usage::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(usage_record(u))
    }

    async fn list_usage(&self, req: Request<pb::ListUsageRequest>) -> Reply<pb::UsageList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = opt_id("client_id", r.client_id.as_deref())?;
        let svc = opt_id("service_id", r.service_id.as_deref())?;
        let out = usage::list(
            &self.state.pool,
            &p,
            client,
            svc,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::UsageList {
            items: out.items.into_iter().map(usage_record).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn create_time_entry(
        &self,
        req: Request<pb::CreateTimeEntryRequest>,
    ) -> Reply<pb::TimeEntry> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = TimeEntryInput {
            worker_id: id("worker_id", &r.worker_id)?,
            ticket_id: opt_id("ticket_id", r.ticket_id.as_deref())?,
            client_id: opt_id("client_id", r.client_id.as_deref())?,
            project_ref: r.project_ref,
            service_id: id("service_id", &r.service_id)?,
            work_date: opt_date("work_date", r.work_date)?,
            started_at: opt_instant("started_at", r.started_at)?,
            ended_at: opt_instant("ended_at", r.ended_at)?,
            minutes: r.minutes,
            billable: r.billable,
            note: r.note,
        };
        let e = time_entries::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(time_entry(e))
    }

    async fn get_time_entry(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::TimeEntry> {
        let p = self.principal(&req).await?;
        let e = time_entries::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(time_entry(e))
    }

    async fn list_time_entries(
        &self,
        req: Request<pb::ListTimeEntriesRequest>,
    ) -> Reply<pb::TimeEntryList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let filter = EntryFilter {
            worker_id: opt_id("worker_id", r.worker_id.as_deref())?,
            client_id: opt_id("client_id", r.client_id.as_deref())?,
            timesheet_id: opt_id("timesheet_id", r.timesheet_id.as_deref())?,
            status: timesheet_status(r.status)?,
        };
        let out = time_entries::list(
            &self.state.pool,
            &p,
            filter,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::TimeEntryList {
            items: out.items.into_iter().map(time_entry).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn update_time_entry(
        &self,
        req: Request<pb::UpdateTimeEntryRequest>,
    ) -> Reply<pb::TimeEntry> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        if let Some(c) = r.clear.iter().find(|c| !CLEARABLE.contains(&c.as_str())) {
            return Err(ApiError::invalid(
                "clear",
                format!("`{c}` is not one of {}", CLEARABLE.join(", ")),
            )
            .into());
        }
        let patch = TimeEntryPatch {
            ticket_id: nullable(
                "ticket_id",
                opt_id("ticket_id", r.ticket_id.as_deref())?,
                &r.clear,
            )?,
            client_id: opt_id("client_id", r.client_id.as_deref())?,
            project_ref: nullable("project_ref", r.project_ref, &r.clear)?,
            service_id: opt_id("service_id", r.service_id.as_deref())?,
            work_date: opt_date("work_date", r.work_date)?,
            started_at: nullable(
                "started_at",
                opt_instant("started_at", r.started_at)?,
                &r.clear,
            )?,
            ended_at: nullable("ended_at", opt_instant("ended_at", r.ended_at)?, &r.clear)?,
            minutes: r.minutes,
            billable: r.billable,
            note: nullable("note", r.note, &r.clear)?,
        };
        let e = time_entries::update(&self.state.pool, &p, which, patch)
            .await
            .map_err(ApiError::from)?;
        ok(time_entry(e))
    }

    async fn delete_time_entry(
        &self,
        req: Request<pb::BillingIdRequest>,
    ) -> Reply<pb::BillingDeleted> {
        let p = self.principal(&req).await?;
        time_entries::delete(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(pb::BillingDeleted {})
    }

    async fn create_timesheet(
        &self,
        req: Request<pb::CreateTimesheetRequest>,
    ) -> Reply<pb::Timesheet> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let input = TimesheetInput {
            worker_id: id("worker_id", &r.worker_id)?,
            period_start: date("period_start", &r.period_start)?,
            period_end: date("period_end", &r.period_end)?,
        };
        let t = timesheets::create(&self.state.pool, &p, r.idempotency_key.as_deref(), input)
            .await
            .map_err(ApiError::from)?;
        ok(timesheet(t))
    }

    async fn get_timesheet(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Timesheet> {
        let p = self.principal(&req).await?;
        let t = timesheets::get(&self.state.pool, &p, target(&req.get_ref().id)?)
            .await
            .map_err(ApiError::from)?;
        ok(timesheet(t))
    }

    async fn list_timesheets(
        &self,
        req: Request<pb::ListTimesheetsRequest>,
    ) -> Reply<pb::TimesheetList> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let filter = TimesheetFilter {
            worker_id: opt_id("worker_id", r.worker_id.as_deref())?,
            status: timesheet_status(r.status)?,
        };
        let out = timesheets::list(
            &self.state.pool,
            &p,
            filter,
            page(r.limit, r.cursor.as_deref())?,
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::TimesheetList {
            items: out.items.into_iter().map(timesheet).collect(),
            next_cursor: out.next_cursor,
        })
    }

    async fn submit_timesheet(
        &self,
        req: Request<pb::SubmitTimesheetRequest>,
    ) -> Reply<pb::Timesheet> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let input = SubmitTimesheet {
            approver_id: id("approver_id", &r.approver_id)?,
        };
        let t = timesheets::submit(&self.state.pool, &p, which, input)
            .await
            .map_err(ApiError::from)?;
        ok(timesheet(t))
    }

    async fn approve_timesheet(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Timesheet> {
        let p = self.principal(&req).await?;
        let t = timesheets::approve(
            &self.state.pool,
            &p,
            target(&req.get_ref().id)?,
            ApproveTimesheet {},
        )
        .await
        .map_err(ApiError::from)?;
        ok(timesheet(t))
    }

    async fn reject_timesheet(
        &self,
        req: Request<pb::RejectTimesheetRequest>,
    ) -> Reply<pb::Timesheet> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let which = target(&r.id)?;
        let t = timesheets::reject(
            &self.state.pool,
            &p,
            which,
            RejectTimesheet { reason: r.reason },
        )
        .await
        .map_err(ApiError::from)?;
        ok(timesheet(t))
    }

    async fn reopen_timesheet(&self, req: Request<pb::BillingIdRequest>) -> Reply<pb::Timesheet> {
        let p = self.principal(&req).await?;
        let t = timesheets::reopen(
            &self.state.pool,
            &p,
            target(&req.get_ref().id)?,
            ReopenTimesheet {},
        )
        .await
        .map_err(ApiError::from)?;
        ok(timesheet(t))
    }

    async fn preview_invoice(
        &self,
        req: Request<pb::PreviewInvoiceRequest>,
    ) -> Reply<pb::InvoicePreview> {
        let p = self.principal(&req).await?;
        let body = json("request_json", &req.get_ref().request_json)?;
        let answer = preview::preview(&p, body).await.map_err(ApiError::from)?;
        ok(pb::InvoicePreview {
            response_json: answer.to_string(),
        })
    }

    async fn preview_client_invoice(
        &self,
        req: Request<pb::PreviewClientInvoiceRequest>,
    ) -> Reply<pb::InvoicePreview> {
        let p = self.principal(&req).await?;
        let r = req.into_inner();
        let client = target(&r.client_id)?;
        let period_start = date("period_start", &r.period_start)?;
        let answer = client_preview::preview(
            &self.state.pool,
            &p,
            client,
            period_start,
            present(r.currency).as_deref(),
        )
        .await
        .map_err(ApiError::from)?;
        ok(pb::InvoicePreview {
            response_json: answer.to_string(),
        })
    }
}
