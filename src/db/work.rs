//! Doing database work: one unit of work per closure on actix's blocking pool (the guard's
//! short SQLite read on the worker itself), write transactions that take the write lock at
//! once, and a dead connection dropped and, for a read, retried on another.

use std::time::Instant;

use diesel::Connection;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;

use super::conn::{Conn, DbConn, PING_AFTER_IDLE, Pool, PooledConn};
use super::error::StoreError;

/// A transaction that writes. On SQLite it begins `IMMEDIATE`, taking the write lock at once
/// (waiting up to `busy_timeout` for another writer): a deferred transaction that reads before
/// it writes fails outright with "database is locked" when another connection wrote meanwhile,
/// which the busy timeout cannot help. On PostgreSQL it is an ordinary transaction.
pub fn write_transaction<T, E, F>(conn: &mut DbConn, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    fn sqlite(conn: &mut DbConn) -> Option<&mut SqliteConnection> {
        match conn {
            DbConn::Sqlite(inner) => Some(inner),
            DbConn::Postgres(_) => None,
        }
    }
    // The outermost transaction takes the lock; a nested one is a savepoint inside it.
    let Some(inner) = sqlite(conn) else { return conn.transaction(work) };
    if AnsiTransactionManager::transaction_manager_status_mut(inner).transaction_depth()?.is_some() {
        return conn.transaction(work);
    }
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    let result = work(conn);
    let Some(inner) = sqlite(conn) else { return result };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(inner)?;
            Ok(value)
        }
        Err(e) => {
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(inner) {
                log::error!("a transaction could not be rolled back: {rollback}");
            }
            Err(e)
        }
    }
}

/// A connection from the pool, pinged first if it sat idle long enough to have gone stale; a
/// dead one is dropped and another taken.
fn checkout(pool: &Pool) -> Result<PooledConn, StoreError> {
    for _ in 0..=pool.max_size() {
        let mut conn = pool.get().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        if conn.last_used.elapsed() < PING_AFTER_IDLE || conn.inner.ping().is_ok() {
            conn.last_used = Instant::now();
            return Ok(conn);
        }
        conn.dead = true;
    }
    Err(StoreError::Unavailable("no live database connection".into()))
}

/// Runs one unit of database work on actix's blocking pool, taking the pooled connection
/// inside the closure so no worker thread ever waits on the database.
pub async fn run<T, E, F>(pool: &Pool, work: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let pool = pool.clone();
    actix_web::web::block(move || {
        let mut conn = checkout(&pool)?;
        work(&mut conn).map_err(|e| if_broken(&mut conn, e))
    })
    .await
    .map_err(|_| E::from(StoreError::Unavailable("the blocking pool is shut down".into())))?
}

/// A failure on a connection that is now broken (the server went away mid-query) means
/// the database is unavailable, whatever the driver called the error: 503, not 500. The
/// connection is marked dead, so the pool drops it rather than hand it out again.
fn if_broken<E: From<StoreError>>(conn: &mut Conn, error: E) -> E {
    if conn.inner.is_broken() || conn.inner.ping().is_err() {
        conn.dead = true;
        E::from(StoreError::Unavailable("the connection broke".into()))
    } else {
        error
    }
}

/// [`run`] for the common case: one Diesel query, its error as a [`StoreError`].
pub async fn query<T, F>(pool: &Pool, work: F) -> Result<T, StoreError>
where
    F: FnOnce(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    run(pool, move |conn| work(conn).map_err(StoreError::from)).await
}

/// For one short read on the request path (the guard's look-up). A read is safe to repeat, so
/// one that meets a dead connection is retried once on another: a database restart costs no
/// request an error. On SQLite it runs right here when a pooled connection is free: in WAL
/// mode a reader never waits for a writer, the query takes tens of microseconds, and handing
/// it to the blocking pool cost more than the query itself (measured: see BENCHMARKS.md).
pub async fn query_read<T, F>(pool: &Pool, work: F) -> Result<T, StoreError>
where
    F: Fn(&mut DbConn) -> diesel::QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    if let Some(mut conn) = pool.try_get()
        && matches!(conn.inner, DbConn::Sqlite(_))
    {
        return work(&mut conn).map_err(|e| if_broken(&mut conn, StoreError::from(e)));
    }
    let pool = pool.clone();
    actix_web::web::block(move || read_with_retry(&pool, work))
        .await
        .map_err(|_| StoreError::Unavailable("the blocking pool is shut down".into()))?
}

/// Runs a read on a pooled connection, and once more on another if the first was dead.
pub(crate) fn read_with_retry<T>(
    pool: &Pool,
    work: impl Fn(&mut DbConn) -> diesel::QueryResult<T>,
) -> Result<T, StoreError> {
    let mut conn = checkout(pool)?;
    let error = match work(&mut conn) {
        Ok(rows) => return Ok(rows),
        Err(e) => if_broken(&mut conn, StoreError::from(e)),
    };
    if !conn.dead {
        return Err(error);
    }
    drop(conn);
    log::warn!("a database connection was dead; the read is retried on another");
    let mut conn = checkout(pool)?;
    work(&mut conn).map_err(|e| if_broken(&mut conn, StoreError::from(e)))
}
