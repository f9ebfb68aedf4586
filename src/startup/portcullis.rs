//! Portcullis, built and ready to be mounted into an actix-web app: the public entry points a
//! host app and the standalone server both use.

use std::net::TcpListener;

use actix_web::dev::Server;
use actix_web::web;
use anyhow::Context;
use diesel_migrations::EmbeddedMigrations;

use crate::config::{Origins, PublicUrl, Settings};
use crate::db::{self, Pool};
use crate::metrics::Metrics;
use crate::routes::{self, Mount};
use crate::state::AppState;

use super::background::Background;
use super::build;

/// Portcullis, built and ready to be mounted into an actix-web app.
///
/// [`Portcullis::bind`] opens the database (applying Portcullis's migrations), loads or
/// creates the signing keys and binds the listener; [`Portcullis::routes`] is what the app
/// factory mounts; [`Portcullis::run_until_stopped`] runs the server with Portcullis's
/// background work (mail delivery, the purge, key reloads, the metrics listener) beside it,
/// and stops that work when the server stops.
pub struct Portcullis {
    routes: Routes,
    settings: Settings,
    background: Background,
}

/// What an app factory mounts: every Portcullis route and the data its handlers, middleware
/// and extractors read. Cheap to clone (one per worker).
#[derive(Clone)]
pub struct Routes {
    state: web::Data<AppState>,
    metrics: web::Data<Metrics>,
    apps: Origins,
    mount: Mount,
}

impl Portcullis {
    /// Binds `settings.addr` (port 0 picks a free one) and builds Portcullis for it: without
    /// `PORTCULLIS_PUBLIC_URL`, the public URL is `http://` + the bound address. Opens the
    /// database and applies Portcullis's migrations, loads or creates the signing keys. Fails
    /// with the reason on any of it.
    pub fn bind(mut settings: Settings) -> anyhow::Result<(Self, TcpListener)> {
        let listener = TcpListener::bind(settings.addr)
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        let addr = listener.local_addr().context("cannot read the bound address")?;
        if settings.public_url.is_none() {
            settings.public_url =
                Some(PublicUrl::parse(&format!("http://{addr}")).map_err(anyhow::Error::msg)?);
        }
        settings.addr = addr;
        Ok((Self::build(settings)?, listener))
    }

    /// Builds Portcullis for settings whose public URL is known (`PORTCULLIS_PUBLIC_URL`, else
    /// `http://` + `settings.addr`); [`Portcullis::bind`] binds the listener too.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let (parts, background) = build::build(&settings)?;
        let routes = Routes {
            state: parts.state,
            metrics: parts.metrics,
            apps: settings.cors_origins.clone(),
            mount: Mount { home_page: true },
        };
        Ok(Self { routes, settings, background })
    }

    /// The settings Portcullis was built with (the bound address and the public URL filled
    /// in).
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// The database pool, shared with the app: its own tables live in the same database.
    pub fn pool(&self) -> &Pool {
        &self.routes.state.pool
    }

    /// Applies the app's own migrations, after Portcullis's and under the same PostgreSQL
    /// advisory lock (instances starting at once do not race). Diesel keeps one table of
    /// applied versions for both: a version equal to one of Portcullis's would be skipped
    /// silently, so it is refused here instead. Name yours after the date and time plus a
    /// suffix of your own (`2026-12-08-120000_notes`).
    pub fn migrate(&self, app: AppMigrations) -> anyhow::Result<()> {
        db::run_app_migrations(&self.routes.state.pool, app.sqlite, app.postgres)
    }

    /// What the app factory mounts (clone it into the `HttpServer::new` closure).
    pub fn routes(&self) -> Routes {
        self.routes.clone()
    }

    /// The port of the metrics listener, when `PORTCULLIS_METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.background.metrics_port()
    }

    /// Runs `server` with Portcullis's background work beside it — mail delivery, the purge,
    /// key-ring reloads, the metrics listener — until the server stops; then stops that work.
    pub async fn run_until_stopped(self, server: Server) -> std::io::Result<()> {
        self.background.run_beside(server).await
    }
}

/// An app's own migrations, one folder per backend (the DDL differs), as
/// `diesel_migrations::embed_migrations!` embeds them.
pub struct AppMigrations {
    /// For SQLite (`DATABASE_URL` a path or `sqlite://…`).
    pub sqlite: EmbeddedMigrations,
    /// For PostgreSQL (`postgres://…`).
    pub postgres: EmbeddedMigrations,
}

impl Routes {
    /// Without the landing page at `/`: the app has its own.
    #[must_use]
    pub fn without_home_page(mut self) -> Self {
        self.mount.home_page = false;
        self
    }

    /// Mounts every Portcullis route — the pages, `/api`, `/.well-known`, `/static`, the
    /// probes — each resource on its own, so the app's routes sit beside them whatever the
    /// order; and registers what Portcullis's handlers, middleware and extractors read
    /// (also the app's own routes under [`page_policy`](crate::page_policy) and
    /// [`api_policy`](crate::api_policy)).
    pub fn mount(&self, cfg: &mut web::ServiceConfig) {
        AppState::register(&self.state, cfg);
        cfg.app_data(self.metrics.clone());
        routes::mount(cfg, &self.apps, self.mount);
    }

    /// The standalone server's last routes: a JSON 404 for any other `/api` address and an
    /// error page for the rest. An app that wants them mounts them after its own routes.
    pub fn fallbacks(&self, cfg: &mut web::ServiceConfig) {
        routes::fallbacks(cfg, &self.apps);
    }
}
