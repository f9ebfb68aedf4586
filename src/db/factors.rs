//! Queries on `totp_factors` and `recovery_codes`: a user's second factor.

use diesel::prelude::*;

use super::DbConn;
use super::schema::{recovery_codes as r, totp_factors as t};
use crate::domain::{SessionId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = t)]
pub struct TotpFactor {
    pub secret_sealed: String,
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
    /// A pending factor: the credential version of the password check it was made after.
    pub credential_version: i64,
    /// A pending factor: the session that gave the password; `None` for one made without.
    pub checked_session: Option<String>,
}

impl TotpFactor {
    /// A pending factor that `session` may see and confirm: made after its password check,
    /// under the account's credentials of `version` (SPEC §9).
    pub fn pending_for(&self, session: &SessionId, version: i64) -> bool {
        self.confirmed_at.is_none()
            && self.checked_session.as_deref() == Some(session.as_str())
            && self.credential_version == version
    }
}

/// Who may see and confirm a pending factor: the session that gave the password, under the
/// credential version that check read.
#[derive(Debug, Clone, Copy)]
pub struct PasswordChecked<'a> {
    pub session: &'a SessionId,
    pub credential_version: i64,
}

pub fn find_totp(conn: &mut DbConn, user_id: &UserId) -> QueryResult<Option<TotpFactor>> {
    t::table.find(user_id.as_str()).select(TotpFactor::as_select()).first(conn).optional()
}

/// Whether the user has a confirmed TOTP factor (the code step is on).
pub fn totp_is_on(conn: &mut DbConn, user_id: &UserId) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(t::table.find(user_id.as_str()).filter(t::confirmed_at.is_not_null())))
        .get_result(conn)
}

/// A new pending secret in place of any pending one (never of a confirmed factor), marked for
/// the session that gave the password. Returns whether it was stored.
pub fn replace_pending_totp(
    conn: &mut DbConn,
    user_id: &UserId,
    sealed: &str,
    checked: PasswordChecked<'_>,
    now: i64,
) -> QueryResult<bool> {
    diesel::delete(t::table.find(user_id.as_str()).filter(t::confirmed_at.is_null())).execute(conn)?;
    let inserted = diesel::insert_into(t::table)
        .values((
            t::user_id.eq(user_id.as_str()),
            t::secret_sealed.eq(sealed),
            t::created_at.eq(now),
            t::credential_version.eq(checked.credential_version),
            t::checked_session.eq(checked.session.as_str()),
        ))
        .execute(conn);
    super::unless_taken(inserted)
}

/// Turns a pending factor on, having accepted a code of `step`: only the one `session` made
/// after its password check, while the account still has those credentials. False otherwise.
pub fn confirm_totp(
    conn: &mut DbConn,
    user_id: &UserId,
    session: &SessionId,
    step: i64,
    now: i64,
) -> QueryResult<bool> {
    let version = super::users::credential_version_of(user_id.to_string());
    let changed = diesel::update(
        t::table
            .find(user_id.as_str())
            .filter(t::confirmed_at.is_null())
            .filter(t::checked_session.eq(session.as_str()))
            .filter(t::credential_version.eq_any(version)),
    )
    .set((t::confirmed_at.eq(now), t::last_step.eq(step)))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Uses the code of time step `step`, once: false when this step (or a later one) was used.
pub fn use_totp_step(conn: &mut DbConn, user_id: &UserId, step: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        t::table.find(user_id.as_str()).filter(t::confirmed_at.is_not_null()).filter(t::last_step.lt(step)),
    )
    .set(t::last_step.eq(step))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Removes the TOTP factor and the recovery codes; returns whether a confirmed factor was on.
pub fn delete_totp(conn: &mut DbConn, user_id: &UserId) -> QueryResult<bool> {
    diesel::delete(r::table.filter(r::user_id.eq(user_id.as_str()))).execute(conn)?;
    let on = diesel::delete(t::table.find(user_id.as_str()).filter(t::confirmed_at.is_not_null()))
        .execute(conn)?;
    diesel::delete(t::table.find(user_id.as_str())).execute(conn)?;
    Ok(on == 1)
}

/// Replaces the user's recovery codes with these hashes.
pub fn replace_recovery_codes(
    conn: &mut DbConn,
    user_id: &UserId,
    hashes: &[String],
    now: i64,
) -> QueryResult<()> {
    diesel::delete(r::table.filter(r::user_id.eq(user_id.as_str()))).execute(conn)?;
    // One statement per code: the connection type serving both backends has no batch insert.
    for hash in hashes {
        diesel::insert_into(r::table)
            .values((r::code_hash.eq(hash), r::user_id.eq(user_id.as_str()), r::created_at.eq(now)))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses a recovery code up, once: of two concurrent uses exactly one gets `true`.
pub fn use_recovery_code(conn: &mut DbConn, user_id: &UserId, hash: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(
        r::table.find(hash).filter(r::user_id.eq(user_id.as_str())).filter(r::used_at.is_null()),
    )
    .set(r::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

pub fn unused_recovery_codes(conn: &mut DbConn, user_id: &UserId) -> QueryResult<i64> {
    r::table.filter(r::user_id.eq(user_id.as_str())).filter(r::used_at.is_null()).count().get_result(conn)
}
