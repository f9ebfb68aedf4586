//! Parsed, trusted values: built once from raw input by `TryFrom`, never re-checked below.

mod email;
mod event;
mod ids;
mod next;
mod password;
mod role;
mod secret;

pub use email::{Email, is_invisible_format};
pub use event::EventKind;
pub use ids::{SessionId, UserId};
pub use next::safe_next;
pub use password::{MAX_PASSWORD_BYTES, NewPassword, PasswordPolicy};
pub use role::{Role, UnknownRole};
pub use secret::PasswordHash;
