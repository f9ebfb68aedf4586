//! Storage: one connection type for both backends, chosen at run time by `DATABASE_URL`.
//! See docs/architecture.md for why this is a runtime choice and not a cargo feature.

pub mod backup;
pub mod clients;
mod conn;
mod error;
pub mod events;
pub mod factors;
pub mod guard_reads;
pub mod mfa;
mod migrate;
pub mod models;
pub mod oauth;
pub mod outbox;
pub mod passkeys;
pub mod providers;
pub mod purge;
pub mod schema;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod upstream;
pub mod users;
mod work;

pub use conn::{Backend, Conn, DbConn, Manager, Pool, PooledConn, Target};
use conn::{build_pool, create_private};
pub use error::StoreError;
pub use migrate::{run_app_migrations, run_migrations};
pub(crate) use work::read_with_retry;
pub use work::{query, query_read, run, write_transaction};

use std::time::Duration;

use anyhow::Context;
use diesel::r2d2::ManageConnection;

/// Opens the pool and checks that one connection can be made, so a wrong URL or a
/// database that is down stops startup with the real reason.
pub fn connect(database_url: &str, size: u32, timeout: Duration) -> anyhow::Result<Pool> {
    let mut target = Target::parse(database_url);
    target.bound_connect_time(timeout);
    if target.backend == Backend::Sqlite {
        create_private(&target.url)?;
    }
    let manager = Manager { target: target.clone() };
    let mut first =
        manager.connect().with_context(|| format!("cannot open the {:?} database", target.backend))?;
    run_migrations(&mut first)?;
    build_pool(manager, size, timeout)
}

/// An insert's result: `false` when a unique key was already taken (the connection type that
/// serves both backends has no `ON CONFLICT`).
pub fn unless_taken(inserted: diesel::QueryResult<usize>) -> diesel::QueryResult<bool> {
    use diesel::result::{DatabaseErrorKind, Error};
    match inserted {
        Ok(n) => Ok(n == 1),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Seconds since the Unix epoch: the one time format stored on both backends.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
