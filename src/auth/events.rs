//! Security events: what happened to an account, stored and shown to its owner.

use super::client::ClientInfo;
use super::tokens::random_id;
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
    // Every security event is also a log line, for fail2ban or a SIEM (docs/fail2ban/).
    log::info!(
        target: "portcullis::security",
        event = kind.as_str(), ip = client.ip.as_str(), user_id = user_id.as_str();
        "security event {} from {}", kind.as_str(), client.ip
    );
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
        detail: None,
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
    log::info!(
        target: "portcullis::security",
        event = kind.as_str(), user_id = user_id.as_str(), detail = detail.as_str();
        "{} on {user_id} {detail}", kind.as_str()
    );
    let mut event = new_event(user_id, kind, None, client);
    event.detail = Some(detail);
    store(pool, event).await;
}

async fn store(pool: &Pool, event: SecurityEvent) {
    let name = event.kind.as_str().to_owned();
    if let Err(e) = db::query(pool, move |conn| events::insert_event(conn, &event)).await {
        log::error!("could not record a {name} event: {e}");
    }
}
