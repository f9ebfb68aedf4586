//! Settings → pool → keys → the pieces handlers share, each registered as its own
//! `web::Data` (`AppState::register`), and the background work that goes with them.

use std::sync::Arc;

use actix_web::web;

use super::background::Background;
use super::keys::{load_keys, reload_keys_every};
use crate::auth::client::TrustedProxies;
use crate::auth::factors::totp::TotpSealer;
use crate::auth::factors::two_factor::TwoFactor;
use crate::auth::factors::webauthn::Passkeys;
use crate::auth::password::Hasher;
use crate::auth::session::device::DeviceKey;
use crate::auth::session::lifetimes::Lifetimes;
use crate::auth::session::sign_in::Sessions;
use crate::auth::throttle::ThrottleLimits;
use crate::auth::upstream::discovery::Providers;
use crate::auth::upstream::providers::ProviderSealer;
use crate::auth::web::cookies::CookiePolicy;
use crate::auth::web::csrf::CsrfKey;
use crate::config::{Registration, Settings};
use crate::db;
use crate::db::guard_reads::GuardReads;
use crate::domain::PasswordPolicy;
use crate::mail::Mail;
use crate::mail::transport::Transport;
use crate::mail::worker::Worker;
use crate::metrics::Metrics;
use crate::state::AppState;

/// Reader threads for the guard's look-ups on PostgreSQL: one waits on the database while the
/// other gathers the next batch. (Measured: one thread or four gave a far worse p99 under a
/// sign-in flood than two, and so did giving them a pool of their own; BENCHMARKS.md.)
const GUARD_READERS: usize = 2;

/// What the routes share.
pub struct Parts {
    pub state: web::Data<AppState>,
    pub metrics: web::Data<Metrics>,
}

/// Opens the database (applying migrations), loads or creates the keys, and builds every
/// piece the handlers share; nothing runs yet.
pub fn build(settings: &Settings) -> anyhow::Result<(Parts, Background)> {
    let public_url = settings.effective_public_url().map_err(anyhow::Error::msg)?;
    let pool = db::connect(&settings.database_url, settings.db_pool, settings.db_timeout)?;
    let (master, keys) = load_keys(settings, &public_url)?;
    let keys = Arc::new(keys);
    let mail = Mail::new(settings, &public_url, &master)?;
    let metrics = Arc::new(Metrics::new(settings.metrics_addr.is_some()));
    let sessions = Sessions {
        pool: pool.clone(),
        keys: keys.clone(),
        lifetimes: Lifetimes::from_settings(settings),
        devices: Arc::new(DeviceKey::new(master.derive("portcullis device cookie v1"))),
        require_verified_email: settings.registration == Registration::Verify,
        mail: mail.clone(),
        metrics: metrics.clone(),
        guard_reads: match db::Target::parse(&settings.database_url).backend {
            db::Backend::Postgres => Some(GuardReads::start(pool.clone(), GUARD_READERS)?),
            db::Backend::Sqlite => None,
        },
    };
    let worker = Worker {
        pool: pool.clone(),
        transport: Transport::new(settings.smtp_url.as_ref())?,
        from: mail.from.clone(),
        sealer: mail.sealer.clone(),
        retry_base: settings.mail_retry,
        metrics: metrics.clone(),
    };
    let two_factor = TwoFactor {
        sealer: TotpSealer::new(master.derive("portcullis totp secret v1")),
        issuer: public_url.mail_host(),
        passkeys: Passkeys::for_origin(&public_url),
    };
    let wake = mail.wake.clone();
    let state = web::Data::new(AppState {
        pool: pool.clone(),
        sessions: web::Data::new(sessions),
        hasher: Hasher::new(settings.hash_queue)?,
        cookies: web::Data::new(CookiePolicy::new(public_url.is_https())),
        csrf: web::Data::new(CsrfKey::new(master.derive("portcullis csrf v1"))),
        trusted_proxies: web::Data::new(TrustedProxies(settings.trusted_proxies.clone())),
        throttle: ThrottleLimits::from_settings(settings),
        password_policy: PasswordPolicy::from_settings(settings),
        registration: settings.registration,
        mail,
        reset_ttl: settings.reset_ttl,
        public_url: web::Data::new(public_url),
        cors_origins: web::Data::new(settings.cors_origins.clone()),
        two_factor: web::Data::new(two_factor),
        upstream: std::sync::Arc::new(ProviderSealer::new(&master)),
        providers: std::sync::Arc::new(Providers::new()?),
    });
    let metrics = web::Data::from(metrics);
    let reload = settings.jwt_secret.is_none().then(|| reload_keys_every(keys, settings.key_reload));
    let background = Background::new(settings, (pool, settings.purge_every), (worker, wake), reload)?
        .with_metrics_listener(settings.metrics_addr, state.clone(), metrics.clone())?;
    Ok((Parts { state, metrics }, background))
}
