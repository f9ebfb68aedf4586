//! What an operator sees of each request: a request id (sent back as `X-Request-Id`), its time
//! in the duration histogram, and one log line — method, route pattern, status, duration and
//! id, never the query string (links in mails carry tokens there) and never the path itself
//! (its ids would make every line unique). And `/metrics`, served on the metrics listener only.

use std::time::Instant;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpResponse, web};

use crate::auth::tokens::random_id;
use crate::metrics::Metrics;
use crate::state::AppState;

pub const REQUEST_ID: &str = "x-request-id";

/// A request being watched: started before anything else runs, finished with its final answer.
pub struct Observation {
    started: Instant,
    id: String,
    metrics: Option<web::Data<Metrics>>,
    method: &'static str,
}

impl Observation {
    pub fn start(req: &ServiceRequest) -> Self {
        Self {
            started: Instant::now(),
            id: request_id(req),
            metrics: req.app_data::<web::Data<Metrics>>().cloned(),
            method: crate::metrics::method_label(req.method().as_str()),
        }
    }

    /// Records the answer (histogram, log line) and sends its request id back.
    pub fn finish(
        self,
        result: Result<ServiceResponse<BoxBody>, actix_web::Error>,
    ) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
        let (route, status) = match &result {
            Ok(res) => {
                (res.request().match_pattern().unwrap_or_else(|| "unmatched".to_owned()), res.status())
            }
            // A middleware gave up with an error; actix turns it into its answer further out.
            Err(e) => ("unmatched".to_owned(), e.as_response_error().status_code()),
        };
        let elapsed = self.started.elapsed();
        if let Some(metrics) = &self.metrics {
            metrics.request(self.method, &route, status.as_u16(), elapsed.as_secs_f64());
        }
        let duration_ms = (elapsed.as_secs_f64() * 1000.0 * 100.0).round() / 100.0;
        let (status, method) = (status.as_u16(), self.method);
        log::info!(
            target: "portcullis::request",
            request_id = self.id.as_str(), method = method, route = route.as_str(), status = status,
            duration_ms = duration_ms;
            "{method} {route} {status} {duration_ms}ms"
        );
        let mut res = result?;
        if let Ok(value) = HeaderValue::from_str(&self.id) {
            res.headers_mut().insert(HeaderName::from_static(REQUEST_ID), value);
        }
        Ok(res)
    }
}

/// The proxy's request id when it sent a plausible one (so that its log and ours line up),
/// else a new one. Anything else a client sends there is ignored: it goes into log lines.
fn request_id(req: &ServiceRequest) -> String {
    req.headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| (8..=64).contains(&v.len()))
        .filter(|v| v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'))
        .map(str::to_owned)
        .unwrap_or_else(random_id)
}

/// `GET /metrics` on `PORTCULLIS_METRICS_ADDR`: the OpenMetrics text, with the gauges read now.
pub async fn metrics(state: web::Data<AppState>, metrics: web::Data<Metrics>) -> HttpResponse {
    let pool = state.pool.state();
    let in_use = pool.connections.saturating_sub(pool.idle_connections);
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render(in_use, state.hasher.queue_depth()))
}
