//! The tenant's notification switches and sender, and each user's preferences.

use crate::error::StoreError;
use crate::principal::Principal;
use crate::tenant;
use psa_domain::auth::Permission;
use psa_domain::validation::{self, ValidationErrors};
use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgPool};
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Settings {
    /// Off: nothing is sent, in-app or e-mail.
    pub enabled: bool,
    /// Sender of the tenant's e-mail; absent uses the platform's.
    pub from_address: Option<String>,
    /// E-mails per minute; more wait for the next minute.
    pub rate_limit_per_minute: i32,
    pub categories: Vec<CategorySwitch>,
    pub subtypes: Vec<SubtypeSwitch>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CategorySwitch {
    pub category: String,
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SubtypeSwitch {
    pub code: String,
    pub category: String,
    pub name: String,
    /// The subtype's own switch.
    pub enabled: bool,
    /// Whether it is sent at all: its own switch, its category's and the tenant's.
    pub effective: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsPatch {
    pub enabled: Option<bool>,
    /// An e-mail address.
    #[schema(max_length = 254)]
    pub from_address: Option<String>,
    #[schema(minimum = 1, maximum = 10000)]
    pub rate_limit_per_minute: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Switch {
    pub enabled: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Preference {
    pub subtype: String,
    pub email: bool,
    pub in_app: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferenceInput {
    pub email: bool,
    pub in_app: bool,
}

async fn read(conn: &mut PgConnection, p: &Principal) -> Result<Settings, StoreError> {
    let tenant = sqlx::query!(
        r#"SELECT coalesce(s.enabled, true) AS "enabled!", s.from_address,
                  coalesce(s.rate_limit_per_minute, 60) AS "rate!"
           FROM (SELECT 1) one LEFT JOIN tenant_notification_settings s ON s.tenant_id = $1"#,
        p.tenant_id,
    )
    .fetch_one(&mut *conn)
    .await?;
    let enabled = tenant.enabled;
    let categories = sqlx::query_as!(
        CategorySwitch,
        r#"SELECT c.category AS "category!", coalesce(t.enabled, true) AS "enabled!"
           FROM (SELECT category, min(position) AS position FROM notification_subtypes GROUP BY category) c
           LEFT JOIN tenant_notification_categories t ON t.category = c.category
           ORDER BY c.position"#,
    )
    .fetch_all(&mut *conn)
    .await?;
    let subtypes = sqlx::query_as!(
        SubtypeSwitch,
        r#"SELECT s.code, s.category, s.name, coalesce(t.enabled, true) AS "enabled!",
                  $1 AND coalesce(t.enabled, true) AND coalesce(c.enabled, true) AS "effective!"
           FROM notification_subtypes s
           LEFT JOIN tenant_notification_subtypes t ON t.subtype_code = s.code
           LEFT JOIN tenant_notification_categories c ON c.category = s.category
           ORDER BY s.position"#,
        enabled,
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(Settings {
        enabled,
        from_address: tenant.from_address,
        rate_limit_per_minute: tenant.rate,
        categories,
        subtypes,
    })
}

pub async fn get(pool: &PgPool, p: &Principal) -> Result<Settings, StoreError> {
    p.require(Permission::ReadReference)?;
    let mut tx = tenant::begin(pool, p).await?;
    let s = read(&mut tx, p).await?;
    tx.commit().await?;
    Ok(s)
}

pub async fn update(
    pool: &PgPool,
    p: &Principal,
    patch: SettingsPatch,
) -> Result<Settings, StoreError> {
    p.require(Permission::ManageNotifications)?;
    let mut e = ValidationErrors::default();
    validation::optional_email(&mut e, "from_address", patch.from_address.as_deref());
    if patch
        .rate_limit_per_minute
        .is_some_and(|r| !(1..=10_000).contains(&r))
    {
        e.push("rate_limit_per_minute", "must be between 1 and 10000");
    }
    e.into_result()?;
    let mut tx = tenant::begin(pool, p).await?;
    sqlx::query!(
        "INSERT INTO tenant_notification_settings (tenant_id, enabled, from_address, rate_limit_per_minute)
         VALUES ($1, coalesce($2, true), $3, coalesce($4, 60))
         ON CONFLICT (tenant_id) DO UPDATE SET
             enabled = coalesce($2, tenant_notification_settings.enabled),
             from_address = coalesce($3, tenant_notification_settings.from_address),
             rate_limit_per_minute = coalesce($4, tenant_notification_settings.rate_limit_per_minute)",
        p.tenant_id,
        patch.enabled,
        patch.from_address,
        patch.rate_limit_per_minute,
    )
    .execute(&mut *tx)
    .await?;
    let s = read(&mut tx, p).await?;
    tx.commit().await?;
    Ok(s)
}

/// Turns a category on or off; off silences all its subtypes.
pub async fn set_category(
    pool: &PgPool,
    p: &Principal,
    category: &str,
    enabled: bool,
) -> Result<Settings, StoreError> {
    p.require(Permission::ManageNotifications)?;
    let mut tx = tenant::begin(pool, p).await?;
    let known = sqlx::query_scalar!(
        r#"SELECT EXISTS (SELECT 1 FROM notification_subtypes WHERE category = $1) AS "known!""#,
        category,
    )
    .fetch_one(&mut *tx)
    .await?;
    if !known {
        return Err(StoreError::NotFound);
    }
    sqlx::query!(
        "INSERT INTO tenant_notification_categories (tenant_id, category, enabled) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id, category) DO UPDATE SET enabled = $3",
        p.tenant_id,
        category,
        enabled,
    )
    .execute(&mut *tx)
    .await?;
    let s = read(&mut tx, p).await?;
    tx.commit().await?;
    Ok(s)
}

pub async fn set_subtype(
    pool: &PgPool,
    p: &Principal,
    code: &str,
    enabled: bool,
) -> Result<Settings, StoreError> {
    p.require(Permission::ManageNotifications)?;
    let mut tx = tenant::begin(pool, p).await?;
    let done = sqlx::query!(
        "INSERT INTO tenant_notification_subtypes (tenant_id, subtype_code, enabled)
         SELECT $1, code, $3 FROM notification_subtypes WHERE code = $2
         ON CONFLICT (tenant_id, subtype_code) DO UPDATE SET enabled = $3",
        p.tenant_id,
        code,
        enabled,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    let s = read(&mut tx, p).await?;
    tx.commit().await?;
    Ok(s)
}

/// The caller's preference for every subtype (absent ones are on).
pub async fn preferences(pool: &PgPool, p: &Principal) -> Result<Vec<Preference>, StoreError> {
    let user = p.user()?;
    let mut tx = tenant::begin(pool, p).await?;
    let rows = sqlx::query_as!(
        Preference,
        r#"SELECT s.code AS subtype, coalesce(u.email, true) AS "email!", coalesce(u.in_app, true) AS "in_app!"
           FROM notification_subtypes s
           LEFT JOIN user_notification_preferences u ON u.subtype_code = s.code AND u.user_id = $1
           ORDER BY s.position"#,
        user,
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(rows)
}

pub async fn set_preference(
    pool: &PgPool,
    p: &Principal,
    subtype: &str,
    input: PreferenceInput,
) -> Result<Vec<Preference>, StoreError> {
    let user = p.user()?;
    let mut tx = tenant::begin(pool, p).await?;
    let done = sqlx::query!(
        "INSERT INTO user_notification_preferences (tenant_id, user_id, subtype_code, email, in_app)
         SELECT $1, $2, code, $4, $5 FROM notification_subtypes WHERE code = $3
         ON CONFLICT (tenant_id, user_id, subtype_code) DO UPDATE SET email = $4, in_app = $5",
        p.tenant_id,
        user,
        subtype,
        input.email,
        input.in_app,
    )
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if done == 0 {
        return Err(StoreError::NotFound);
    }
    tx.commit().await?;
    preferences(pool, p).await
}
