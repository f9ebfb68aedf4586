//! Migrations: Portcullis's own, embedded per backend, and an app's beside them, all under one
//! PostgreSQL advisory lock so several instances starting at once do not race.

use std::collections::BTreeSet;

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel::pg::Pg;
use diesel::sqlite::Sqlite;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::conn::{DbConn, Pool};

pub(super) const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
pub(super) const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any key will do as long as every instance uses the same one: it serializes
/// concurrent migration runs on one PostgreSQL database.
const MIGRATION_LOCK_KEY: i64 = 0x706f_7274_6375_6c6c;

/// Applies pending migrations for the connection's backend.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    let applied = match conn {
        // SQLite has no advisory lock: two processes opening a new file at once may both find
        // a migration pending. Each migration is one transaction, so the slower one fails
        // without a trace; asked again, it finds the migration applied.
        DbConn::Sqlite(c) => {
            let mut attempt = 0;
            loop {
                match c.run_pending_migrations(SQLITE_MIGRATIONS) {
                    Ok(applied) => break Ok(applied.len()),
                    Err(_) if attempt < 5 => {
                        attempt += 1;
                        std::thread::sleep(std::time::Duration::from_millis(50 * attempt));
                    }
                    Err(e) => break Err(anyhow::anyhow!("{e}")),
                }
            }
        }
        DbConn::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result = c
                .run_pending_migrations(POSTGRES_MIGRATIONS)
                .map(|v| v.len())
                .map_err(|e| anyhow::anyhow!("{e}"));
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result
        }
    }
    .context("cannot apply database migrations")?;
    if applied > 0 {
        log::info!("applied {applied} database migration(s)");
    }
    Ok(())
}

/// An app's migrations, after Portcullis's (which `connect` applied), under the same lock.
/// Diesel keeps one table of applied versions for both, so a version equal to one of
/// Portcullis's would be skipped silently: refused instead, naming it.
pub fn run_app_migrations(
    pool: &Pool,
    sqlite: EmbeddedMigrations,
    postgres: EmbeddedMigrations,
) -> anyhow::Result<()> {
    let mut conn = pool.get().context("cannot get a database connection for the migrations")?;
    let applied = match &mut **conn {
        DbConn::Sqlite(c) => {
            refuse_collisions::<Sqlite>(&SQLITE_MIGRATIONS, &sqlite)?;
            c.run_pending_migrations(sqlite).map(|v| v.len()).map_err(|e| anyhow::anyhow!("{e}"))
        }
        DbConn::Postgres(c) => {
            refuse_collisions::<Pg>(&POSTGRES_MIGRATIONS, &postgres)?;
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))?;
            let result =
                c.run_pending_migrations(postgres).map(|v| v.len()).map_err(|e| anyhow::anyhow!("{e}"));
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))?;
            result
        }
    }
    .context("cannot apply the app's database migrations")?;
    if applied > 0 {
        log::info!(applied = applied; "applied the app's database migrations");
    }
    Ok(())
}

fn refuse_collisions<DB: diesel::backend::Backend>(
    ours: &EmbeddedMigrations,
    theirs: &EmbeddedMigrations,
) -> anyhow::Result<()> {
    let versions = |source: &EmbeddedMigrations| -> anyhow::Result<BTreeSet<String>> {
        let migrations = MigrationSource::<DB>::migrations(source).map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(migrations.iter().map(|m| m.name().version().to_string()).collect())
    };
    let taken = versions(ours)?;
    if let Some(clash) = versions(theirs)?.intersection(&taken).next() {
        anyhow::bail!(
            "the app's migration {clash} has the version of one of Portcullis's own, and would never run: rename it"
        );
    }
    Ok(())
}
