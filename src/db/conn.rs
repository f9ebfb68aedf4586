//! One connection type for both backends, chosen at run time by `DATABASE_URL`, and the pool
//! that hands connections out (pinging one that sat idle, dropping one found dead).

use std::ops::{Deref, DerefMut};
use std::time::{Duration, Instant};

use anyhow::Context;
use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection, R2D2Connection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

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
    pub(super) inner: DbConn,
    pub(super) last_used: Instant,
    pub(super) dead: bool,
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
/// where they happen, see `db::run`).
pub(super) const PING_AFTER_IDLE: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where the database lives, as parsed from `DATABASE_URL`.
#[derive(Debug, Clone)]
pub struct Target {
    pub backend: Backend,
    pub(super) url: String,
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
    pub(super) fn bound_connect_time(&mut self, timeout: Duration) {
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
    pub(super) target: Target,
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

/// Every pooled SQLite connection gets the same pragmas: a busy timeout instead of instant
/// "database is locked" errors — first, so that the switch to WAL (which takes a lock) also
/// waits for a connection another process is opening at that moment (a command run while the
/// server starts) — then WAL so readers never block the writer, and foreign keys (off by
/// default in SQLite).
fn open_sqlite(path: &str) -> Result<SqliteConnection, ConnectionError> {
    let mut conn = SqliteConnection::establish(path)?;
    // SQLite answers "locked" at once, without its busy handler, when waiting could deadlock —
    // as several openers of a new file switching it to WAL together can: a few short retries.
    let mut attempt = 0;
    loop {
        match conn.batch_execute(
            "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
             PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
        ) {
            Ok(()) => return Ok(conn),
            Err(e) if attempt < 20 && e.to_string().contains("locked") => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(10 * attempt));
            }
            Err(e) => return Err(ConnectionError::BadConnection(e.to_string())),
        }
    }
}

/// The database holds password hashes: a new SQLite file is created readable by its owner
/// only (SQLite gives its -wal and -shm files the mode of the database file), and an
/// existing one that others can read is tightened, with a warning.
pub(super) fn create_private(path: &str) -> anyhow::Result<()> {
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

pub(super) fn build_pool(manager: Manager, size: u32, timeout: Duration) -> anyhow::Result<Pool> {
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
