//! Portcullis as an OpenID Connect provider (SPEC §11): the applications registered to sign
//! people in through it (`clients`), the authorization request (`authorize`, `scope`, `pkce`),
//! what it leads to (`grants`: sign in, consent, a code), the token endpoint's app grants
//! (`client_auth`, `exchange`, `tokens`) and app tokens at the door (`app_token`).

pub mod app_token;
pub mod authorize;
pub mod client_auth;
pub mod clients;
pub mod exchange;
pub mod grants;
pub mod pkce;
pub mod scope;
pub mod tokens;
