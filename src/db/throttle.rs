//! Queries on `login_throttle`: attempt counters per key, shared by every instance.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use super::DbConn;
use super::schema::login_throttle as t;

/// How a counter grows: `free` attempts, then a pause of `first_lock` seconds that doubles
/// with each further attempt up to `max_lock`; a counter idle since `forget_before` (and not
/// paused) starts over.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub free: i64,
    pub first_lock: i64,
    pub max_lock: i64,
    pub forget_before: i64,
}

impl Budget {
    /// The pause the `attempts`-th attempt starts, if any (the same rule the SQL applies).
    pub fn lock_secs(&self, attempts: i64) -> Option<i64> {
        let over = attempts.checked_sub(self.free)?;
        (over >= 0).then(|| self.first_lock.saturating_mul(1 << over.min(20)).min(self.max_lock))
    }
}

/// The counter after one counted attempt.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub struct Counted {
    #[diesel(sql_type = BigInt)]
    pub failures: i64,
    #[diesel(sql_type = BigInt)]
    pub locked_until: i64,
}

/// One statement, atomic on both backends: counts an attempt unless `key` is paused, and
/// starts (or lengthens: the longer lock wins) a pause when the count reaches the budget.
/// `None` means the key is paused and nothing was counted. Of N concurrent attempts exactly
/// `free` get through before the pause, because each one sees the count of those before it.
const COUNT_ATTEMPT: &str = "\
INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES ($1, 1, $2, $3) \
ON CONFLICT (key) DO UPDATE SET \
  failures = CASE WHEN login_throttle.last_failure_at < $4 THEN 1 ELSE login_throttle.failures + 1 END, \
  last_failure_at = $2, \
  locked_until = GREATEST(login_throttle.locked_until, CASE \
    WHEN (CASE WHEN login_throttle.last_failure_at < $4 THEN 1 ELSE login_throttle.failures + 1 END) >= $5 \
    THEN $2 + LEAST($6, $7 << CAST(LEAST((CASE WHEN login_throttle.last_failure_at < $4 THEN 1 \
      ELSE login_throttle.failures + 1 END) - $5, 20) AS INTEGER)) \
    ELSE 0 END) \
WHERE login_throttle.locked_until <= $2 \
RETURNING failures, locked_until";

pub fn count_attempt(
    conn: &mut DbConn,
    key: &str,
    now: i64,
    budget: &Budget,
) -> QueryResult<Option<Counted>> {
    let first_lock_until = budget.lock_secs(1).map_or(0, |secs| now + secs);
    macro_rules! run {
        ($conn:expr, $sql:expr) => {
            diesel::sql_query($sql)
                .bind::<Text, _>(key)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(first_lock_until)
                .bind::<BigInt, _>(budget.forget_before)
                .bind::<BigInt, _>(budget.free)
                .bind::<BigInt, _>(budget.max_lock)
                .bind::<BigInt, _>(budget.first_lock)
                .get_results::<Counted>($conn)
        };
    }
    let rows = match conn {
        DbConn::Postgres(c) => run!(c, COUNT_ATTEMPT)?,
        // SQLite spells the placeholders ?N and the two-argument MAX/MIN differently.
        DbConn::Sqlite(c) => {
            run!(c, COUNT_ATTEMPT.replace('$', "?").replace("GREATEST(", "MAX(").replace("LEAST(", "MIN("))?
        }
    };
    Ok(rows.into_iter().next())
}

/// When the pause on `key` ends (0 when there is none).
pub fn locked_until(conn: &mut DbConn, key: &str) -> QueryResult<i64> {
    Ok(t::table.find(key).select(t::locked_until).first(conn).optional()?.unwrap_or(0))
}

/// Takes back one counted attempt (a sign-in that turned out right), leaving any pause.
pub fn refund(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::update(t::table.find(key).filter(t::failures.gt(0)))
        .set(t::failures.eq(t::failures - 1))
        .execute(conn)
        .map(drop)
}

pub fn clear(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(t::table.find(key)).execute(conn).map(drop)
}
