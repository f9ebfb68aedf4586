//! The policy each scope wraps, as one middleware: record the route kind (which decides the
//! shape of answers), identify the caller (the guard), refuse a cross-site unsafe request
//! (the Origin check). One layer rather than three, because every request passes through it
//! (measured: BENCHMARKS.md).

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::csrf::middleware::origin_refusal;
use super::guard;
use crate::errors::RouteKind;

/// Wraps the `/api` scope.
pub async fn api(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    apply(RouteKind::Api, req, next).await
}

/// Wraps the page scope.
pub async fn pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    apply(RouteKind::Page, req, next).await
}

async fn apply(
    kind: RouteKind,
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    req.extensions_mut().insert(kind);
    let cookies = match guard::identify_request(&req).await {
        Ok(cookies) => cookies,
        Err(e) => return Ok(guard::store_failure(req, e)),
    };
    let res = match origin_refusal(&req) {
        Some(error) => req.error_response(error),
        // Handlers and extractors answer their errors as responses, so `?` drops nothing here
        // (cloning the request to keep it would break routing, which needs it uniquely owned).
        None => next.call(req).await?.map_into_boxed_body(),
    };
    guard::with_cookies(res, &cookies)
}
