//! Queries on `security_events`.

use diesel::prelude::*;

use super::DbConn;
use super::models::SecurityEvent;
use super::schema::security_events;
use crate::domain::UserId;

/// Each account keeps its newest events of each kind up to this many; older ones of that kind
/// are pruned on insert. Per kind, so that a flood of one kind (failed sign-ins) cannot wash
/// the others (the real sign-in, the password change) out.
pub const EVENTS_KEPT_PER_KIND: i64 = 50;

pub fn insert_event(conn: &mut DbConn, event: &SecurityEvent) -> QueryResult<()> {
    // An owned row: the kind and user are written through `serialize_as`, which takes them.
    diesel::insert_into(security_events::table).values(event.clone()).execute(conn)?;
    prune_events(conn, &event.user_id, event.kind.as_str())
}

/// Deletes all but the newest [`EVENTS_KEPT_PER_KIND`] events of one kind of one user.
fn prune_events(conn: &mut DbConn, user_id: &UserId, kind: &str) -> QueryResult<()> {
    // Ids begin with the time in nanoseconds, so they order events exactly.
    let cutoff: Option<String> = security_events::table
        .filter(security_events::user_id.eq(user_id.as_str()))
        .filter(security_events::kind.eq(kind))
        .order(security_events::id.desc())
        .select(security_events::id)
        .offset(EVENTS_KEPT_PER_KIND)
        .first(conn)
        .optional()?;
    if let Some(cutoff) = cutoff {
        diesel::delete(
            security_events::table
                .filter(security_events::user_id.eq(user_id.as_str()))
                .filter(security_events::kind.eq(kind))
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
