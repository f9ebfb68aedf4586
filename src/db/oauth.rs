//! Queries on `oauth_grants`, `oauth_codes` and `oauth_tokens` (SPEC §11): what a person let an
//! app have, the codes that carry it to the app, and what each redeemed code issued.
//!
//! A grant is live only while it is not revoked, its user is enabled and the user's credential
//! version is still the one it was made under (`users::credential_version_of`, SPEC §9): so a
//! password change ends every grant, and with it every code and token below it, in the
//! statement that changes the password.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{oauth_clients, oauth_codes as code, oauth_grants as g, oauth_tokens as tk, users};
use super::users::credential_version_of;

/// A grant as stored.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = g)]
pub struct GrantRow {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    /// The consented scopes, space-separated.
    pub scope: String,
    pub credential_version: i64,
    pub created_at: i64,
    pub last_used_at: i64,
    pub revoked_at: Option<i64>,
}

/// A code as stored (its hash is the key).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = code)]
pub struct CodeRow {
    pub code_hash: String,
    pub grant_id: String,
    pub redirect_uri: String,
    pub scope: String,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
    /// The authentication methods used (`pwd`, `otp`, `hwk`), space-separated.
    pub amr: String,
    /// The Portcullis session the person authorized from.
    pub session_id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub token_id: Option<String>,
}

/// What one redeemed code issued: the `gid` of its access tokens, and the refresh chain.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = tk)]
pub struct TokenRow {
    pub id: String,
    pub grant_id: String,
    pub scope: String,
    pub auth_time: i64,
    pub amr: String,
    pub refresh_jti_hash: Option<String>,
    pub previous_jti_hash: Option<String>,
    pub rotated_at: Option<i64>,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
    pub revoked_at: Option<i64>,
}

/// The live grants of `user_id` for `client_id`: not revoked, under the account's credential
/// version now (an empty list when the account is disabled). Newest first.
pub fn live_grant(conn: &mut DbConn, user_id: &str, client_id: &str) -> QueryResult<Option<GrantRow>> {
    g::table
        .filter(g::user_id.eq(user_id))
        .filter(g::client_id.eq(client_id))
        .filter(g::revoked_at.is_null())
        .filter(g::credential_version.eq_any(credential_version_of(user_id.to_owned())))
        .order(g::created_at.desc())
        .select(GrantRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_grant(conn: &mut DbConn, row: &GrantRow) -> QueryResult<()> {
    diesel::insert_into(g::table)
        .values((
            g::id.eq(&row.id),
            g::user_id.eq(&row.user_id),
            g::client_id.eq(&row.client_id),
            g::scope.eq(&row.scope),
            g::credential_version.eq(row.credential_version),
            g::created_at.eq(row.created_at),
            g::last_used_at.eq(row.last_used_at),
        ))
        .execute(conn)
        .map(drop)
}

/// Widens a live grant to `scope` (the person consented to more).
pub fn set_grant_scope(conn: &mut DbConn, id: &str, scope: &str) -> QueryResult<()> {
    diesel::update(g::table.find(id)).set(g::scope.eq(scope)).execute(conn).map(drop)
}

pub fn insert_code(conn: &mut DbConn, row: &CodeRow) -> QueryResult<()> {
    diesel::insert_into(code::table).values(row).execute(conn).map(drop)
}

/// A code found by its hash, with its grant and client, and whether the grant is still live.
pub struct FoundCode {
    pub code: CodeRow,
    pub grant: GrantRow,
    pub grant_live: bool,
}

/// The code behind `hash`, whatever its state (used, expired, its grant ended).
pub fn find_code(conn: &mut DbConn, hash: &str) -> QueryResult<Option<FoundCode>> {
    let found: Option<(CodeRow, GrantRow)> = code::table
        .inner_join(g::table)
        .filter(code::code_hash.eq(hash))
        .select((CodeRow::as_select(), GrantRow::as_select()))
        .first(conn)
        .optional()?;
    let Some((code, grant)) = found else { return Ok(None) };
    let grant_live = grant.revoked_at.is_none()
        && credential_version_of(grant.user_id.clone())
            .first::<i64>(conn)
            .optional()?
            .is_some_and(|version| version == grant.credential_version);
    Ok(Some(FoundCode { code, grant, grant_live }))
}

/// Marks the code used, only if nobody used it first: of two concurrent redemptions exactly one
/// gets `true`.
pub fn use_code(conn: &mut DbConn, hash: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(code::table.find(hash).filter(code::used_at.is_null()))
        .set(code::used_at.eq(now))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Records what the code's redemption issued (for revoking it when the code comes back).
pub fn set_code_token(conn: &mut DbConn, hash: &str, token_id: &str) -> QueryResult<()> {
    diesel::update(code::table.find(hash)).set(code::token_id.eq(token_id)).execute(conn).map(drop)
}

pub fn insert_token(conn: &mut DbConn, row: &TokenRow) -> QueryResult<()> {
    diesel::insert_into(tk::table).values(row).execute(conn).map(drop)
}

pub fn touch_grant(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<()> {
    diesel::update(g::table.find(id)).set(g::last_used_at.eq(now)).execute(conn).map(drop)
}

/// Ends what a code's redemption issued.
pub fn revoke_token(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(tk::table.find(id).filter(tk::revoked_at.is_null()))
        .set(tk::revoked_at.eq(now))
        .execute(conn)?;
    Ok(changed == 1)
}

/// A token row with its grant, if both are live: not revoked, the grant under the account's
/// credential version now, the account enabled.
pub fn live_token(conn: &mut DbConn, id: &str) -> QueryResult<Option<(TokenRow, GrantRow)>> {
    let found: Option<(TokenRow, GrantRow, i64, bool)> = tk::table
        .inner_join(g::table.inner_join(users::table))
        .filter(tk::id.eq(id))
        .select((TokenRow::as_select(), GrantRow::as_select(), users::credential_version, users::disabled))
        .first(conn)
        .optional()?;
    Ok(found.and_then(|(token, grant, version, disabled)| {
        let live = token.revoked_at.is_none()
            && grant.revoked_at.is_none()
            && !disabled
            && version == grant.credential_version;
        live.then_some((token, grant))
    }))
}

/// What an app's access token is checked against at each use (its `gid`), in one query: the
/// account's address as it is now, if token, grant and account are live.
#[derive(Debug, Clone, Queryable)]
pub struct AppGuardRow {
    pub user_id: String,
    pub email: String,
    pub email_verified: bool,
    pub client_id: String,
}

pub fn find_app_guard_row(conn: &mut DbConn, token_id: &str) -> QueryResult<Option<AppGuardRow>> {
    tk::table
        .inner_join(g::table.inner_join(users::table))
        .filter(tk::id.eq(token_id))
        .filter(tk::revoked_at.is_null())
        .filter(g::revoked_at.is_null())
        .filter(users::disabled.eq(false))
        .filter(g::credential_version.eq(users::credential_version))
        .select((users::id, users::email, users::email_verified, g::client_id))
        .first(conn)
        .optional()
}

/// Compare-and-swap of the refresh chain, like `sessions::rotate_refresh`.
pub fn rotate_token_refresh(
    conn: &mut DbConn,
    id: &str,
    presented_hash: &str,
    successor_hash: &str,
    now: i64,
) -> QueryResult<bool> {
    let changed = diesel::update(
        tk::table
            .find(id)
            .filter(tk::refresh_jti_hash.eq(presented_hash))
            .filter(tk::revoked_at.is_null())
            .filter(tk::expires_at.gt(now)),
    )
    .set((
        tk::previous_jti_hash.eq(presented_hash),
        tk::refresh_jti_hash.eq(successor_hash),
        tk::rotated_at.eq(now),
        tk::last_used_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// A person's live grants with their client's name, most recently used first.
pub fn grants_of(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<(GrantRow, String)>> {
    g::table
        .inner_join(oauth_clients::table)
        .filter(g::user_id.eq(user_id))
        .filter(g::revoked_at.is_null())
        .filter(g::credential_version.eq_any(credential_version_of(user_id.to_owned())))
        .order((g::last_used_at.desc(), g::id.asc()))
        .select((GrantRow::as_select(), oauth_clients::name))
        .load(conn)
}

/// Revokes one of the person's grants; false when it is not theirs or already ended.
pub fn revoke_grant(conn: &mut DbConn, user_id: &str, id: &str, now: i64) -> QueryResult<bool> {
    let changed =
        diesel::update(g::table.find(id).filter(g::user_id.eq(user_id)).filter(g::revoked_at.is_null()))
            .set(g::revoked_at.eq(now))
            .execute(conn)?;
    Ok(changed == 1)
}

/// Deletes up to `batch` codes expired before `cutoff`, token chains expired or revoked before
/// it, grants revoked before it, and grants a credential change ended (made under another
/// credential version than the account's now; their codes and tokens go with them).
pub fn purge(conn: &mut DbConn, cutoff: i64, batch: i64) -> QueryResult<usize> {
    let codes: Vec<String> =
        code::table.filter(code::expires_at.lt(cutoff)).select(code::code_hash).limit(batch).load(conn)?;
    let mut deleted = diesel::delete(code::table.filter(code::code_hash.eq_any(&codes))).execute(conn)?;
    let tokens: Vec<String> = tk::table
        .filter(tk::expires_at.lt(cutoff).or(tk::revoked_at.lt(cutoff)))
        .select(tk::id)
        .limit(batch)
        .load(conn)?;
    deleted += diesel::delete(tk::table.filter(tk::id.eq_any(&tokens))).execute(conn)?;
    let revoked: Vec<String> =
        g::table.filter(g::revoked_at.lt(cutoff)).select(g::id).limit(batch).load(conn)?;
    deleted += diesel::delete(g::table.filter(g::id.eq_any(&revoked))).execute(conn)?;
    let outdated: Vec<String> = g::table
        .inner_join(users::table)
        .filter(g::credential_version.ne(users::credential_version))
        .select(g::id)
        .limit(batch)
        .load(conn)?;
    deleted += diesel::delete(g::table.filter(g::id.eq_any(&outdated))).execute(conn)?;
    Ok(deleted)
}
