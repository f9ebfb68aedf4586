//! Queries on `one_time_tokens`: single-use links (password reset, email verification, email
//! change), stored only as hashes. A link is found and used only while its account is enabled
//! and still under the credentials it was issued under (`users::credential_version_of`).

use diesel::prelude::*;

use super::DbConn;
use super::schema::{one_time_tokens as t, users};
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
    pub credential_version: i64,
}

/// A link as it is stored.
pub struct NewToken<'a> {
    pub hash: &'a str,
    pub purpose: &'a str,
    pub user_id: &'a UserId,
    /// The address it was mailed to.
    pub email: &'a str,
    pub credential_version: i64,
    pub now: i64,
    pub ttl: i64,
}

impl OneTimeToken {
    pub fn is_usable(&self, now: i64) -> bool {
        self.used_at.is_none() && now < self.expires_at
    }
}

pub fn insert(conn: &mut DbConn, new: &NewToken<'_>) -> QueryResult<()> {
    diesel::insert_into(t::table)
        .values((
            t::token_hash.eq(new.hash),
            t::purpose.eq(new.purpose),
            t::user_id.eq(new.user_id.as_str()),
            t::email.eq(new.email),
            t::credential_version.eq(new.credential_version),
            t::created_at.eq(new.now),
            t::expires_at.eq(new.now + new.ttl),
        ))
        .execute(conn)
        .map(drop)
}

/// The link behind `hash`, if its account is enabled and still has the credentials the link
/// was issued under (used or expired ones too: [`OneTimeToken::is_usable`] tells).
pub fn find(conn: &mut DbConn, hash: &str, purpose: &str) -> QueryResult<Option<OneTimeToken>> {
    t::table
        .inner_join(users::table)
        .filter(t::token_hash.eq(hash))
        .filter(t::purpose.eq(purpose))
        .filter(users::disabled.eq(false))
        .filter(users::credential_version.eq(t::credential_version))
        .select(OneTimeToken::as_select())
        .first(conn)
        .optional()
}

/// Uses the link up, once, and only while [`find`] would still find it: of two concurrent uses
/// exactly one gets `true`, and none after a credential change.
pub fn use_up(conn: &mut DbConn, link: &OneTimeToken, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        t::table
            .find(&link.token_hash)
            .filter(t::purpose.eq(&link.purpose))
            .filter(t::used_at.is_null())
            .filter(t::expires_at.gt(now))
            .filter(
                t::credential_version.eq_any(super::users::credential_version_of(link.user_id.to_string())),
            ),
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
