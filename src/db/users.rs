//! Queries on `users`.

use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error as DieselError};

use super::DbConn;
use super::models::{NewUser, User};
use super::schema::users;
use crate::domain::{Role, UserId};

/// Why a user could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateUserError {
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] super::StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<DieselError> for CreateUserError {
    fn from(e: DieselError) -> Self {
        Self::Store(e.into())
    }
}

pub fn insert_user(conn: &mut DbConn, user: &NewUser<'_>) -> Result<(), CreateUserError> {
    match diesel::insert_into(users::table).values(user).execute(conn) {
        Ok(_) => Ok(()),
        // Through MultiConnection there is no on_conflict_do_nothing: the unique index
        // on lower(email) is the arbiter, and its violation means "taken".
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => {
            Err(CreateUserError::EmailTaken)
        }
        Err(e) => Err(super::StoreError::Query(e).into()),
    }
}

pub fn find_user_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).optional()
}

pub fn find_user_by_id(conn: &mut DbConn, id: &UserId) -> QueryResult<Option<User>> {
    users::table.find(id.as_str()).select(User::as_select()).first(conn).optional()
}

pub fn list_users(conn: &mut DbConn) -> QueryResult<Vec<User>> {
    users::table.order(users::created_at.asc()).select(User::as_select()).load(conn)
}

/// Compare-and-swap on the hash: replaces it only if it is still the one the caller
/// verified, so of two concurrent password changes exactly one wins. A new password is a
/// credential change: see [`credential_version_of`].
pub fn replace_password_hash(
    conn: &mut DbConn,
    id: &UserId,
    old: &str,
    new: &str,
    now: i64,
) -> QueryResult<bool> {
    let changed = diesel::update(users::table.find(id.as_str()).filter(users::password_hash.eq(old)))
        .set((
            users::password_hash.eq(new),
            users::updated_at.eq(now),
            users::credential_version.eq(users::credential_version + 1),
        ))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Sets a new password whatever the old one was (a reset link, an operator): a credential
/// change, like [`replace_password_hash`].
pub fn set_password_hash(conn: &mut DbConn, id: &UserId, hash: &str, now: i64) -> QueryResult<()> {
    diesel::update(users::table.find(id.as_str()))
        .set((
            users::password_hash.eq(hash),
            users::updated_at.eq(now),
            users::credential_version.eq(users::credential_version + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// The same password under today's argon2 parameters (a rehash at sign-in): not a credential
/// change. Only if the hash is still the one just verified, so a rehash racing a password
/// change can never bring the old password back.
pub fn upgrade_password_hash(conn: &mut DbConn, id: &UserId, old: &str, new: &str) -> QueryResult<bool> {
    let changed = diesel::update(users::table.find(id.as_str()).filter(users::password_hash.eq(old)))
        .set(users::password_hash.eq(new))
        .execute(conn)?;
    Ok(changed == 1)
}

/// SPEC §9's one mechanism: whatever was issued under the account's credentials — links,
/// code-step challenges, passkey ceremonies, a pending authenticator app — records the
/// version it was issued under, and is good only while the account is enabled and still has
/// that version ([`credential_version_of`]). Every password write, an applied email change
/// and a disable add one, in the same statement as the change.
#[diesel::dsl::auto_type(no_type_alias)]
pub fn credential_version_of(id: String) -> _ {
    users::table.filter(users::id.eq(id)).filter(users::disabled.eq(false)).select(users::credential_version)
}

/// The account's credential version now; `None` when it is disabled or gone.
pub fn live_credential_version(conn: &mut DbConn, id: &UserId) -> QueryResult<Option<i64>> {
    credential_version_of(id.to_string()).first(conn).optional()
}

/// Lets one change to the set of enabled administrators (a demotion, a disable, a deletion) run
/// at a time, to the end of the caller's write transaction. On PostgreSQL under READ COMMITTED,
/// two admins demoting each other at once both read "another admin is left" and both win,
/// leaving none; a transaction-scoped advisory lock makes the second wait and then read the
/// first's commit. SQLite's write transactions (`BEGIN IMMEDIATE`) already serialize.
pub fn serialize_admin_changes(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Postgres(pg) = conn {
        use diesel::connection::SimpleConnection;
        pg.batch_execute(&format!("SELECT pg_advisory_xact_lock({ADMIN_CHANGES_LOCK})"))?;
    }
    Ok(())
}

/// The advisory lock key of [`serialize_admin_changes`] ("adminset").
const ADMIN_CHANGES_LOCK: i64 = 0x6164_6d69_6e73_6574;

/// Whether `id` is the only enabled administrator left.
pub fn is_last_enabled_admin(conn: &mut DbConn, id: &UserId) -> QueryResult<bool> {
    let admins: Vec<String> = users::table
        .filter(users::role.eq(Role::Admin.as_str()))
        .filter(users::disabled.eq(false))
        .select(users::id)
        .load(conn)?;
    Ok(admins.len() == 1 && admins[0] == id.as_str())
}

/// Deletes the account; its sessions, events and links go with it (`ON DELETE CASCADE`).
pub fn delete_user(conn: &mut DbConn, id: &UserId) -> QueryResult<bool> {
    Ok(diesel::delete(users::table.find(id.as_str())).execute(conn)? == 1)
}

pub fn set_role(conn: &mut DbConn, id: &UserId, role: Role, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(users::table.find(id.as_str()))
        .set((users::role.eq(role.as_str()), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Moves the account to `email` (verified: the link proved it), a credential change (links
/// sent to the old address die); false when another account has that address.
pub fn change_email(conn: &mut DbConn, id: &UserId, email: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(users::table.find(id.as_str()))
        .set((
            users::email.eq(email),
            users::email_verified.eq(true),
            users::updated_at.eq(now),
            users::credential_version.eq(users::credential_version + 1),
        ))
        .execute(conn);
    match changed {
        Ok(n) => Ok(n == 1),
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Marks the address verified, if it is still the account's address.
pub fn mark_verified(conn: &mut DbConn, id: &UserId, email: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(users::table.find(id.as_str()).filter(users::email.eq(email)))
        .set((users::email_verified.eq(true), users::updated_at.eq(now)))
        .execute(conn)?;
    Ok(changed == 1)
}

/// Sets the flag by id; disabling also revokes every session and ends everything issued under
/// the account's credentials (its version moves on), in one transaction. Returns whether the
/// user exists.
pub fn set_user_disabled(conn: &mut DbConn, id: &UserId, disabled: bool, now: i64) -> QueryResult<bool> {
    super::write_transaction(conn, |conn| {
        let bump = i64::from(disabled);
        let changed = diesel::update(users::table.find(id.as_str()))
            .set((
                users::disabled.eq(disabled),
                users::updated_at.eq(now),
                users::credential_version.eq(users::credential_version + bump),
            ))
            .execute(conn)?;
        if changed > 0 && disabled {
            super::sessions::revoke_user_sessions(conn, id, now)?;
        }
        Ok(changed > 0)
    })
}
