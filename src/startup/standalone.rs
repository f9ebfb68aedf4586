//! The standalone server the `portcullis` binary runs: Portcullis alone in an app, built on the
//! same public entry points a host app uses (`Portcullis::bind`, `Routes::mount`,
//! `app_layer`, `Portcullis::run_until_stopped`) — no private shortcut.

use actix_web::middleware::from_fn;
use actix_web::{App, HttpServer};
use anyhow::Context;

use super::portcullis::Portcullis;
use crate::config::Settings;
use crate::routes::layer::app_layer;

/// Portcullis serving on its own: every route, the landing page, and the fallbacks.
pub struct Application {
    port: u16,
    portcullis: Portcullis,
    server: actix_web::dev::Server,
}

impl Application {
    /// Binds the listener (port 0 picks a free one), opens the database and applies
    /// migrations, loads or creates the signing key. Fails with the reason on any of it.
    pub fn build(settings: Settings) -> anyhow::Result<Self> {
        let (portcullis, listener) = Portcullis::bind(settings)?;
        let routes = portcullis.routes();
        let server = HttpServer::new(move || {
            App::new()
                .wrap(from_fn(app_layer))
                .configure(|cfg| routes.mount(cfg))
                .configure(|cfg| routes.fallbacks(cfg))
        })
        .listen(listener)
        .context("cannot start the HTTP server")?
        .run();
        let addr = portcullis.settings().addr;
        log::info!("listening on http://{addr}");
        Ok(Self { port: addr.port(), portcullis, server })
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The metrics listener's port, when `PORTCULLIS_METRICS_ADDR` is set.
    pub fn metrics_port(&self) -> Option<u16> {
        self.portcullis.metrics_port()
    }

    /// Serves until the process is told to stop, with the background work beside it.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.portcullis.run_until_stopped(self.server).await
    }
}
