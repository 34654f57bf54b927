//! The store's table of which request field each Postgres constraint guards
//! (`psa_store::constraints::FIELDS`) against the database catalogue: a new foreign key, unique
//! or check constraint (or unique index) cannot be added without saying which field it guards,
//! and a dropped one cannot linger in the table.

use psa_tests::{Parts, TestEnv};
use std::collections::BTreeSet;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn constraint_table_matches_the_catalogue() {
    let env = TestEnv::start(Parts::NONE).await.unwrap();
    let in_catalogue: BTreeSet<String> = sqlx::query_scalar::<_, String>(
        "SELECT conname::text FROM pg_constraint
          WHERE connamespace = 'public'::regnamespace AND contype IN ('f', 'u', 'c', 'x')
         UNION
         SELECT c.relname::text FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
          WHERE c.relnamespace = 'public'::regnamespace AND i.indisunique AND NOT i.indisprimary
            AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = i.indexrelid)",
    )
    .fetch_all(&env.owner)
    .await
    .unwrap()
    .into_iter()
    // sqlx's own bookkeeping table is not ours.
    .filter(|name| !name.starts_with("_sqlx"))
    .collect();
    assert!(
        in_catalogue.len() > 50,
        "the catalogue query found only {} constraints",
        in_catalogue.len()
    );
    let in_table: BTreeSet<String> = psa_store::constraints::FIELDS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .collect();
    let missing: Vec<_> = in_catalogue.difference(&in_table).collect();
    let stale: Vec<_> = in_table.difference(&in_catalogue).collect();
    assert!(
        missing.is_empty(),
        "constraints with no entry in store/src/constraints.rs: {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "entries in store/src/constraints.rs for constraints that do not exist: {stale:?}"
    );
}
