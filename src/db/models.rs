//! Rows as Diesel reads and writes them. Times are Unix seconds.

use diesel::prelude::*;

use super::schema::{security_events, sessions, users};
use crate::domain::{EventKind, PasswordHash, Role, SessionId, UserId};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    #[diesel(deserialize_as = String)]
    pub id: UserId,
    pub email: String,
    #[diesel(deserialize_as = String)]
    pub password_hash: PasswordHash,
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub email_verified: bool,
    /// What links, challenges and ceremonies issued now record (`users::credential_version_of`).
    pub credential_version: i64,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub disabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub email_verified: bool,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    #[diesel(deserialize_as = String)]
    pub id: SessionId,
    #[diesel(deserialize_as = String)]
    pub user_id: UserId,
    pub refresh_jti_hash: String,
    pub previous_jti_hash: Option<String>,
    pub rotated_at: Option<i64>,
    pub remember: bool,
    pub created_at: i64,
    pub last_used_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub revoked_at: Option<i64>,
    pub user_agent: String,
    pub ip: String,
    /// How the sign-in was proven (an ID token's `amr`): `pwd`, `pwd otp`, `hwk`.
    pub amr: String,
}

impl Session {
    /// Live means: not revoked, and neither the idle nor the absolute deadline has passed.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && now < self.idle_expires_at && now < self.absolute_expires_at
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub refresh_jti_hash: &'a str,
    pub remember: bool,
    pub created_at: i64,
    pub last_used_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
    pub user_agent: &'a str,
    pub ip: &'a str,
    pub amr: &'a str,
}

impl<'a> From<&'a Session> for NewSession<'a> {
    fn from(s: &'a Session) -> Self {
        Self {
            id: s.id.as_str(),
            user_id: s.user_id.as_str(),
            refresh_jti_hash: &s.refresh_jti_hash,
            remember: s.remember,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            idle_expires_at: s.idle_expires_at,
            absolute_expires_at: s.absolute_expires_at,
            user_agent: &s.user_agent,
            ip: &s.ip,
            amr: &s.amr,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = security_events)]
pub struct SecurityEvent {
    pub id: String,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub user_id: UserId,
    #[diesel(deserialize_as = String, serialize_as = String)]
    pub kind: EventKind,
    pub session_id: Option<String>,
    pub ip: String,
    pub user_agent: String,
    pub created_at: i64,
    /// Who caused it, when that was someone else (an administrator): "by admin@example.com".
    pub detail: Option<String>,
}
