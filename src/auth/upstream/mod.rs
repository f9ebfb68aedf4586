//! Signing in with another identity provider (SPEC §13): the providers an operator registers
//! (`providers`), what Portcullis learns of them (`discovery`), the sign-in through one as a
//! relying party (`flow`), and which account an identity leads to (`linking`).

pub mod discovery;
pub mod error;
pub mod flow;
pub mod github;
pub mod linking;
pub mod providers;
