//! Which request field each Postgres constraint guards, stated once per constraint rather than
//! guessed from its name, so a violation the database catches names the field the caller can
//! fix. `None`: the constraint guards nothing a caller sends (the tenant every composite key
//! leads with, rows only the system writes); its violation names no field.
//!
//! The e2e test `constraints::constraint_table_matches_the_catalogue` compares this table with the database catalogue, so a new
//! constraint (or unique index) cannot be forgotten here.

/// Constraint or unique-index name → the field it guards.
pub const FIELDS: &[(&str, Option<&str>)] = &[
    ("api_keys_check", Some("role")),
    ("api_keys_role_check", Some("role")),
    ("api_keys_secret_hash_key", None),
    ("api_keys_tenant_id_client_id_fkey", Some("client_id")),
    ("api_keys_tenant_id_fkey", None),
    ("api_keys_tenant_id_user_id_fkey", Some("user_id")),
    ("board_escalation_managers_level_check", Some("level")),
    (
        "board_escalation_managers_tenant_id_board_id_fkey",
        Some("board_id"),
    ),
    ("board_escalation_managers_tenant_id_fkey", None),
    (
        "board_escalation_managers_tenant_id_user_id_fkey",
        Some("user_id"),
    ),
    ("boards_name", Some("name")),
    ("boards_tenant_id_fkey", None),
    ("boards_tenant_id_manager_id_fkey", Some("manager_id")),
    ("boards_tenant_id_sla_policy_id_fkey", Some("sla_policy_id")),
    ("business_hours_schedules_is_default", Some("is_default")),
    ("business_hours_schedules_name", Some("name")),
    ("business_hours_schedules_tenant_id_fkey", None),
    ("business_hours_windows_end_time_check", Some("end_time")),
    (
        "business_hours_windows_start_time_check",
        Some("start_time"),
    ),
    ("business_hours_windows_tenant_id_fkey", None),
    (
        "business_hours_windows_tenant_id_schedule_id_fkey",
        Some("schedule_id"),
    ),
    ("business_hours_windows_weekday_check", Some("weekday")),
    ("client_contracts_anchor_day_check", Some("anchor")),
    (
        "client_contracts_billing_cycle_check",
        Some("billing_cycle"),
    ),
    ("client_contracts_check", Some("end_date")),
    ("client_contracts_currency_check", Some("currency")),
    (
        "client_contracts_tenant_id_client_id_fkey",
        Some("client_id"),
    ),
    (
        "client_contracts_tenant_id_contract_id_fkey",
        Some("contract_id"),
    ),
    ("client_contracts_tenant_id_fkey", None),
    ("client_contracts_timing_check", Some("timing")),
    ("client_tax_settings_tenant_id_client_id_fkey", None),
    ("client_tax_settings_tenant_id_fkey", None),
    (
        "client_tax_settings_tenant_id_region_id_fkey",
        Some("region_id"),
    ),
    ("clients_billing_contact_fkey", Some("billing_contact_id")),
    ("clients_tenant_id_fkey", None),
    (
        "clients_tenant_id_sla_policy_id_fkey",
        Some("sla_policy_id"),
    ),
    ("contacts_tenant_id_client_id_fkey", Some("client_id")),
    ("contacts_tenant_id_client_id_id_key", None),
    ("contract_lines_kind_check", Some("type")),
    ("contract_lines_tenant_id_contract_id_fkey", None),
    ("contract_lines_tenant_id_fkey", None),
    (
        "contract_lines_tenant_id_service_id_fkey",
        Some("service_id"),
    ),
    ("contract_lines_terms_check", Some("terms")),
    ("contracts_name", Some("name")),
    ("contracts_tenant_id_fkey", None),
    ("credits_amount_check", Some("amount")),
    ("credits_check", Some("amount")),
    ("credits_currency_check", Some("currency")),
    ("credits_source_check", Some("source")),
    ("credits_tenant_id_client_id_fkey", Some("client_id")),
    ("credits_tenant_id_fkey", None),
    ("holidays_tenant_id_fkey", None),
    ("holidays_tenant_id_schedule_id_fkey", Some("schedule_id")),
    ("idempotency_keys_tenant_id_fkey", None),
    ("in_app_notifications_subtype_code_fkey", None),
    ("in_app_notifications_tenant_id_event_id_user_id_key", None),
    ("in_app_notifications_tenant_id_user_id_fkey", None),
    ("invoice_items_kind_check", None),
    ("invoice_items_tenant_id_contract_line_id_fkey", None),
    ("invoice_items_tenant_id_fkey", None),
    ("invoice_items_tenant_id_invoice_id_fkey", None),
    ("invoice_runs_check", None),
    ("invoice_runs_done_check", None),
    ("invoice_runs_empty_check", None),
    ("invoice_runs_period_check", Some("period")),
    ("invoice_runs_requests_check", None),
    ("invoice_runs_status_check", None),
    ("invoice_runs_tenant_id_fkey", None),
    ("invoice_runs_tenant_id_period_key", Some("period")),
    ("invoice_runs_total_check", None),
    ("invoice_settings_next_number_check", Some("next_number")),
    ("invoice_settings_padding_check", Some("padding")),
    (
        "invoice_settings_payment_terms_days_check",
        Some("payment_terms_days"),
    ),
    ("invoice_settings_prefix_check", Some("prefix")),
    ("invoice_settings_tenant_id_fkey", None),
    ("invoice_settings_timezone_check", Some("timezone")),
    ("invoice_tax_tenant_id_fkey", None),
    ("invoice_tax_tenant_id_invoice_id_fkey", None),
    ("invoices_check", Some("period_end")),
    ("invoices_check1", Some("due_date")),
    ("invoices_check2", None),
    ("invoices_check3", None),
    ("invoices_currency_check", Some("currency")),
    ("invoices_number", None),
    ("invoices_run_period", None),
    ("invoices_source_check", None),
    ("invoices_status_check", None),
    ("invoices_tenant_id_client_id_fkey", Some("client_id")),
    ("invoices_tenant_id_fkey", None),
    ("ledger_transactions_account_check", None),
    ("ledger_transactions_amount_check", Some("amount")),
    ("ledger_transactions_check", None),
    ("ledger_transactions_check1", None),
    ("ledger_transactions_currency_check", Some("currency")),
    ("ledger_transactions_kind_check", None),
    (
        "ledger_transactions_tenant_id_client_id_fkey",
        Some("client_id"),
    ),
    ("ledger_transactions_tenant_id_credit_id_fkey", None),
    ("ledger_transactions_tenant_id_fkey", None),
    ("ledger_transactions_tenant_id_invoice_id_fkey", None),
    ("ledger_transactions_tenant_id_payment_id_fkey", None),
    ("notification_log_channel_check", None),
    ("notification_log_status_check", None),
    ("notification_log_subtype_code_fkey", None),
    ("notification_log_template_source_check", None),
    (
        "notification_log_tenant_id_event_id_recipient_id_channel_key",
        None,
    ),
    ("notification_log_tenant_id_fkey", None),
    ("notification_send_budget_tenant_id_fkey", None),
    ("outbox_tenant_id_event_id_key", None),
    ("outbox_tenant_id_fkey", None),
    ("payments_amount_check", Some("amount")),
    ("payments_check", Some("amount")),
    ("payments_currency_check", Some("currency")),
    ("payments_method_check", Some("method")),
    ("payments_tenant_id_client_id_fkey", Some("client_id")),
    ("payments_tenant_id_fkey", None),
    ("payments_tenant_id_invoice_id_fkey", Some("invoice_id")),
    ("priorities_name", Some("name")),
    ("priorities_tenant_id_fkey", None),
    ("schedule_entries_check", None),
    ("schedule_entries_check1", None),
    (
        "schedule_entries_duration_minutes_check",
        Some("duration_minutes"),
    ),
    ("schedule_entries_exdates_check", Some("exdates")),
    (
        "schedule_entries_reminder_minutes_check",
        Some("reminder_minutes"),
    ),
    ("schedule_entries_rrule_check", Some("rrule")),
    ("schedule_entries_tenant_id_fkey", None),
    (
        "schedule_entries_tenant_id_ticket_id_fkey",
        Some("ticket_id"),
    ),
    ("schedule_entries_timezone_check", Some("timezone")),
    ("schedule_entries_title_check", Some("title")),
    ("schedule_entry_assignees_tenant_id_entry_id_fkey", None),
    ("schedule_entry_assignees_tenant_id_fkey", None),
    (
        "schedule_entry_assignees_tenant_id_user_id_fkey",
        Some("assignees"),
    ),
    ("schedule_reminders_tenant_id_entry_id_fkey", None),
    ("schedule_reminders_tenant_id_fkey", None),
    ("services_name", Some("name")),
    ("services_rates_check", Some("rates")),
    ("services_tenant_id_fkey", None),
    ("sla_audit_log_tenant_id_fkey", None),
    ("sla_audit_log_tenant_id_ticket_id_fkey", None),
    ("sla_audit_log_tenant_id_ticket_id_step_key_key", None),
    (
        "sla_notification_thresholds_channels_check",
        Some("channels"),
    ),
    ("sla_notification_thresholds_percent_check", Some("percent")),
    ("sla_notification_thresholds_tenant_id_fkey", None),
    (
        "sla_notification_thresholds_tenant_id_policy_id_fkey",
        Some("policy_id"),
    ),
    ("sla_policies_check", Some("escalation_percents")),
    (
        "sla_policies_escalation_1_percent_check",
        Some("escalation_percents"),
    ),
    (
        "sla_policies_escalation_2_percent_check",
        Some("escalation_percents"),
    ),
    (
        "sla_policies_escalation_3_percent_check",
        Some("escalation_percents"),
    ),
    ("sla_policies_is_default", Some("is_default")),
    ("sla_policies_name", Some("name")),
    ("sla_policies_tenant_id_fkey", None),
    (
        "sla_policies_tenant_id_schedule_id_fkey",
        Some("schedule_id"),
    ),
    (
        "sla_policy_targets_resolution_minutes_check",
        Some("resolution_minutes"),
    ),
    (
        "sla_policy_targets_response_minutes_check",
        Some("response_minutes"),
    ),
    ("sla_policy_targets_tenant_id_fkey", None),
    (
        "sla_policy_targets_tenant_id_policy_id_fkey",
        Some("policy_id"),
    ),
    (
        "sla_policy_targets_tenant_id_priority_id_fkey",
        Some("priority_id"),
    ),
    ("sla_retime_jobs_tenant_id_fkey", None),
    ("statuses_check", Some("is_default")),
    ("statuses_is_default", Some("is_default")),
    ("statuses_name", Some("name")),
    ("statuses_tenant_id_fkey", None),
    ("system_email_templates_subtype_code_fkey", None),
    ("tax_regions_components_check", Some("components")),
    ("tax_regions_name", Some("name")),
    ("tax_regions_tenant_id_fkey", None),
    ("tenant_email_templates_subtype_code_fkey", None),
    ("tenant_email_templates_tenant_id_fkey", None),
    ("tenant_notification_categories_tenant_id_fkey", None),
    (
        "tenant_notification_settings_rate_limit_per_minute_check",
        Some("rate_limit_per_minute"),
    ),
    ("tenant_notification_settings_tenant_id_fkey", None),
    ("tenant_notification_subtypes_subtype_code_fkey", None),
    ("tenant_notification_subtypes_tenant_id_fkey", None),
    ("tenant_sla_settings_tenant_id_fkey", None),
    ("tenants_slug_check", Some("slug")),
    ("tenants_slug_key", Some("slug")),
    ("ticket_comments_author_kind_check", None),
    ("ticket_comments_tenant_id_author_user_id_fkey", None),
    (
        "ticket_comments_tenant_id_ticket_id_fkey",
        Some("ticket_id"),
    ),
    ("tickets_sla_escalation_level_check", None),
    ("tickets_sla_state_check", None),
    ("tickets_tenant_id_assignee_id_fkey", Some("assignee_id")),
    ("tickets_tenant_id_board_id_fkey", Some("board_id")),
    ("tickets_tenant_id_client_id_fkey", Some("client_id")),
    ("tickets_tenant_id_contact_id_fkey", Some("contact_id")),
    ("tickets_tenant_id_fkey", None),
    ("tickets_tenant_id_number_key", None),
    ("tickets_tenant_id_priority_id_fkey", Some("priority_id")),
    (
        "tickets_tenant_id_sla_policy_id_fkey",
        Some("sla_policy_id"),
    ),
    ("tickets_tenant_id_status_id_fkey", Some("status_id")),
    ("time_entries_check", Some("ended_at")),
    ("time_entries_minutes_check", Some("minutes")),
    ("time_entries_tenant_id_client_id_fkey", Some("client_id")),
    ("time_entries_tenant_id_fkey", None),
    ("time_entries_tenant_id_invoice_item_id_fkey", None),
    ("time_entries_tenant_id_service_id_fkey", Some("service_id")),
    ("time_entries_tenant_id_ticket_id_fkey", Some("ticket_id")),
    ("time_entries_tenant_id_worker_id_fkey", Some("worker_id")),
    ("timesheets_check", Some("period_end")),
    ("timesheets_status_check", None),
    ("timesheets_tenant_id_approver_id_fkey", Some("approver_id")),
    ("timesheets_tenant_id_fkey", None),
    ("timesheets_tenant_id_worker_id_fkey", Some("worker_id")),
    ("usage_records_external_id", Some("external_id")),
    ("usage_records_quantity_check", Some("quantity")),
    ("usage_records_tenant_id_client_id_fkey", Some("client_id")),
    ("usage_records_tenant_id_fkey", None),
    ("usage_records_tenant_id_invoice_item_id_fkey", None),
    (
        "usage_records_tenant_id_service_id_fkey",
        Some("service_id"),
    ),
    (
        "user_notification_preferences_subtype_code_fkey",
        Some("subtype"),
    ),
    ("user_notification_preferences_tenant_id_user_id_fkey", None),
    ("users_check", Some("client_id")),
    ("users_email", Some("email")),
    ("users_kind_check", Some("kind")),
    ("users_tenant_id_client_id_fkey", Some("client_id")),
    ("users_tenant_id_fkey", None),
];

/// The field `constraint` guards; `None` when it guards none or is not in [`FIELDS`].
pub fn field_of(constraint: &str) -> Option<&'static str> {
    FIELDS
        .iter()
        .find(|(name, _)| *name == constraint)
        .and_then(|(_, field)| *field)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_sorted() {
        assert!(FIELDS.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn foreign_keys_name_the_referencing_field() {
        assert_eq!(
            field_of("tickets_tenant_id_board_id_fkey"),
            Some("board_id")
        );
        assert_eq!(field_of("tickets_tenant_id_fkey"), None);
        assert_eq!(field_of("no_such_constraint"), None);
    }
}
