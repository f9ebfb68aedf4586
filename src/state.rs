//! What request handlers share, built once by `startup`. It sits above `auth` in the layers:
//! auth's functions and middleware take the narrow pieces they need (each piece is also
//! registered as its own `web::Data`), never this bundle.

use std::time::Duration;

use actix_web::web;

use crate::auth::account::lifecycle::PasswordSetting;
use crate::auth::account::reauth::PasswordCheck;
use crate::auth::client::TrustedProxies;
use crate::auth::factors::two_factor::TwoFactor;
use crate::auth::notice::Mailer;
use crate::auth::password::Hasher;
use crate::auth::session::sign_in::Sessions;
use crate::auth::throttle::ThrottleLimits;
use crate::auth::upstream::discovery::Providers;
use crate::auth::upstream::providers::ProviderSealer;
use crate::auth::web::cookies::CookiePolicy;
use crate::auth::web::csrf::CsrfKey;
use crate::config::{Origins, PublicUrl, Registration};
use crate::db::Pool;
use crate::domain::PasswordPolicy;
use crate::mail::Mail;

pub struct AppState {
    pub pool: Pool,
    pub sessions: web::Data<Sessions>,
    pub hasher: Hasher,
    pub cookies: web::Data<CookiePolicy>,
    pub csrf: web::Data<CsrfKey>,
    pub public_url: web::Data<PublicUrl>,
    /// `PORTCULLIS_CORS_ORIGINS`: the deployment's apps on other origins.
    pub cors_origins: web::Data<Origins>,
    pub trusted_proxies: web::Data<TrustedProxies>,
    pub throttle: ThrottleLimits,
    pub password_policy: PasswordPolicy,
    pub registration: Registration,
    pub mail: Mail,
    pub reset_ttl: Duration,
    /// TOTP sealing and passkeys (WebAuthn, when the public URL has a host name).
    pub two_factor: web::Data<TwoFactor>,
    /// Seals and opens the client secrets of the identity providers (SPEC §13).
    pub upstream: std::sync::Arc<ProviderSealer>,
    /// What this instance has learnt of the providers (discovery, keys) and its HTTP client.
    pub providers: std::sync::Arc<Providers>,
}

impl AppState {
    pub fn reset_ttl_secs(&self) -> i64 {
        i64::try_from(self.reset_ttl.as_secs()).unwrap_or(1800)
    }

    pub fn reset_minutes(&self) -> i64 {
        (self.reset_ttl_secs() / 60).max(1)
    }

    /// What checking a signed-in person's password again needs.
    pub fn password_check(&self) -> PasswordCheck<'_> {
        PasswordCheck { pool: &self.pool, hasher: &self.hasher, limits: &self.throttle }
    }

    /// What setting a new password needs.
    pub fn password_setting(&self) -> PasswordSetting<'_> {
        PasswordSetting {
            pool: &self.pool,
            hasher: &self.hasher,
            policy: self.password_policy,
            mail: &self.mail,
        }
    }

    /// What queueing a notice needs.
    pub fn mailer(&self) -> Mailer<'_> {
        Mailer { pool: &self.pool, mail: &self.mail }
    }

    /// Registers the bundle for handlers and each piece that middleware and extractors read.
    pub fn register(state: &web::Data<Self>, cfg: &mut web::ServiceConfig) {
        cfg.app_data(state.clone())
            .app_data(state.sessions.clone())
            .app_data(state.cookies.clone())
            .app_data(state.csrf.clone())
            .app_data(state.public_url.clone())
            .app_data(state.cors_origins.clone())
            .app_data(state.trusted_proxies.clone());
    }
}
