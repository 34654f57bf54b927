//! Billing e-mail: who a billing event is for, and what its message can say.
//!
//! Invoices, payment receipts, reminders and credit notices go to the billing contact of the
//! client they are about, not to MSP users. The events carry IDs and amounts only; the store
//! reads the client's name and the invoice (items, tax, totals) when the message is made, and
//! templates reach them as `client` and `invoice` beside the event's own fields.

use crate::events::{Envelope, Event};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

/// Most invoice items a message lists; `more_line_items` counts the rest, so a huge invoice
/// still renders within the templates' output cap.
pub const MAX_LISTED_ITEMS: usize = 200;

/// The client whose billing contact an event is addressed to, for billing events.
pub fn billing_client(event: &Event) -> Option<Uuid> {
    match event {
        Event::InvoiceGenerated(i) => Some(i.client_id),
        Event::InvoiceFinalized(i) => Some(i.client_id),
        Event::InvoiceOverdue(i) => Some(i.client_id),
        Event::PaymentRecorded(p) => Some(p.client_id),
        Event::CreditIssued(c) => Some(c.client_id),
        _ => None,
    }
}

/// The invoice a billing event is about, whose document the message carries.
pub fn invoice_of(event: &Event) -> Option<Uuid> {
    match event {
        Event::InvoiceGenerated(i) => Some(i.invoice_id),
        Event::InvoiceFinalized(i) => Some(i.invoice_id),
        Event::InvoiceOverdue(i) => Some(i.invoice_id),
        Event::PaymentRecorded(p) => p.invoice_id,
        _ => None,
    }
}

/// What a billing message knows beyond its event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BillingDocument {
    pub client: ClientCard,
    /// `None` for events about no invoice (a credit, a payment on account).
    pub invoice: Option<InvoiceDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientCard {
    pub name: String,
}

/// An invoice as a message shows it. Amounts are decimal strings in the invoice's currency;
/// absent values are empty strings, so templates print nothing rather than fail.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvoiceDocument {
    pub number: String,
    pub status: String,
    pub currency: String,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub period_start: String,
    pub period_end: String,
    pub subtotal: String,
    pub tax_total: String,
    pub total: String,
    pub credits_applied: String,
    pub has_credits_applied: bool,
    pub amount_due: String,
    pub note: String,
    pub line_items: Vec<DocumentItem>,
    /// Items beyond [`MAX_LISTED_ITEMS`], not listed.
    pub more_line_items: usize,
    pub tax: Vec<DocumentTax>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentItem {
    pub description: String,
    pub quantity: String,
    pub rate: String,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentTax {
    pub name: String,
    pub amount: String,
}

/// An invoice's figures as stored, for [`InvoiceDocument::new`].
#[derive(Debug, Clone)]
pub struct InvoiceFigures {
    pub number: Option<String>,
    pub status: String,
    pub currency: String,
    pub invoice_date: NaiveDate,
    pub due_date: NaiveDate,
    pub period_start: Option<NaiveDate>,
    pub period_end: Option<NaiveDate>,
    pub subtotal: Decimal,
    pub tax_total: Decimal,
    pub total: Decimal,
    pub credits_applied: Decimal,
    pub amount_due: Decimal,
    pub note: Option<String>,
}

impl InvoiceDocument {
    pub fn new(
        f: InvoiceFigures,
        items: impl ExactSizeIterator<Item = DocumentItem>,
        tax: Vec<DocumentTax>,
    ) -> Self {
        let count = items.len();
        let date = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
        InvoiceDocument {
            number: f.number.unwrap_or_default(),
            status: f.status,
            currency: f.currency,
            invoice_date: f.invoice_date,
            due_date: f.due_date,
            period_start: date(f.period_start),
            period_end: date(f.period_end),
            subtotal: f.subtotal.to_string(),
            tax_total: f.tax_total.to_string(),
            total: f.total.to_string(),
            credits_applied: f.credits_applied.to_string(),
            has_credits_applied: !f.credits_applied.is_zero(),
            amount_due: f.amount_due.to_string(),
            note: f.note.unwrap_or_default(),
            line_items: items.take(MAX_LISTED_ITEMS).collect(),
            more_line_items: count.saturating_sub(MAX_LISTED_ITEMS),
            tax,
        }
    }
}

/// Decimal or nothing, as an item's quantity or rate reads.
pub fn optional_amount(d: Option<Decimal>) -> String {
    d.map(|d| d.normalize().to_string()).unwrap_or_default()
}

/// [`super::context`] with the document's `client` and `invoice` added.
pub fn context_with(env: &Envelope, doc: Option<&BillingDocument>) -> Value {
    let mut ctx = super::context(env);
    if let (Value::Object(m), Some(doc)) = (&mut ctx, doc) {
        m.insert(
            "client".into(),
            serde_json::to_value(&doc.client).unwrap_or(Value::Null),
        );
        m.insert(
            "invoice".into(),
            serde_json::to_value(&doc.invoice).unwrap_or(Value::Null),
        );
    }
    ctx
}

/// The document of a sample event, for template previews and checks: an invoice of two items
/// for the events about one.
pub fn sample_document(env: &Envelope) -> Option<BillingDocument> {
    billing_client(&env.event)?;
    let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d);
    let invoice = invoice_of(&env.event).and_then(|_| {
        let figures = InvoiceFigures {
            number: Some("INV-2026-0001".into()),
            status: "finalized".into(),
            currency: "USD".into(),
            invoice_date: day(2, 1)?,
            due_date: day(3, 3)?,
            period_start: day(1, 1),
            period_end: day(1, 31),
            subtotal: Decimal::new(115_000, 2),
            tax_total: Decimal::new(10_000, 2),
            total: Decimal::new(125_000, 2),
            credits_applied: Decimal::ZERO,
            amount_due: Decimal::new(125_000, 2),
            note: None,
        };
        let items = vec![
            DocumentItem {
                description: "Managed services".into(),
                quantity: "1".into(),
                rate: "1000.00".into(),
                amount: "1000.00".into(),
            },
            DocumentItem {
                description: "Remote support".into(),
                quantity: "1.5".into(),
                rate: "100.00".into(),
                amount: "150.00".into(),
            },
        ];
        let tax = vec![DocumentTax {
            name: "Sales tax".into(),
            amount: "100.00".into(),
        }];
        Some(InvoiceDocument::new(figures, items.into_iter(), tax))
    });
    Some(BillingDocument {
        client: ClientCard {
            name: "Acme Ltd".into(),
        },
        invoice,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notifications::{SUBTYPES, sample_event};

    fn figures(credits: Decimal) -> InvoiceFigures {
        InvoiceFigures {
            number: None,
            status: "draft".into(),
            currency: "EUR".into(),
            invoice_date: NaiveDate::MIN,
            due_date: NaiveDate::MIN,
            period_start: None,
            period_end: None,
            subtotal: Decimal::ONE,
            tax_total: Decimal::ZERO,
            total: Decimal::ONE,
            credits_applied: credits,
            amount_due: Decimal::ONE,
            note: None,
        }
    }

    fn item(n: usize) -> DocumentItem {
        DocumentItem {
            description: format!("item {n}"),
            quantity: String::new(),
            rate: String::new(),
            amount: "1".into(),
        }
    }

    #[test]
    fn a_huge_invoice_lists_its_first_items_and_counts_the_rest() {
        let doc = InvoiceDocument::new(
            figures(Decimal::ZERO),
            (0..MAX_LISTED_ITEMS + 5).map(item),
            vec![],
        );
        assert_eq!(doc.line_items.len(), MAX_LISTED_ITEMS);
        assert_eq!(doc.more_line_items, 5);
        assert_eq!(doc.line_items[0].description, "item 0");
        let small = InvoiceDocument::new(figures(Decimal::ONE), (0..3).map(item), vec![]);
        assert_eq!((small.line_items.len(), small.more_line_items), (3, 0));
        assert!(small.has_credits_applied);
        assert!(!doc.has_credits_applied);
        assert_eq!(small.period_start, "");
        assert_eq!(small.number, "");
    }

    #[test]
    fn billing_events_and_only_they_address_a_client_and_carry_a_sample_document() {
        for subtype in SUBTYPES {
            let env = sample_event(subtype).unwrap();
            let billing = billing_client(&env.event).is_some();
            assert_eq!(
                billing,
                subtype.starts_with("invoice.") || subtype == "credit.issued"
            );
            let doc = sample_document(&env);
            assert_eq!(doc.is_some(), billing, "{subtype}");
            let with_invoice = doc.and_then(|d| d.invoice).is_some();
            assert_eq!(with_invoice, invoice_of(&env.event).is_some(), "{subtype}");
        }
    }

    #[test]
    fn the_context_adds_client_and_invoice_beside_the_payload() {
        let env = sample_event("invoice.finalized").unwrap();
        let ctx = context_with(&env, sample_document(&env).as_ref());
        assert_eq!(ctx["client"]["name"], "Acme Ltd");
        assert_eq!(ctx["invoice"]["line_items"][1]["quantity"], "1.5");
        assert_eq!(ctx["number"], "INV-2026-0001");
        assert_eq!(ctx["event"]["type"], "invoice.finalized");
        let credit = sample_event("credit.issued").unwrap();
        let ctx = context_with(&credit, sample_document(&credit).as_ref());
        assert!(ctx["invoice"].is_null());
        assert_eq!(optional_amount(Some(Decimal::new(1500, 3))), "1.5");
        assert_eq!(optional_amount(None), "");
    }
}
