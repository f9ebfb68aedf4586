//! Queries on `login_throttle`: failure counters per key, shared by every instance.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConn;
use super::schema::login_throttle as t;

/// The latest `locked_until` among `keys` that is still in the future.
pub fn locked_until(conn: &mut DbConn, keys: &[String], now: i64) -> QueryResult<Option<i64>> {
    t::table
        .filter(t::key.eq_any(keys))
        .filter(t::locked_until.gt(now))
        .select(diesel::dsl::max(t::locked_until))
        .get_result::<Option<i64>>(conn)
}

/// Counts one more failure for `key` and returns the new count. A counter whose last
/// failure is older than `forget_after` seconds (and that is not locked) starts over.
pub fn record_failure(conn: &mut DbConn, key: &str, now: i64, forget_after: i64) -> QueryResult<i64> {
    diesel::delete(
        t::table
            .filter(t::key.eq(key))
            .filter(t::last_failure_at.lt(now - forget_after))
            .filter(t::locked_until.le(now)),
    )
    .execute(conn)?;
    if !increment(conn, key, now)? {
        let row = (t::key.eq(key), t::failures.eq(1), t::last_failure_at.eq(now), t::locked_until.eq(0));
        match diesel::insert_into(t::table).values(row).execute(conn) {
            Ok(_) => {}
            // Another instance inserted it first: count on top of theirs.
            Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
                increment(conn, key, now)?;
            }
            Err(e) => return Err(e),
        }
    }
    t::table.find(key).select(t::failures).get_result(conn)
}

/// An atomic `failures = failures + 1`: concurrent failures on several instances all count.
fn increment(conn: &mut DbConn, key: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(t::table.find(key))
        .set((t::failures.eq(t::failures + 1), t::last_failure_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}

pub fn lock(conn: &mut DbConn, key: &str, until: i64) -> QueryResult<()> {
    diesel::update(t::table.find(key)).set(t::locked_until.eq(until)).execute(conn).map(drop)
}

pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(t::table.find(key)).execute(conn).map(drop)
}
