//! What runs beside the HTTP server and stops with it: the outbox worker (mail delivery), the
//! background purge, key-ring reloads, and the metrics listener. Nothing starts until
//! [`Background::run_beside`] is given the server; everything stops when the server does.

use std::future::Future;
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use anyhow::Context;
use tokio::sync::Notify;

use crate::config::Settings;
use crate::db::{self, Pool};
use crate::mail::worker::Worker;
use crate::metrics::Metrics;
use crate::routes;
use crate::state::AppState;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// The background work of one Portcullis, not yet running.
pub struct Background {
    tasks: Vec<Task>,
    metrics: Option<(Server, u16)>,
}

impl Background {
    pub(super) fn new(
        _settings: &Settings,
        (pool, purge_every): (Pool, std::time::Duration),
        (worker, wake): (Worker, Arc<Notify>),
        reload: Option<impl Future<Output = ()> + Send + 'static>,
    ) -> anyhow::Result<Self> {
        let mut tasks: Vec<Task> =
            vec![Box::pin(db::purge::run_every(pool, purge_every)), Box::pin(worker.run(wake))];
        if let Some(reload) = reload {
            tasks.push(Box::pin(reload));
        }
        Ok(Self { tasks, metrics: None })
    }

    /// The second listener: `GET /metrics` and nothing else, on one worker (bound now, so its
    /// port is known; serving from [`Background::run_beside`]).
    pub(super) fn with_metrics_listener(
        mut self,
        addr: Option<SocketAddr>,
        state: web::Data<AppState>,
        metrics: web::Data<Metrics>,
    ) -> anyhow::Result<Self> {
        let Some(addr) = addr else { return Ok(self) };
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
        log::info!("metrics on http://{bound}/metrics");
        self.metrics = Some((server, bound.port()));
        Ok(self)
    }

    pub fn metrics_port(&self) -> Option<u16> {
        self.metrics.as_ref().map(|(_, port)| *port)
    }

    /// Runs `server` with the background work beside it; when the server stops (a signal, or
    /// its handle), the work stops too.
    pub async fn run_beside(self, server: Server) -> std::io::Result<()> {
        let mut running: Vec<_> = self.tasks.into_iter().map(tokio::spawn).collect();
        let metrics = self.metrics.map(|(metrics, _)| {
            let handle = metrics.handle();
            running.push(tokio::spawn(async move {
                if let Err(e) = metrics.await {
                    log::error!(error:% = e; "the metrics listener stopped");
                }
            }));
            handle
        });
        let result = server.await;
        if let Some(handle) = metrics {
            handle.stop(true).await;
        }
        for task in running {
            task.abort();
        }
        result
    }
}
