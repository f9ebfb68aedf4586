//! Parsed, trusted values: built once from raw input by `TryFrom`, never re-checked below.

mod email;
mod password;
mod role;

pub use email::Email;
pub use password::{MAX_PASSWORD_BYTES, NewPassword, PasswordPolicy};
pub use role::Role;
