//! The guard's look-ups on PostgreSQL, coalesced: every request still reads its session and
//! user from the database after it arrived (a revoked session or a disabled user is refused on
//! the very next request, on every instance), but the look-ups that arrive while one query is
//! in flight go out together as the next query (`WHERE sessions.id = ANY($1)`).
//!
//! On a busy server most of a look-up's cost was not the query but the round trip: two
//! cross-core wake-ups through the kernel (measured: BENCHMARKS.md, "PostgreSQL at full
//! speed"), and the hop to the blocking pool. A few dedicated reader threads, each with its
//! own pooled connection, take that cost once per batch instead of once per request.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use tokio::sync::oneshot;

use super::schema::{sessions, users};
use super::sessions::{GUARD_COLUMNS, GuardRow};
use super::{DbConn, Pool, StoreError};
use crate::domain::{SessionId, UserId};

/// At most this many look-ups share one query.
const MAX_BATCH: usize = 128;

type Reply = oneshot::Sender<Result<Option<GuardRow>, StoreError>>;

struct Lookup {
    session_id: SessionId,
    user_id: UserId,
    reply: Reply,
}

/// Hands look-ups to the reader threads. Cloned freely; the threads end when the last clone
/// is dropped.
#[derive(Clone)]
pub struct GuardReads {
    queue: Sender<Lookup>,
}

impl GuardReads {
    /// Starts `threads` reader threads on `pool` (PostgreSQL).
    pub fn start(pool: Pool, threads: usize) -> std::io::Result<Self> {
        let (queue, incoming) = mpsc::channel();
        let incoming = Arc::new(Mutex::new(incoming));
        for n in 0..threads.max(1) {
            let (pool, incoming) = (pool.clone(), incoming.clone());
            std::thread::Builder::new()
                .name(format!("guard-reads-{n}"))
                .spawn(move || read_batches(&pool, &incoming))?;
        }
        Ok(Self { queue })
    }

    /// The session and its user, as `sessions::find_guard_row` would give them.
    pub async fn find(&self, session_id: SessionId, user_id: UserId) -> Result<Option<GuardRow>, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send(Lookup { session_id, user_id, reply })
            .map_err(|_| StoreError::Unavailable("the guard's reader threads have stopped".into()))?;
        answer.await.map_err(|_| StoreError::Unavailable("a guard reader thread stopped".into()))?
    }
}

/// One reader thread: wait for a look-up, take whatever else is waiting (letting the next
/// thread collect the following batch meanwhile), answer them all with one query.
fn read_batches(pool: &Pool, incoming: &Mutex<Receiver<Lookup>>) {
    loop {
        let batch = {
            let Ok(incoming) = incoming.lock() else { return };
            let Ok(first) = incoming.recv() else { return };
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match incoming.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            batch
        };
        answer(pool, batch);
    }
}

fn answer(pool: &Pool, batch: Vec<Lookup>) {
    // One session may be asked about many times at once (one client, many requests).
    let mut ids: Vec<String> = batch.iter().map(|l| l.session_id.to_string()).collect();
    ids.sort_unstable();
    ids.dedup();
    let found = super::read_with_retry(pool, |conn| find_guard_rows(conn, &ids));
    match found {
        Ok(rows) => {
            for lookup in batch {
                let row = rows
                    .get(lookup.session_id.as_str())
                    .filter(|(owner, _)| owner == lookup.user_id.as_str())
                    .map(|(_, row)| row.clone());
                let _ = lookup.reply.send(Ok(row));
            }
        }
        Err(e) => {
            let reason = e.to_string();
            for lookup in batch {
                let _ = lookup.reply.send(Err(StoreError::Unavailable(reason.clone())));
            }
        }
    }
}

/// The guard rows of `session_ids`, by session id, with the user each session belongs to.
fn find_guard_rows(
    conn: &mut DbConn,
    session_ids: &[String],
) -> QueryResult<HashMap<String, (String, GuardRow)>> {
    let query = sessions::table.inner_join(users::table).filter(sessions::id.eq_any(session_ids)).select((
        sessions::id,
        sessions::user_id,
        GUARD_COLUMNS,
    ));
    let rows: Vec<(String, String, GuardRow)> = match conn {
        DbConn::Postgres(c) => query.load(c)?,
        DbConn::Sqlite(c) => query.load(c)?,
    };
    Ok(rows.into_iter().map(|(id, owner, row)| (id, (owner, row))).collect())
}
