-- SLA events carry the ticket's ID, phase and due time, not its snapshot: their default
-- templates refer to those fields (templates render strictly, so a missing field is an error).
UPDATE system_email_templates
SET subject = 'SLA ' || replace(subtype_code, 'sla.', '') || ': ticket {{ticket_id}} ({{phase}})',
    html = '<p>SLA ' || replace(subtype_code, 'sla.', '') || ' on ticket {{ticket_id}}, {{phase}} phase.</p>',
    text = 'SLA ' || replace(subtype_code, 'sla.', '') || ' on ticket {{ticket_id}}, {{phase}} phase.',
    version = version + 1
WHERE subtype_code LIKE 'sla.%';
