//! Security events: what happened to an account, stored and shown to its owner.

use crate::auth::client::ClientInfo;
use crate::auth::tokens::random_id;
use crate::db::models::SecurityEvent;
use crate::db::{self, Pool, events};
pub use crate::domain::EventKind;
use crate::domain::{SessionId, UserId};

pub fn new_event(
    user_id: &UserId,
    kind: EventKind,
    session_id: Option<&SessionId>,
    client: &ClientInfo,
) -> SecurityEvent {
    new_event_with(user_id, kind, session_id, None, client)
}

fn new_event_with(
    user_id: &UserId,
    kind: EventKind,
    session_id: Option<&SessionId>,
    detail: Option<String>,
    client: &ClientInfo,
) -> SecurityEvent {
    // Every security event is also a log line, for fail2ban or a SIEM (docs/fail2ban/). The
    // message holds only the event's kind (a fixed word) and the client IP (parsed from the
    // socket or a trusted proxy's header, never a client's text); what a user may have written
    // (an address, a passkey's name) goes only into the `detail` field, escaped by the logger.
    let (event, ip, user) = (kind.as_str(), client.ip.as_str(), user_id.as_str());
    match &detail {
        Some(detail) => log::info!(
            target: "portcullis::security", event = event, ip = ip, user_id = user, detail = detail.as_str();
            "security event {event} from {ip}"
        ),
        None => log::info!(
            target: "portcullis::security", event = event, ip = ip, user_id = user;
            "security event {event} from {ip}"
        ),
    }
    // Time first, so that ids sort in the order events happened, even within one second.
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    SecurityEvent {
        id: format!("{nanos:020}-{}", random_id()),
        user_id: user_id.clone(),
        kind,
        session_id: session_id.map(SessionId::to_string),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        created_at: db::now(),
        detail,
    }
}

/// Stores an event. A failure is logged and swallowed: the action it describes has
/// already happened and must not be reported as failed.
pub async fn record(
    pool: &Pool,
    user_id: &UserId,
    kind: EventKind,
    session_id: Option<&SessionId>,
    client: &ClientInfo,
) {
    store(pool, new_event(user_id, kind, session_id, client)).await;
}

/// [`record`] for what someone else did to the account: `detail` says who (and what).
pub async fn record_detailed(
    pool: &Pool,
    user_id: &UserId,
    kind: EventKind,
    detail: String,
    client: &ClientInfo,
) {
    store(pool, new_event_with(user_id, kind, None, Some(detail), client)).await;
}

async fn store(pool: &Pool, event: SecurityEvent) {
    let name = event.kind.as_str().to_owned();
    if let Err(e) = db::query(pool, move |conn| events::insert_event(conn, &event)).await {
        log::error!(event = name.as_str(), error:% = e; "could not record a security event");
    }
}
