//! `portcullis backup PATH`: a consistent copy of a live SQLite database. SQLite's
//! `VACUUM INTO` reads one snapshot (a WAL reader, so the server keeps writing meanwhile) and
//! writes a compact, self-contained file. PostgreSQL has `pg_dump` for this.

use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use anyhow::{Context, bail};
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::{Backend, Target};

/// What was copied, as the command reports it.
#[derive(Debug)]
pub struct Copied {
    pub users: i64,
    pub bytes: u64,
}

#[derive(QueryableByName)]
struct Check {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Copies the database `database_url` names to `dest`, a new file readable by its owner only
/// (it holds password hashes), then checks the copy's integrity.
pub fn backup(database_url: &str, dest: &Path) -> anyhow::Result<Copied> {
    let target = Target::parse(database_url);
    if target.backend == Backend::Postgres {
        bail!(
            "DATABASE_URL is PostgreSQL: back it up with pg_dump, e.g. \
             pg_dump --format=custom --file=portcullis.dump \"$DATABASE_URL\" (see docs/deployment.md)"
        );
    }
    if !Path::new(&target.url).is_file() {
        bail!("there is no SQLite database at {}", target.url);
    }
    let dest_text = dest.to_str().context("the backup path is not valid UTF-8")?;
    // O_EXCL: never overwrite (an older backup, or a file someone else owns); 0600 from the
    // start, so the copy is never readable by others, not even for a moment.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(dest)
        .with_context(|| format!("cannot create {} (it must not exist yet)", dest.display()))?;
    let copied = copy(&target.url, dest_text);
    if copied.is_err() {
        let _ = std::fs::remove_file(dest);
    }
    copied
}

fn copy(source: &str, dest: &str) -> anyhow::Result<Copied> {
    let mut conn = SqliteConnection::establish(source).context("cannot open the database")?;
    conn.batch_execute("PRAGMA busy_timeout = 5000;")?;
    diesel::sql_query("VACUUM INTO ?")
        .bind::<Text, _>(dest)
        .execute(&mut conn)
        .context("VACUUM INTO failed")?;
    let mut copy = SqliteConnection::establish(dest).context("cannot open the copy")?;
    let check: Vec<Check> = diesel::sql_query("PRAGMA integrity_check").load(&mut copy)?;
    if check.iter().any(|c| c.integrity_check != "ok") {
        bail!("the copy failed its integrity check");
    }
    let users = diesel::sql_query("SELECT COUNT(*) AS n FROM users").get_result::<Count>(&mut copy)?.n;
    let bytes = std::fs::metadata(dest)?.len();
    Ok(Copied { users, bytes })
}
