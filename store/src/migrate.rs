//! `psa-edge migrate`: creates the database if needed and applies `migrations/`.
//!
//! Runs as the schema owner (`MIGRATION_DATABASE_URL`), never as the application role.

use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres};

/// The project's migrations, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Creates the database named in `owner_url` when missing, applies pending migrations, and
/// returns a pool connected as the owner.
pub async fn migrate(owner_url: &str) -> Result<PgPool, MigrateError> {
    if !Postgres::database_exists(owner_url).await? {
        // Two migrators racing to create it is fine: the loser sees it exist.
        if let Err(e) = Postgres::create_database(owner_url).await
            && !Postgres::database_exists(owner_url).await?
        {
            return Err(e.into());
        }
    }
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(owner_url)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}
