//! Storage: one connection type for both backends, chosen at run time by `DATABASE_URL`.
//! See docs/architecture.md for why this is a runtime choice and not a cargo feature.

pub mod backup;
pub mod events;
pub mod factors;
pub mod guard_reads;
pub mod mfa;
pub mod models;
pub mod outbox;
pub mod passkeys;
pub mod purge;
pub mod schema;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any key will do as long as every instance uses the same one: it serializes
/// concurrent migration runs on one PostgreSQL database.
const MIGRATION_LOCK_KEY: i64 = 0x706f_7274_6375_6c6c;

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// A pooled connection, with what the pool needs to know about its health without asking the
/// server on every checkout (a second round trip per request on PostgreSQL): when it was last
/// used, and whether a failed query found it dead (the pool then drops it on return).
pub struct Conn {
    inner: DbConn,
    last_used: Instant,
    dead: bool,
}

impl Deref for Conn {
    type Target = DbConn;

    fn deref(&self) -> &DbConn {
        &self.inner
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut DbConn {
        &mut self.inner
    }
}

/// A connection idle for longer than this is pinged before use: the server may have restarted
/// or a firewall dropped it meanwhile. Busy connections are not (their failures are caught
/// where they happen, see [`run`]).
const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where the database lives, as parsed from `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct Target {
    pub backend: Backend,
    url: String,
}

impl Target {
    pub fn parse(database_url: &str) -> Self {
        let url = database_url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Self { backend: Backend::Postgres, url: url.to_owned() };
        }
        let path = url.strip_prefix("sqlite://").unwrap_or(url);
        Self { backend: Backend::Sqlite, url: path.to_owned() }
    }

    /// Gives libpq a `connect_timeout` (unless the URL sets one), so an unreachable
    /// PostgreSQL fails a connection attempt instead of hanging on TCP retries.
    fn bound_connect_time(&mut self, timeout: Duration) {
        if self.backend == Backend::Postgres && !self.url.contains("connect_timeout=") {
            let separator = if self.url.contains('?') { '&' } else { '?' };
            // libpq treats values below 2 as 2 seconds.
            self.url = format!("{}{separator}connect_timeout={}", self.url, timeout.as_secs().max(2));
        }
    }
}

/// An r2d2 manager that picks the backend by URL scheme. Diesel's derived
/// `MultiConnection::establish` tries each backend in turn and reports only the last
/// failure ("invalid connection url"); this one reports the real error.
#[derive(Debug, Clone)]
pub struct Manager {
    target: Target,
}

impl ManageConnection for Manager {
    type Connection = Conn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<Conn, r2d2::Error> {
        let conn = match self.target.backend {
            Backend::Postgres => PgConnection::establish(&self.target.url).map(DbConn::Postgres),
            Backend::Sqlite => open_sqlite(&self.target.url).map(DbConn::Sqlite),
        };
        let inner = conn.map_err(r2d2::Error::ConnectionError)?;
        Ok(Conn { inner, last_used: Instant::now(), dead: false })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), r2d2::Error> {
        conn.inner.ping().map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.dead || conn.inner.is_broken()
    }
}

/// Every pooled SQLite connection gets the same pragmas: WAL so readers never block the
/// writer, foreign keys (off by default in SQLite), and a busy timeout instead of
/// instant "database is locked" errors.
fn open_sqlite(path: &str) -> Result<SqliteConnection, ConnectionError> {
    let mut conn = SqliteConnection::establish(path)?;
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
         PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
    )
    .map_err(|e| ConnectionError::BadConnection(e.to_string()))?;
    Ok(conn)
}

/// The database holds password hashes: a new SQLite file is created readable by its owner
/// only (SQLite gives its -wal and -shm files the mode of the database file), and an
/// existing one that others can read is tightened, with a warning.
fn create_private(path: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.is_empty() || path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e).with_context(|| format!("cannot create the database file {path}")),
    }
    for file in [path.to_owned(), format!("{path}-wal"), format!("{path}-shm")] {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        if meta.permissions().mode() & 0o077 != 0 {
            log::warn!("{file} was readable by others; restricting it to the owner");
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .with_context(|| format!("cannot restrict {file}"))?;
        }
    }
    Ok(())
}

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

fn build_pool(manager: Manager, size: u32, timeout: Duration) -> anyhow::Result<Pool> {
    r2d2::Pool::builder()
        .max_size(size)
        .min_idle(Some(1))
        .connection_timeout(timeout)
        // No ping on every checkout: on PostgreSQL that was a second round trip per request.
        // A connection idle for a while is pinged (`checkout`), and one a query finds dead is
        // dropped (`Conn::dead`); a read then retries once on another.
        .test_on_check_out(false)
        .build(manager)
        .context("cannot build the database pool")
}

/// Applies pending migrations for the connection's backend.
pub fn run_migrations(conn: &mut DbConn) -> anyhow::Result<()> {
    let applied = match conn {
        DbConn::Sqlite(c) => {
            c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()).map_err(|e| anyhow::anyhow!("{e}"))
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

/// Seconds since the Unix epoch: the one time format stored on both backends.
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

pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Why a database call did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No connection could be had (database down, pool exhausted): worth a 503.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("a database query failed")]
    Query(#[source] diesel::result::Error),
}

impl From<diesel::result::Error> for StoreError {
    /// A connection that dies mid-query means the database is unreachable, not that the
    /// query was wrong: 503, so clients retry, rather than 500.
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                Self::Unavailable(format!("connection closed: {}", info.message()))
            }
            Error::BrokenTransactionManager => Self::Unavailable("broken connection".into()),
            e => Self::Query(e),
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
