//! Who is acting: the verified caller the guard found (no database row, no hash), the session
//! a signed token names, and who acts on an account that is not theirs.

use crate::db::models::{Session, User};
use crate::db::sessions::GuardRow;
use crate::domain::{Role, SessionId, UserId};

/// How the credential arrived. Bearer-only requests are exempt from CSRF checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `Authorization: Bearer` (a script or another service).
    Bearer,
    /// The access cookie (a browser); unsafe requests need a CSRF token.
    Cookie,
}

/// A verified caller: who they are and how the credential arrived. No database row and no
/// password hash travel with a request; what a handler needs beyond this, it loads.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The account.
    pub user_id: UserId,
    /// The session the credential belongs to (a sign-out ends it).
    pub session_id: SessionId,
    /// The account's address, as the database has it now.
    pub email: String,
    /// The account's role, as the database has it now (not as the token says).
    pub role: Role,
    /// When the account was created (Unix seconds).
    pub member_since: i64,
    /// Whether the owner confirmed the address by a mailed link.
    pub email_verified: bool,
    /// How the credential arrived.
    pub via: Via,
}

impl Identity {
    /// The identity of a live session of an enabled user, after a refresh. Takes the rows by
    /// value: the caller is done with them.
    pub fn new(user: User, session: Session, via: Via) -> Self {
        Self {
            user_id: user.id,
            session_id: session.id,
            email: user.email,
            role: user.role,
            member_since: user.created_at,
            email_verified: user.email_verified,
            via,
        }
    }

    /// The identity the guard's look-up found (it runs on every request: no clones).
    pub fn from_guard_row(user_id: UserId, session_id: SessionId, row: GuardRow, via: Via) -> Self {
        Self {
            user_id,
            session_id,
            email: row.email,
            role: row.role,
            member_since: row.created_at,
            email_verified: row.email_verified,
            via,
        }
    }

    pub fn session(&self) -> SessionRef {
        SessionRef { user_id: self.user_id.clone(), session_id: self.session_id.clone() }
    }
}

/// A session a request acts for, named by a signed token (not yet checked against the
/// database).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRef {
    pub user_id: UserId,
    pub session_id: SessionId,
}

/// Who acts on an account that is not theirs. Their action becomes a security event on that
/// account, naming them, which its owner sees on the account page.
#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    /// An administrator, through the admin page or the admin API.
    Admin { id: &'a UserId, email: &'a str },
    /// An operator at the server, through `portcullis user …`.
    CommandLine,
}

impl Actor<'_> {
    /// Whether an administrator acts on their own account.
    pub(crate) fn is_self(&self, user_id: &UserId) -> bool {
        matches!(self, Self::Admin { id, .. } if *id == user_id)
    }

    pub(crate) fn by(&self) -> String {
        match self {
            Self::Admin { email, .. } => format!("by {email}"),
            Self::CommandLine => "from the command line".to_owned(),
        }
    }
}

/// How a sign-in was proven (RFC 8176 names, an ID token's `amr`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amr {
    /// A password (registration signs in with the password just chosen).
    Password,
    /// A password and a code from an authenticator app or a recovery code.
    PasswordAndCode,
    /// A passkey.
    Passkey,
    /// Another identity provider (SPEC §13); `fed`, as RFC 8176 has no name for it.
    Provider,
}

impl Amr {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Password => "pwd",
            Self::PasswordAndCode => "pwd otp",
            Self::Passkey => "hwk",
            Self::Provider => "fed",
        }
    }
}
