//! Queries on `mfa_challenges`: the state between a correct password and a correct code. A
//! challenge lives only while its account is enabled and still has the credentials it was
//! opened under (`users::credential_version_of`): a password changed during the code step
//! ends it, whatever the clock says.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{mfa_challenges as m, users};
use crate::domain::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = m)]
pub struct MfaChallenge {
    #[diesel(deserialize_as = String)]
    pub user_id: UserId,
    pub flow: String,
    pub remember: bool,
    pub known_device: bool,
    pub created_at: i64,
    pub expires_at: i64,
    pub failures: i64,
    pub used_at: Option<i64>,
    pub credential_version: i64,
}

pub struct NewChallenge<'a> {
    pub token_hash: &'a str,
    pub user_id: &'a UserId,
    pub flow: &'a str,
    pub remember: bool,
    pub known_device: bool,
    /// The version of the account row whose password was just verified.
    pub credential_version: i64,
    pub now: i64,
    pub ttl: i64,
}

pub fn insert(conn: &mut DbConn, c: &NewChallenge<'_>) -> QueryResult<()> {
    diesel::insert_into(m::table)
        .values((
            m::token_hash.eq(c.token_hash),
            m::user_id.eq(c.user_id.as_str()),
            m::flow.eq(c.flow),
            m::remember.eq(c.remember),
            m::known_device.eq(c.known_device),
            m::credential_version.eq(c.credential_version),
            m::created_at.eq(c.now),
            m::expires_at.eq(c.now + c.ttl),
        ))
        .execute(conn)
        .map(drop)
}

/// The challenge, if it is still alive (unused, unexpired, fewer than `max_failures` wrong
/// codes, its account enabled and under the credentials it was opened under).
pub fn find_live(
    conn: &mut DbConn,
    hash: &str,
    now: i64,
    max_failures: i64,
) -> QueryResult<Option<MfaChallenge>> {
    m::table
        .inner_join(users::table)
        .filter(m::token_hash.eq(hash))
        .filter(users::disabled.eq(false))
        .filter(users::credential_version.eq(m::credential_version))
        .filter(m::used_at.is_null())
        .filter(m::expires_at.gt(now))
        .filter(m::failures.lt(max_failures))
        .select(MfaChallenge::as_select())
        .first(conn)
        .optional()
}

/// Counts a wrong code; the challenge dies at `max_failures`. Returns the failures so far.
pub fn count_failure(conn: &mut DbConn, hash: &str) -> QueryResult<i64> {
    diesel::update(m::table.find(hash)).set(m::failures.eq(m::failures + 1)).execute(conn)?;
    m::table.find(hash).select(m::failures).first(conn)
}

/// Uses the challenge up, once, and only while [`find_live`] would still find it: of two
/// concurrent completions exactly one gets `true`, and none after a credential change.
pub fn use_up(
    conn: &mut DbConn,
    challenge: &MfaChallenge,
    hash: &str,
    now: i64,
    max_failures: i64,
) -> QueryResult<bool> {
    let version = super::users::credential_version_of(challenge.user_id.to_string());
    let changed = diesel::update(
        m::table
            .find(hash)
            .filter(m::credential_version.eq_any(version))
            .filter(m::used_at.is_null())
            .filter(m::expires_at.gt(now))
            .filter(m::failures.lt(max_failures)),
    )
    .set(m::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes up to `batch` challenges that expired before `cutoff`; returns how many.
pub fn purge_dead(conn: &mut DbConn, cutoff: i64, batch: i64) -> QueryResult<usize> {
    let dead: Vec<String> =
        m::table.filter(m::expires_at.lt(cutoff)).select(m::token_hash).limit(batch).load(conn)?;
    if dead.is_empty() {
        return Ok(0);
    }
    diesel::delete(m::table.filter(m::token_hash.eq_any(&dead))).execute(conn)
}
