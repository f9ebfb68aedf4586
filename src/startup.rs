//! Building the application: settings → pool → keys → the pieces handlers share → a listening server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use std::sync::Arc;

use crate::auth::client::TrustedProxies;
use crate::auth::factors::totp::TotpSealer;
use crate::auth::factors::two_factor::TwoFactor;
use crate::auth::factors::webauthn::Passkeys;
use crate::auth::password::Hasher;
use crate::auth::session::device::DeviceKey;
use crate::auth::session::lifetimes::{Lifetimes, secs};
use crate::auth::session::sign_in::Sessions;
use crate::auth::throttle::ThrottleLimits;
use crate::auth::tokens::KeyRing;
use crate::auth::web::cookies::CookiePolicy;
use crate::auth::web::csrf::CsrfKey;
use crate::config::{PublicUrl, Registration, Settings};
use crate::db;
use crate::db::guard_reads::GuardReads;
use crate::domain::PasswordPolicy;
use crate::keys::{KeyFile, MasterKey};
use crate::mail::Mail;
use crate::mail::transport::Transport;
use crate::mail::worker::Worker;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::{errors, routes};

/// Reader threads for the guard's look-ups on PostgreSQL: one waits on the database while the
/// other gathers the next batch. (Measured: one thread or four gave a far worse p99 under a
/// sign-in flood than two, and so did giving them a pool of their own; BENCHMARKS.md.)
const GUARD_READERS: usize = 2;

pub struct Application {
    port: u16,
    metrics_port: Option<u16>,
    server: Server,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), opens the database and applies
    /// migrations, loads or creates the signing key. Fails with the reason on any of it.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(settings.addr)
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let addr = listener.local_addr().context("cannot read the bound address")?;
        let public_url = match &settings.public_url {
            Some(url) => url.clone(),
            None => PublicUrl::parse(&format!("http://{addr}")).map_err(anyhow::Error::msg)?,
        };
        let pool = db::connect(&settings.database_url, settings.db_pool, settings.db_timeout)?;
        let (master, keys) = load_keys(&settings, &public_url)?;
        let keys = Arc::new(keys);
        if settings.jwt_secret.is_none() {
            tokio::spawn(reload_keys_every(keys.clone(), settings.key_reload));
        }
        let mail = Mail::new(&settings, &public_url, &master)?;
        let metrics = Arc::new(Metrics::new(settings.metrics_addr.is_some()));
        let sessions = Sessions {
            pool: pool.clone(),
            keys,
            lifetimes: Lifetimes::from_settings(&settings),
            devices: Arc::new(DeviceKey::new(master.derive("portcullis device cookie v1"))),
            require_verified_email: settings.registration == Registration::Verify,
            mail: mail.clone(),
            metrics: metrics.clone(),
            guard_reads: match db::Target::parse(&settings.database_url).backend {
                db::Backend::Postgres => Some(GuardReads::start(pool.clone(), GUARD_READERS)?),
                db::Backend::Sqlite => None,
            },
        };
        tokio::spawn(db::purge::run_every(pool.clone(), settings.purge_every));
        let worker = Worker {
            pool: pool.clone(),
            transport: Transport::new(settings.smtp_url.as_ref())?,
            from: mail.from.clone(),
            sealer: mail.sealer.clone(),
            retry_base: settings.mail_retry,
            metrics: metrics.clone(),
        };
        tokio::spawn(worker.run(mail.wake.clone()));
        let two_factor = TwoFactor {
            sealer: TotpSealer::new(master.derive("portcullis totp secret v1")),
            issuer: public_url.mail_host(),
            passkeys: Passkeys::for_origin(&public_url),
        };
        let state = web::Data::new(AppState {
            pool,
            sessions: web::Data::new(sessions),
            hasher: Hasher::new(settings.hash_queue)?,
            cookies: web::Data::new(CookiePolicy::new(public_url.is_https())),
            csrf: web::Data::new(CsrfKey::new(master.derive("portcullis csrf v1"))),
            trusted_proxies: web::Data::new(TrustedProxies(settings.trusted_proxies.clone())),
            throttle: ThrottleLimits::from_settings(&settings),
            password_policy: PasswordPolicy::from_settings(&settings),
            registration: settings.registration,
            mail,
            reset_ttl: settings.reset_ttl,
            public_url: web::Data::new(public_url),
            cors_origins: web::Data::new(settings.cors_origins.clone()),
            two_factor: web::Data::new(two_factor),
        });
        let metrics = web::Data::from(metrics);
        let metrics_port = match settings.metrics_addr {
            Some(addr) => Some(serve_metrics(addr, state.clone(), metrics.clone())?),
            None => None,
        };
        let apps = settings.cors_origins.clone();
        let server = HttpServer::new(move || {
            App::new()
                .configure(|cfg| AppState::register(&state, cfg))
                .app_data(metrics.clone())
                .wrap(from_fn(errors::shape_bare_errors))
                .wrap(from_fn(routes::headers::security_headers))
                .wrap(from_fn(routes::observe::observe))
                .configure(|cfg| routes::configure(cfg, &apps))
        })
        .listen(listener)
        .context("cannot start the HTTP server")?
        .run();
        log::info!("listening on http://{addr}");
        Ok(Self { port: addr.port(), metrics_port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `PORTCULLIS_METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics_port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

/// The second listener: `GET /metrics` and nothing else, on one worker. It runs until the
/// process ends.
fn serve_metrics(
    addr: std::net::SocketAddr,
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
) -> anyhow::Result<u16> {
    let listener = TcpListener::bind(addr)
        .with_context(|| format!("cannot listen on {addr} (PORTCULLIS_METRICS_ADDR)"))?;
    let bound = listener.local_addr().context("cannot read the metrics address")?;
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(metrics.clone())
            .service(web::resource("/metrics").get(routes::observe::metrics))
    })
    .workers(1)
    .listen(listener)
    .context("cannot start the metrics listener")?
    .run();
    tokio::spawn(server);
    log::info!("metrics on http://{bound}/metrics");
    Ok(bound.port())
}

/// The server secret and the key ring: `PORTCULLIS_JWT_SECRET` (HS256), or the key file,
/// created or upgraded on first start.
fn load_keys(settings: &Settings, public_url: &PublicUrl) -> anyhow::Result<(MasterKey, KeyRing)> {
    let leeway = secs(settings.clock_leeway);
    if let Some(secret) = &settings.jwt_secret {
        let master = MasterKey::from_secret(secret);
        let ring = KeyRing::new(&master, public_url.as_str(), leeway);
        return Ok((master, ring));
    }
    let overlap = settings.key_overlap_secs();
    let path = &settings.key_file;
    let file = KeyFile::open(path, settings.jwt_alg, db::now(), overlap, true)?;
    let ring = KeyRing::from_file(&file, path, overlap, public_url.as_str(), leeway)?;
    Ok((file.master, ring))
}

/// The server secret alone (for the command line: it seals the mail it queues as the server
/// does): `PORTCULLIS_JWT_SECRET`, or the key file's, which is created on first use.
pub fn server_secret(settings: &Settings) -> anyhow::Result<MasterKey> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(MasterKey::from_secret(secret));
    }
    let overlap = settings.key_overlap_secs();
    Ok(KeyFile::open(&settings.key_file, settings.jwt_alg, db::now(), overlap, false)?.master)
}

/// Rereads the key file every `every` (SPEC §6: at least every 60 s), off the workers.
async fn reload_keys_every(keys: Arc<KeyRing>, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tick.tick().await;
    loop {
        tick.tick().await;
        let keys = keys.clone();
        match web::block(move || keys.reload()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => log::warn!("{e:#}"),
            Err(e) => log::warn!("cannot reread the key file: {e}"),
        }
    }
}
