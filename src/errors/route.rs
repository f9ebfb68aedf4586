//! Which shape an answer takes, decided by the scope the router matched.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, ResponseError};

use super::api::ApiError;
use super::page::PageError;

/// Which kind of route a request matched: it decides the shape of every answer and which
/// CSRF rules apply. Set by the scope the router chose (see `routes::configure`), never
/// guessed from the raw path: `/%61pi/…` is routed as `/api/…` and must be treated as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    Api,
    Page,
}

impl RouteKind {
    /// The kind the matched scope recorded; a request outside every scope (static files,
    /// probes) is answered like a page.
    pub fn of(req: &HttpRequest) -> Self {
        req.extensions().get::<RouteKind>().copied().unwrap_or(RouteKind::Page)
    }
}

/// Whether a request is answered in JSON (the API) rather than HTML (the pages).
pub fn wants_json(req: &HttpRequest) -> bool {
    RouteKind::of(req) == RouteKind::Api
}

/// Turns an error into the right shape for the path it happened on.
pub fn for_request(req: &HttpRequest, e: ApiError) -> actix_web::Error {
    if wants_json(req) { e.into() } else { PageError::from(e).into() }
}

/// The answer for an address no route matched, in the shape of the scope it fell into.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if wants_json(&req) {
        ApiError::NotFound.error_response()
    } else {
        PageError::not_found().error_response()
    }
}
