//! Building the application: settings → pool → keys → state → listening server.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::middleware::{Logger, from_fn};
use actix_web::{App, HttpServer, web};
use anyhow::Context;

use crate::auth::cookies::CookiePolicy;
use crate::auth::csrf::CsrfKey;
use crate::auth::keys::MasterKey;
use crate::auth::password::Hasher;
use crate::auth::tokens::KeyRing;
use crate::config::{PublicUrl, Settings};
use crate::db::{self, Pool};
use crate::{errors, routes};

/// Everything a request handler may need, built once at startup.
pub struct AppState {
    pub pool: Pool,
    pub settings: Settings,
    pub public_url: PublicUrl,
    pub keys: KeyRing,
    pub csrf: CsrfKey,
    pub cookies: CookiePolicy,
    pub hasher: Hasher,
}

pub struct Application {
    port: u16,
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
        let master = MasterKey::load(&settings)?;
        let state = web::Data::new(AppState {
            pool,
            keys: KeyRing::new(
                &master,
                public_url.as_str(),
                crate::auth::sessions::secs(settings.clock_leeway),
            ),
            csrf: CsrfKey::new(master.derive("portcullis csrf v1")),
            cookies: CookiePolicy::new(public_url.is_https()),
            hasher: Hasher::new()?,
            public_url,
            settings,
        });
        let server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(from_fn(errors::shape_bare_errors))
                .wrap(from_fn(routes::headers::security_headers))
                .wrap(Logger::new(r#"%a "%r" %s %b %Dms"#))
                .configure(routes::configure)
        })
        .listen(listener)
        .context("cannot start the HTTP server")?
        .run();
        log::info!("listening on http://{addr}");
        Ok(Self { port: addr.port(), server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
