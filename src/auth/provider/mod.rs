//! Portcullis as an OpenID Connect provider (SPEC §11): the applications registered to sign
//! people in through it (`clients`).

pub mod clients;
