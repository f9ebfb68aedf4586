//! Queries on `passkeys` and `webauthn_ceremonies`.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{passkeys as p, webauthn_ceremonies as w};
use crate::domain::UserId;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = p)]
pub struct PasskeyRow {
    pub id: String,
    #[diesel(deserialize_as = String)]
    pub user_id: UserId,
    pub credential_id: String,
    pub name: String,
    pub passkey: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

pub struct NewPasskey<'a> {
    pub id: &'a str,
    pub user_id: &'a UserId,
    pub credential_id: &'a str,
    pub user_handle: &'a str,
    pub name: &'a str,
    pub passkey: &'a str,
    pub now: i64,
}

/// Stores a passkey; false when this credential is already registered.
pub fn insert(conn: &mut DbConn, k: &NewPasskey<'_>) -> QueryResult<bool> {
    let inserted = diesel::insert_into(p::table)
        .values((
            p::id.eq(k.id),
            p::user_id.eq(k.user_id.as_str()),
            p::credential_id.eq(k.credential_id),
            p::user_handle.eq(k.user_handle),
            p::name.eq(k.name),
            p::passkey.eq(k.passkey),
            p::created_at.eq(k.now),
        ))
        .execute(conn);
    super::unless_taken(inserted)
}

pub fn list_for_user(conn: &mut DbConn, user_id: &UserId) -> QueryResult<Vec<PasskeyRow>> {
    p::table
        .filter(p::user_id.eq(user_id.as_str()))
        .order(p::created_at.asc())
        .select(PasskeyRow::as_select())
        .load(conn)
}

pub fn find_by_credential(
    conn: &mut DbConn,
    credential_id: &str,
    user_handle: &str,
) -> QueryResult<Option<PasskeyRow>> {
    p::table
        .filter(p::credential_id.eq(credential_id))
        .filter(p::user_handle.eq(user_handle))
        .select(PasskeyRow::as_select())
        .first(conn)
        .optional()
}

/// After a sign-in: the stored record (its counter may have moved) and when it was used.
pub fn record_use(conn: &mut DbConn, id: &str, passkey: Option<&str>, now: i64) -> QueryResult<()> {
    match passkey {
        Some(json) => diesel::update(p::table.find(id))
            .set((p::passkey.eq(json), p::last_used_at.eq(now)))
            .execute(conn)?,
        None => diesel::update(p::table.find(id)).set(p::last_used_at.eq(now)).execute(conn)?,
    };
    Ok(())
}

/// Removes one of the user's passkeys; returns its name when there was one.
pub fn delete(conn: &mut DbConn, user_id: &UserId, id: &str) -> QueryResult<Option<String>> {
    let name: Option<String> = p::table
        .filter(p::id.eq(id))
        .filter(p::user_id.eq(user_id.as_str()))
        .select(p::name)
        .first(conn)
        .optional()?;
    if name.is_some() {
        diesel::delete(p::table.filter(p::id.eq(id)).filter(p::user_id.eq(user_id.as_str())))
            .execute(conn)?;
    }
    Ok(name)
}

/// Removes every passkey of the user (an administrator's reset); returns how many.
pub fn delete_all(conn: &mut DbConn, user_id: &UserId) -> QueryResult<usize> {
    diesel::delete(p::table.filter(p::user_id.eq(user_id.as_str()))).execute(conn)
}

pub fn count_for_user(conn: &mut DbConn, user_id: &UserId) -> QueryResult<i64> {
    p::table.filter(p::user_id.eq(user_id.as_str())).count().get_result(conn)
}

/// A ceremony in progress. `owner`: the account adding a passkey and the credential version
/// its password was checked under; `None` for a sign-in (nobody yet).
pub fn insert_ceremony(
    conn: &mut DbConn,
    id: &str,
    owner: Option<(&UserId, i64)>,
    state: &str,
    expires_at: i64,
) -> QueryResult<()> {
    diesel::insert_into(w::table)
        .values((
            w::id.eq(id),
            w::user_id.eq(owner.map(|(user_id, _)| user_id.as_str())),
            w::credential_version.eq(owner.map(|(_, version)| version)),
            w::state.eq(state),
            w::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Takes a ceremony's state out (it is single-use): `None` when unknown, expired, taken,
/// started by another user, or — adding a passkey — when the account's credentials changed
/// since its password was checked (or it was disabled).
pub fn take_ceremony(
    conn: &mut DbConn,
    id: &str,
    user_id: Option<&UserId>,
    now: i64,
) -> QueryResult<Option<String>> {
    let found: Option<(Option<String>, Option<i64>, String, i64)> = w::table
        .find(id)
        .select((w::user_id, w::credential_version, w::state, w::expires_at))
        .first(conn)
        .optional()?;
    let Some((owner, version, state, expires_at)) = found else {
        return Ok(None);
    };
    if owner.as_deref() != user_id.map(UserId::as_str) {
        return Ok(None);
    }
    if diesel::delete(w::table.find(id)).execute(conn)? != 1 || expires_at <= now {
        return Ok(None);
    }
    if let Some(user_id) = user_id {
        let live = super::users::live_credential_version(conn, user_id)?;
        if live.is_none() || live != version {
            return Ok(None);
        }
    }
    Ok(Some(state))
}

/// Deletes up to `batch` ceremonies that expired before `cutoff`; returns how many.
pub fn purge_dead(conn: &mut DbConn, cutoff: i64, batch: i64) -> QueryResult<usize> {
    let dead: Vec<String> =
        w::table.filter(w::expires_at.lt(cutoff)).select(w::id).limit(batch).load(conn)?;
    if dead.is_empty() {
        return Ok(0);
    }
    diesel::delete(w::table.filter(w::id.eq_any(&dead))).execute(conn)
}
