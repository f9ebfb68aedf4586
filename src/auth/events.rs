//! Security events: what happened to an account, stored and shown to its owner.

use super::client::ClientInfo;
use super::tokens::random_id;
use crate::db::models::SecurityEvent;
use crate::db::{self, Pool, events};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    LoginSucceeded,
    LoginFailed,
    RefreshReuseDetected,
    LoggedOut,
    PasswordChanged,
    SessionRevoked,
    UserDisabled,
    UserEnabled,
    Lockout,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoginSucceeded => "login_succeeded",
            Self::LoginFailed => "login_failed",
            Self::RefreshReuseDetected => "refresh_reuse_detected",
            Self::LoggedOut => "logged_out",
            Self::PasswordChanged => "password_changed",
            Self::SessionRevoked => "session_revoked",
            Self::UserDisabled => "user_disabled",
            Self::UserEnabled => "user_enabled",
            Self::Lockout => "lockout",
        }
    }

    /// How the account page words a stored kind.
    pub fn describe(kind: &str) -> &'static str {
        match kind {
            "login_succeeded" => "Signed in",
            "login_failed" => "Failed sign-in attempt",
            "refresh_reuse_detected" => "A stolen session token was replayed; that session was ended",
            "logged_out" => "Signed out",
            "password_changed" => "Password changed; other sessions ended",
            "session_revoked" => "A session was ended",
            "user_disabled" => "Account disabled by an administrator",
            "user_enabled" => "Account enabled by an administrator",
            "lockout" => "Sign-in paused after repeated failures",
            _ => "Security event",
        }
    }
}

pub fn new_event(
    user_id: &str,
    kind: EventKind,
    session_id: Option<&str>,
    client: &ClientInfo,
) -> SecurityEvent {
    // Time first, so that ids sort in the order events happened, even within one second.
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    SecurityEvent {
        id: format!("{nanos:020}-{}", random_id()),
        user_id: user_id.to_owned(),
        kind: kind.as_str().to_owned(),
        session_id: session_id.map(str::to_owned),
        ip: client.ip.clone(),
        user_agent: client.user_agent.clone(),
        created_at: db::now(),
    }
}

/// Stores an event. A failure is logged and swallowed: the action it describes has
/// already happened and must not be reported as failed.
pub async fn record(
    pool: &Pool,
    user_id: &str,
    kind: EventKind,
    session_id: Option<&str>,
    client: &ClientInfo,
) {
    let event = new_event(user_id, kind, session_id, client);
    if let Err(e) = db::query(pool, move |conn| events::insert_event(conn, &event)).await {
        log::error!("could not record a {} event: {e}", kind.as_str());
    }
}
