//! Queries on `security_events`.

use diesel::prelude::*;

use super::DbConn;
use super::models::SecurityEvent;
use super::schema::security_events;
use crate::domain::UserId;

/// Each account keeps its newest events up to this many; older ones are pruned on insert.
pub const EVENTS_KEPT_PER_USER: i64 = 100;

pub fn insert_event(conn: &mut DbConn, event: &SecurityEvent) -> QueryResult<()> {
    // An owned row: the kind is written through `serialize_as`, which takes its value.
    diesel::insert_into(security_events::table).values(event.clone()).execute(conn)?;
    prune_events(conn, &event.user_id)
}

/// Deletes all but the newest [`EVENTS_KEPT_PER_USER`] events of one user.
fn prune_events(conn: &mut DbConn, user_id: &UserId) -> QueryResult<()> {
    // Ids begin with the time in nanoseconds, so they order events exactly.
    let cutoff: Option<String> = security_events::table
        .filter(security_events::user_id.eq(user_id.as_str()))
        .order(security_events::id.desc())
        .select(security_events::id)
        .offset(EVENTS_KEPT_PER_USER)
        .first(conn)
        .optional()?;
    if let Some(cutoff) = cutoff {
        diesel::delete(
            security_events::table
                .filter(security_events::user_id.eq(user_id.as_str()))
                .filter(security_events::id.le(cutoff)),
        )
        .execute(conn)?;
    }
    Ok(())
}

pub fn recent_events(conn: &mut DbConn, user_id: &UserId, limit: i64) -> QueryResult<Vec<SecurityEvent>> {
    security_events::table
        .filter(security_events::user_id.eq(user_id.as_str()))
        .order(security_events::id.desc())
        .limit(limit)
        .select(SecurityEvent::as_select())
        .load(conn)
}
