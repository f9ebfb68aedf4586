//! An account's life: registering, changing the password, proving it again, recovery and
//! verification through mailed links, an operator's and an administrator's changes, deletion.

pub mod lifecycle;
pub mod links;
pub mod password_change;
pub mod reauth;
pub mod recovery;
pub mod register;
pub mod verification;
