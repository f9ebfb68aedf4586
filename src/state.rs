//! What request handlers share, built once by `startup`. It sits above `auth` in the layers:
//! auth's functions and middleware take the narrow pieces they need (each piece is also
//! registered as its own `web::Data`), never this bundle.

use actix_web::web;

use crate::auth::client::TrustedProxies;
use crate::auth::cookies::CookiePolicy;
use crate::auth::csrf::CsrfKey;
use crate::auth::password::Hasher;
use crate::auth::sessions::Sessions;
use crate::auth::throttle::ThrottleLimits;
use crate::config::PublicUrl;
use crate::db::Pool;
use crate::domain::PasswordPolicy;

pub struct AppState {
    pub pool: Pool,
    pub sessions: web::Data<Sessions>,
    pub hasher: Hasher,
    pub cookies: web::Data<CookiePolicy>,
    pub csrf: web::Data<CsrfKey>,
    pub public_url: web::Data<PublicUrl>,
    pub trusted_proxies: web::Data<TrustedProxies>,
    pub throttle: ThrottleLimits,
    pub password_policy: PasswordPolicy,
    pub registration_open: bool,
}

impl AppState {
    /// Registers the bundle for handlers and each piece that middleware and extractors read.
    pub fn register(state: &web::Data<Self>, cfg: &mut web::ServiceConfig) {
        cfg.app_data(state.clone())
            .app_data(state.sessions.clone())
            .app_data(state.cookies.clone())
            .app_data(state.csrf.clone())
            .app_data(state.public_url.clone())
            .app_data(state.trusted_proxies.clone());
    }
}
