//! Queries on `sessions`: the server-side record of one sign-in.

use diesel::prelude::*;

use super::models::{NewSession, Session, User};
use super::schema::{sessions, users};
use super::DbConn;

pub fn insert_session(conn: &mut DbConn, session: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table).values(session).execute(conn).map(drop)
}

/// The guard's one query: the session and its user, joined on the primary keys.
pub fn find_session_with_user(conn: &mut DbConn, session_id: &str, user_id: &str) -> QueryResult<Option<(Session, User)>> {
    sessions::table
        .inner_join(users::table)
        .filter(sessions::id.eq(session_id))
        .filter(users::id.eq(user_id))
        .select((Session::as_select(), User::as_select()))
        .first(conn)
        .optional()
}

/// Marks one session revoked; revoking twice keeps the first time.
pub fn revoke_session(conn: &mut DbConn, session_id: &str, now: i64) -> QueryResult<bool> {
    let changed = diesel::update(sessions::table.find(session_id).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)?;
    Ok(changed > 0)
}

pub fn revoke_user_sessions(conn: &mut DbConn, user_id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(sessions::table.filter(sessions::user_id.eq(user_id)).filter(sessions::revoked_at.is_null()))
        .set(sessions::revoked_at.eq(now))
        .execute(conn)
}
