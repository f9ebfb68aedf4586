//! Queries on `upstream_links` and `upstream_logins` (SPEC §13): identities at other providers
//! linked to accounts, and sign-ins on their way through a provider.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{upstream_links as l, upstream_logins as s};

/// A linked identity.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = l)]
pub struct LinkRow {
    pub issuer: String,
    pub subject: String,
    pub user_id: String,
    pub provider: String,
    pub email: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// A sign-in or connection on its way through a provider.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = s)]
pub struct LoginRow {
    pub state_hash: String,
    pub provider: String,
    pub browser_hash: String,
    pub nonce: String,
    pub code_verifier: String,
    pub next: String,
    /// The account connecting the provider (from the account page); `None` for a sign-in.
    pub user_id: Option<String>,
    pub credential_version: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub fn insert_login(conn: &mut DbConn, row: &LoginRow) -> QueryResult<()> {
    diesel::insert_into(s::table).values(row).execute(conn).map(drop)
}

/// Takes the login behind `state_hash` for good: the row as it was, if it was unused and
/// unexpired (of two concurrent callbacks, exactly one gets it).
pub fn take_login(conn: &mut DbConn, state_hash: &str, now: i64) -> QueryResult<Option<LoginRow>> {
    super::write_transaction(conn, |conn| {
        let taken = diesel::update(
            s::table.find(state_hash).filter(s::used_at.is_null()).filter(s::expires_at.gt(now)),
        )
        .set(s::used_at.eq(now))
        .execute(conn)?;
        if taken == 0 {
            return Ok(None);
        }
        s::table.find(state_hash).select(LoginRow::as_select()).first(conn).optional()
    })
}

/// The account an identity is linked to.
pub fn find_link(conn: &mut DbConn, issuer: &str, subject: &str) -> QueryResult<Option<LinkRow>> {
    l::table.find((issuer, subject)).select(LinkRow::as_select()).first(conn).optional()
}

/// Links an identity; false when it is linked already (to this account or another).
pub fn insert_link(conn: &mut DbConn, row: &LinkRow) -> QueryResult<bool> {
    super::unless_taken(diesel::insert_into(l::table).values(row).execute(conn))
}

/// Notes a sign-in through a link: when, and the address the provider gave.
pub fn touch_link(conn: &mut DbConn, issuer: &str, subject: &str, email: &str, now: i64) -> QueryResult<()> {
    diesel::update(l::table.find((issuer, subject)))
        .set((l::last_used_at.eq(now), l::email.eq(email)))
        .execute(conn)
        .map(drop)
}

/// The account's links, oldest first.
pub fn links_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<LinkRow>> {
    l::table.filter(l::user_id.eq(user_id)).order(l::created_at.asc()).select(LinkRow::as_select()).load(conn)
}

/// Unlinks one of the account's identities; false when it is not theirs.
pub fn delete_link(conn: &mut DbConn, user_id: &str, issuer: &str, subject: &str) -> QueryResult<bool> {
    let gone =
        diesel::delete(l::table.find((issuer, subject)).filter(l::user_id.eq(user_id))).execute(conn)?;
    Ok(gone == 1)
}

/// Deletes up to `batch` logins that ended before `cutoff`.
pub fn purge(conn: &mut DbConn, cutoff: i64, batch: i64) -> QueryResult<usize> {
    let ended: Vec<String> =
        s::table.filter(s::expires_at.lt(cutoff)).select(s::state_hash).limit(batch).load(conn)?;
    diesel::delete(s::table.filter(s::state_hash.eq_any(&ended))).execute(conn)
}
