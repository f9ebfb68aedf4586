//! Keeping tables bounded (SPEC §8): ended sessions and stale throttle counters are deleted
//! in the background, in small batches so that sign-ins never wait long behind a purge, and
//! by one instance at a time (a lease row in `job_leases`).

use std::time::Duration;

use diesel::prelude::*;

use super::schema::{job_leases, login_throttle, sessions};
use super::{DbConn, Pool, StoreError};

/// Rows deleted per statement: each batch is its own short write.
const BATCH: i64 = 500;
/// How long an ended session stays before it is deleted.
const ENDED_SESSION_RETENTION_SECS: i64 = 3600;
/// A throttle counter idle this long (and not paused) is forgotten anyway.
pub const STALE_COUNTER_SECS: i64 = 3600;
/// A lease outlives a crashed holder by this much at most.
const LEASE_SECS: i64 = 300;

/// What one purge deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub sessions: usize,
    pub throttle_counters: usize,
    /// One-time tokens used or expired, and mails sent or given up, a day ago or more.
    pub tokens_and_mails: usize,
}

/// Takes the lease on `job` for `holder`: true when no other holder has a live one.
pub fn take_lease(conn: &mut DbConn, job: &str, holder: &str, now: i64) -> QueryResult<bool> {
    let taken = diesel::update(job_leases::table.find(job).filter(job_leases::expires_at.le(now)))
        .set((job_leases::holder.eq(holder), job_leases::expires_at.eq(now + LEASE_SECS)))
        .execute(conn)?;
    Ok(taken == 1)
}

pub fn release_lease(conn: &mut DbConn, job: &str, holder: &str, now: i64) -> QueryResult<()> {
    diesel::update(job_leases::table.find(job).filter(job_leases::holder.eq(holder)))
        .set(job_leases::expires_at.eq(now))
        .execute(conn)
        .map(drop)
}

/// Deletes up to [`BATCH`] sessions that ended (revoked or expired) before `cutoff`.
fn purge_sessions(conn: &mut DbConn, cutoff: i64) -> QueryResult<usize> {
    let ended: Vec<String> = sessions::table
        .filter(
            sessions::revoked_at
                .lt(cutoff)
                .or(sessions::idle_expires_at.lt(cutoff))
                .or(sessions::absolute_expires_at.lt(cutoff)),
        )
        .select(sessions::id)
        .limit(BATCH)
        .load(conn)?;
    if ended.is_empty() {
        return Ok(0);
    }
    diesel::delete(sessions::table.filter(sessions::id.eq_any(&ended))).execute(conn)
}

/// Deletes up to [`BATCH`] throttle counters that are neither paused nor recent.
fn purge_counters(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
    let stale: Vec<String> = login_throttle::table
        .filter(login_throttle::last_failure_at.lt(now - STALE_COUNTER_SECS))
        .filter(login_throttle::locked_until.le(now))
        .select(login_throttle::key)
        .limit(BATCH)
        .load(conn)?;
    if stale.is_empty() {
        return Ok(0);
    }
    diesel::delete(login_throttle::table.filter(login_throttle::key.eq_any(&stale))).execute(conn)
}

/// One purge, if this instance gets the lease (`None` when another one holds it). Each batch
/// is its own statement on its own pooled connection, so requests interleave with it.
pub async fn purge_once(pool: &Pool, holder: &str) -> Result<Option<Purged>, StoreError> {
    let me = holder.to_owned();
    if !super::query(pool, move |conn| take_lease(conn, "purge", &me, super::now())).await? {
        return Ok(None);
    }
    let result = purge_batches(pool).await;
    let me = holder.to_owned();
    super::query(pool, move |conn| release_lease(conn, "purge", &me, super::now())).await?;
    result.map(Some)
}

async fn purge_batches(pool: &Pool) -> Result<Purged, StoreError> {
    let mut purged = Purged::default();
    let now = super::now();
    loop {
        let n =
            super::query(pool, move |conn| purge_sessions(conn, now - ENDED_SESSION_RETENTION_SECS)).await?;
        purged.sessions += n;
        if n < BATCH as usize {
            break;
        }
    }
    loop {
        let n = super::query(pool, move |conn| purge_counters(conn, now)).await?;
        purged.throttle_counters += n;
        if n < BATCH as usize {
            break;
        }
    }
    let day_ago = now - 86_400;
    loop {
        let n = super::query(pool, move |conn| {
            Ok(super::tokens::purge_dead(conn, day_ago, BATCH)?
                + super::outbox::purge_done(conn, day_ago, BATCH)?
                + super::mfa::purge_dead(conn, now, BATCH)?
                + super::passkeys::purge_dead(conn, now, BATCH)?
                + super::oauth::purge(conn, day_ago, BATCH)?
                + super::upstream::purge(conn, now, BATCH)?)
        })
        .await?;
        purged.tokens_and_mails += n;
        if n < BATCH as usize {
            break;
        }
    }
    Ok(purged)
}

/// Purges every `every`, forever, the first time one period after startup (spawned by
/// startup). Failures are logged and retried at the next tick: a purge that did not run loses
/// nothing.
pub async fn run_every(pool: Pool, every: Duration) {
    let holder = format!("{}-{}", std::process::id(), super::now());
    // The first run is one period after startup, not at it: instances restarted together do
    // not all reach for the lease at once, and a test's own purge never races a startup one.
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match purge_once(&pool, &holder).await {
            Ok(Some(p)) if p != Purged::default() => {
                log::info!(
                    "purged {} ended sessions and {} stale throttle counters",
                    p.sessions,
                    p.throttle_counters
                );
            }
            Ok(_) => {}
            Err(e) => log::warn!("the purge failed and will run again later: {e}"),
        }
    }
}
