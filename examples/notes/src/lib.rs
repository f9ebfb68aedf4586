//! Notes: an example app on Portcullis, using only its public API. Everyone keeps their own
//! notes; Portcullis does the rest — sign-in, registration, the account pages, the JSON API
//! for the same session, Bearer tokens — mounted into this app's `App`, and guards the app's
//! own pages and API with the same policies and extractors.
//!
//! - `GET /` — public; `GET /notes`, `POST /notes` — the signed-in person's notes (a form);
//! - `GET /api/notes`, `POST /api/notes` — the same as JSON, by cookie or Bearer token;
//! - `GET /api/app/notes` — the same list for an app the person signed in to through
//!   Portcullis (its access token, `portcullis::AppToken`);
//! - every Portcullis page and API route at its usual path.

mod api;
mod pages;
mod store;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use diesel_migrations::{EmbeddedMigrations, embed_migrations};
use portcullis::database::Pool;
use portcullis::{AppMigrations, Portcullis, Settings, api_policy, page_policy};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// The notes app, built and listening.
pub struct Notes {
    addr: std::net::SocketAddr,
    portcullis: Portcullis,
    server: Server,
}

impl Notes {
    /// Binds `settings.addr` (port 0 picks a free one), opens the database — Portcullis's
    /// tables, then the `notes` table — and builds the server.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let (portcullis, listener) = Portcullis::bind(settings)?;
        portcullis.migrate(AppMigrations { sqlite: SQLITE, postgres: POSTGRES })?;
        let routes = portcullis.routes().without_home_page();
        let pool = web::Data::new(portcullis.pool().clone());
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(portcullis::app_layer))
                .configure(|cfg| routes.mount(cfg))
                .app_data(pool.clone())
                .configure(configure)
        })
        .listen(listener)
        .context("cannot start the HTTP server")?
        .run();
        Ok(Self { addr: portcullis.settings().addr, portcullis, server })
    }

    /// The address it listens on.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// Serves until the process is told to stop, with Portcullis's background work beside it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.portcullis.run_until_stopped(self.server).await
    }
}

/// The app's own routes, each behind Portcullis's page or API policy.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").wrap(from_fn(page_policy)).get(pages::home))
        .service(web::resource("/notes").wrap(from_fn(page_policy)).get(pages::list).post(pages::add))
        .service(web::resource("/api/notes").wrap(from_fn(api_policy)).get(api::list).post(api::add))
        .service(web::resource("/api/app/notes").wrap(from_fn(api_policy)).get(api::list_for_app));
}

/// Builds and serves the app until it is told to stop.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let notes = Notes::build(settings)?;
    log::info!("listening on http://{}", notes.addr());
    notes.run_until_stopped().await.context("the server stopped with an error")
}

/// What handlers share: the database both Portcullis and the app use.
type Db = web::Data<Pool>;
