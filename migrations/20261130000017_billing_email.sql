-- Billing e-mail: each client names the contact its invoices, payment receipts, reminders and
-- credit notices go to, and the standard templates for those messages carry the invoice.

-- A contact's client is part of a key, so the client's billing contact can be required to be
-- one of the client's own contacts by the database itself.
ALTER TABLE contacts ADD CONSTRAINT contacts_tenant_id_client_id_id_key UNIQUE (tenant_id, client_id, id);

ALTER TABLE clients ADD COLUMN billing_contact_id uuid;
ALTER TABLE clients ADD CONSTRAINT clients_billing_contact_fkey
    FOREIGN KEY (tenant_id, id, billing_contact_id) REFERENCES contacts (tenant_id, client_id, id);

INSERT INTO notification_subtypes (code, category, name, position) VALUES
    ('invoice.finalized', 'invoices', 'Invoice finalized', 18),
    ('credit.issued',     'invoices', 'Credit issued',     19);

-- The standard templates. `client.name` and (for events about an invoice) `invoice` with its
-- items, tax and totals come from the database when the message is made; a payment need not
-- name an invoice, so its template asks first.
INSERT INTO system_email_templates (subtype_code, subject, html, text) VALUES
    ('invoice.finalized', '', '', ''),
    ('credit.issued', '', '', '');

UPDATE system_email_templates SET
    subject = 'Invoice {{invoice.number}}: {{invoice.total}} {{invoice.currency}} due {{invoice.due_date}}',
    html = '<p>Dear {{client.name}},</p>
<p>Please find invoice <strong>{{invoice.number}}</strong> of {{invoice.invoice_date}}{{#if invoice.period_start}} for {{invoice.period_start}} to {{invoice.period_end}}{{/if}}.</p>
<table>
<thead><tr><th>Description</th><th>Quantity</th><th>Rate</th><th>Amount</th></tr></thead>
<tbody>
{{#each invoice.line_items}}<tr><td>{{description}}</td><td>{{quantity}}</td><td>{{rate}}</td><td>{{amount}}</td></tr>
{{/each}}</tbody>
</table>
<p>Subtotal {{invoice.subtotal}}<br>
{{#each invoice.tax}}{{name}} {{amount}}<br>
{{/each}}Total {{invoice.total}} {{invoice.currency}}<br>
{{#if invoice.has_credits_applied}}Credits applied {{invoice.credits_applied}}<br>
{{/if}}<strong>Amount due {{invoice.amount_due}} {{invoice.currency}} by {{invoice.due_date}}</strong></p>',
    text = 'Dear {{client.name}},

Please find invoice {{invoice.number}} of {{invoice.invoice_date}}{{#if invoice.period_start}} for {{invoice.period_start}} to {{invoice.period_end}}{{/if}}.

{{#each invoice.line_items}}- {{description}}: {{amount}}
{{/each}}
Subtotal {{invoice.subtotal}}
{{#each invoice.tax}}{{name}} {{amount}}
{{/each}}Total {{invoice.total}} {{invoice.currency}}
{{#if invoice.has_credits_applied}}Credits applied {{invoice.credits_applied}}
{{/if}}Amount due {{invoice.amount_due}} {{invoice.currency}} by {{invoice.due_date}}
',
    version = version + 1
WHERE subtype_code IN ('invoice.generated', 'invoice.finalized');

UPDATE system_email_templates SET
    subject = 'Reminder: invoice {{invoice.number}} was due {{invoice.due_date}}',
    html = '<p>Dear {{client.name}},</p>
<p>Invoice <strong>{{invoice.number}}</strong> of {{invoice.invoice_date}} was due on {{invoice.due_date}}; <strong>{{invoice.amount_due}} {{invoice.currency}}</strong> of its {{invoice.total}} {{invoice.currency}} is still open.</p>',
    text = 'Dear {{client.name}},

Invoice {{invoice.number}} of {{invoice.invoice_date}} was due on {{invoice.due_date}}; {{invoice.amount_due}} {{invoice.currency}} of its {{invoice.total}} {{invoice.currency}} is still open.
',
    version = version + 1
WHERE subtype_code = 'invoice.overdue';

UPDATE system_email_templates SET
    subject = 'Payment received: {{amount.amount}} {{amount.currency}}',
    html = '<p>Dear {{client.name}},</p>
<p>Thank you: we received your payment of <strong>{{amount.amount}} {{amount.currency}}</strong>{{#if invoice}} for invoice {{invoice.number}}, on which {{invoice.amount_due}} {{invoice.currency}} is now open{{/if}}.</p>',
    text = 'Dear {{client.name}},

Thank you: we received your payment of {{amount.amount}} {{amount.currency}}{{#if invoice}} for invoice {{invoice.number}}, on which {{invoice.amount_due}} {{invoice.currency}} is now open{{/if}}.
',
    version = version + 1
WHERE subtype_code = 'invoice.payment_received';

UPDATE system_email_templates SET
    subject = 'Credit of {{amount.amount}} {{amount.currency}} on your account',
    html = '<p>Dear {{client.name}},</p>
<p>A credit of <strong>{{amount.amount}} {{amount.currency}}</strong> is on your account and will be applied to your next invoices{{#if expires_on}} until {{expires_on}}{{/if}}.</p>',
    text = 'Dear {{client.name}},

A credit of {{amount.amount}} {{amount.currency}} is on your account and will be applied to your next invoices{{#if expires_on}} until {{expires_on}}{{/if}}.
',
    version = version + 1
WHERE subtype_code = 'credit.issued';
