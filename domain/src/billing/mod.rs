//! The billing preview engine: what an invoice for a period would hold, computed exactly.
//!
//! `POST /v1/invoices/preview` hands its body to [`preview`]; the stored path assembles a
//! [`PreviewInput`] from the database and calls [`compute`]. Both end in the same
//! [`InvoiceDraft`], so a preview always matches the invoice it predicts. Pure: no I/O, no
//! floats, and no panics on any input — hostile numbers end in an [`InputError`] naming the
//! field, which the edge answers with 400.

mod allocate;
mod credits;
mod currency;
mod cycle;
mod decimal;
mod discounts;
mod draft;
mod due;
mod error;
mod input;
mod lines;
mod response;
pub mod run;
mod tax;
mod validate;

pub use allocate::allocate;
pub use currency::InvoiceCurrency;
pub use cycle::{
    Anchor, BillingCycle, CycleError, Timing, check_anchor, period_containing, period_starting,
    previous_period,
};
pub use decimal::{format_money, parse_strict, round_half_away, round_up};
pub use draft::compute;
pub use due::{AssignmentTerms, DueInvoice, RunPeriod, invoices_due};
pub use error::InputError;
pub use input::{
    Bracket, BucketLine, Credit, Discount, DiscountKind, FixedLine, HourlyLine, Line, LineKind,
    MAX_MINUTES, Overtime, Period, PreviewInput, ProductLine, Service, Tax, TaxComponent, TaxRate,
    Tier, TierMode, TimeEntry, UsageLine, UsageRecord,
};
pub use lines::billed_minutes;
pub use response::{
    Allocation, Amount, BucketReport, CreditApplied, InvoiceDraft, Item, ItemKind, PeriodEcho,
    Plain, TaxRow,
};
pub use tax::progressive;
pub use validate::{MAX_DISCOUNTS, MAX_PERIOD_DAYS, MAX_RATE_DECIMALS, validate};

use serde_json::Value;

/// Reads and validates a preview request body.
pub fn read_request(body: &Value) -> Result<PreviewInput, InputError> {
    let input = PreviewInput::from_json(body)?;
    validate(&input)?;
    Ok(input)
}

/// The whole preview: request JSON in, response JSON out (or the field to fix).
pub fn preview(body: &Value) -> Result<Value, InputError> {
    let draft = compute(&PreviewInput::from_json(body)?)?;
    // The draft holds only strings, integers, booleans and lists; serialising cannot fail, but
    // should it ever, the caller still gets an answer rather than a panic.
    serde_json::to_value(&draft)
        .map_err(|e| InputError::new("body", format!("the draft could not be written: {e}")))
}

#[cfg(test)]
mod tests;
