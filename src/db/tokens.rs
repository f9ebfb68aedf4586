//! Queries on `one_time_tokens`: single-use links (password reset, email verification, email
//! change), stored only as hashes.

use diesel::prelude::*;

use super::DbConn;
use super::schema::one_time_tokens as t;
use crate::domain::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct OneTimeToken {
    pub token_hash: String,
    pub purpose: String,
    #[diesel(deserialize_as = String)]
    pub user_id: UserId,
    pub email: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl OneTimeToken {
    pub fn is_usable(&self, now: i64) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

pub fn insert(
    conn: &mut DbConn,
    hash: &str,
    purpose: &str,
    user_id: &UserId,
    email: &str,
    now: i64,
    ttl: i64,
) -> QueryResult<()> {
    diesel::insert_into(t::table)
        .values((
            t::token_hash.eq(hash),
            t::purpose.eq(purpose),
            t::user_id.eq(user_id.as_str()),
            t::email.eq(email),
            t::created_at.eq(now),
            t::expires_at.eq(now + ttl),
        ))
        .execute(conn)
        .map(drop)
}

pub fn find(conn: &mut DbConn, hash: &str, purpose: &str) -> QueryResult<Option<OneTimeToken>> {
    t::table
        .find(hash)
        .filter(t::purpose.eq(purpose))
        .select(OneTimeToken::as_select())
        .first(conn)
        .optional()
}

/// Uses the token up, once: of two concurrent uses exactly one gets `true`.
pub fn use_up(conn: &mut DbConn, hash: &str, purpose: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        t::table
            .find(hash)
            .filter(t::purpose.eq(purpose))
            .filter(t::used_at.is_null())
            .filter(t::expires_at.gt(now)),
    )
    .set(t::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Every other unused token of this purpose for the user dies (a new link replaces the old).
pub fn use_up_all(conn: &mut DbConn, user_id: &UserId, purpose: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        t::table
            .filter(t::user_id.eq(user_id.as_str()))
            .filter(t::purpose.eq(purpose))
            .filter(t::used_at.is_null()),
    )
    .set(t::used_at.eq(now))
    .execute(conn)
}

/// Deletes up to `batch` tokens used or expired before `cutoff`; returns how many.
pub fn purge_dead(conn: &mut DbConn, cutoff: i64, batch: i64) -> QueryResult<usize> {
    let dead: Vec<String> = t::table
        .filter(t::expires_at.lt(cutoff).or(t::used_at.lt(cutoff)))
        .select(t::token_hash)
        .limit(batch)
        .load(conn)?;
    if dead.is_empty() {
        return Ok(0);
    }
    diesel::delete(t::table.filter(t::token_hash.eq_any(&dead))).execute(conn)
}
