//! An account's life: registering, proving the password again, recovery and verification
//! through mailed links, an operator's and an administrator's changes, deletion.

pub mod lifecycle;
pub mod links;
pub mod reauth;
pub mod recovery;
pub mod register;
pub mod verification;
