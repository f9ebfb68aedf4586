//! Queries on `outbox`: mail waiting to be delivered by the background worker.

use diesel::prelude::*;
use diesel::sql_types::BigInt;

use super::DbConn;
use super::schema::outbox;

/// A mail as it is stored, and as the worker claims it.
#[derive(Debug, Clone, Insertable, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = outbox)]
pub struct OutboxMail {
    pub id: String,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

pub fn enqueue(conn: &mut DbConn, mail: &OutboxMail) -> QueryResult<()> {
    diesel::insert_into(outbox::table).values(mail.clone()).execute(conn).map(drop)
}

/// Claims up to `limit` due mails for `lease_secs` (counting the attempt) and returns them.
/// On PostgreSQL `FOR UPDATE SKIP LOCKED` lets several instances claim side by side, each mail
/// once; SQLite serializes writers, so its plain UPDATE is already exclusive.
pub fn claim_due(conn: &mut DbConn, now: i64, lease_secs: i64, limit: i64) -> QueryResult<Vec<OutboxMail>> {
    const CLAIM: &str = "\
UPDATE outbox SET claimed_until = $1 + $2, attempts = attempts + 1 \
WHERE id IN (SELECT id FROM outbox WHERE sent_at IS NULL AND failed_at IS NULL \
  AND next_attempt_at <= $1 AND claimed_until <= $1 ORDER BY next_attempt_at LIMIT $3 LOCKING) \
RETURNING id, recipient, subject, text_body, html_body, created_at, attempts, next_attempt_at";
    match conn {
        DbConn::Postgres(c) => diesel::sql_query(CLAIM.replace("LOCKING", "FOR UPDATE SKIP LOCKED"))
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(lease_secs)
            .bind::<BigInt, _>(limit)
            .load(c),
        DbConn::Sqlite(c) => diesel::sql_query(CLAIM.replace("LOCKING", "").replace('$', "?"))
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(lease_secs)
            .bind::<BigInt, _>(limit)
            .load(c),
    }
}

/// Delivered: the bodies (which may hold a link with a token) are dropped at once.
pub fn mark_sent(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<()> {
    diesel::update(outbox::table.find(id))
        .set((
            outbox::sent_at.eq(now),
            outbox::text_body.eq(""),
            outbox::html_body.eq(""),
            outbox::claimed_until.eq(0),
        ))
        .execute(conn)
        .map(drop)
}

/// Not delivered this time: try again at `retry_at`, or give up (`None`), keeping the reason.
pub fn mark_failed(
    conn: &mut DbConn,
    id: &str,
    retry_at: Option<i64>,
    error: &str,
    now: i64,
) -> QueryResult<()> {
    let error: String = error.chars().take(500).collect();
    let target = outbox::table.find(id);
    match retry_at {
        Some(at) => diesel::update(target)
            .set((outbox::next_attempt_at.eq(at), outbox::claimed_until.eq(0), outbox::last_error.eq(error)))
            .execute(conn),
        None => diesel::update(target)
            .set((
                outbox::failed_at.eq(now),
                outbox::text_body.eq(""),
                outbox::html_body.eq(""),
                outbox::last_error.eq(error),
            ))
            .execute(conn),
    }
    .map(drop)
}

/// Mails neither sent nor given up yet (for tests and operators).
pub fn pending(conn: &mut DbConn) -> QueryResult<i64> {
    outbox::table
        .filter(outbox::sent_at.is_null())
        .filter(outbox::failed_at.is_null())
        .count()
        .get_result(conn)
}

/// Deletes up to `batch` mails sent or given up before `cutoff`; returns how many.
pub fn purge_done(conn: &mut DbConn, cutoff: i64, batch: i64) -> QueryResult<usize> {
    let done: Vec<String> = outbox::table
        .filter(outbox::sent_at.lt(cutoff).or(outbox::failed_at.lt(cutoff)))
        .select(outbox::id)
        .limit(batch)
        .load(conn)?;
    if done.is_empty() {
        return Ok(0);
    }
    diesel::delete(outbox::table.filter(outbox::id.eq_any(&done))).execute(conn)
}
