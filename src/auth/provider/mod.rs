//! Portcullis as an OpenID Connect provider (SPEC §11): the applications registered to sign
//! people in through it (`clients`), the authorization request (`authorize`, `scope`, `pkce`).

pub mod authorize;
pub mod clients;
pub mod pkce;
pub mod scope;
