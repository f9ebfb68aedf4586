//! What Portcullis puts around every answer of the app, as one layer (a host app wraps its
//! whole `App` with it, after mounting Portcullis): the request id, the duration histogram and
//! the request log line (outermost in effect, so they see the final status); the security
//! headers; and the shape of actix's own errors (405, 413, body-parsing failures) for the route
//! they happened on. One layer rather than three, because every request passes it.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::headers;
use super::observe::Observation;
use crate::errors;

/// The app-wide layer: `App::new().wrap(actix_web::middleware::from_fn(app_layer))`.
pub async fn app_layer(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let observation = Observation::start(&req);
    let hsts = headers::hsts(&req);
    // (The request cannot be cloned to keep: routing needs it uniquely owned.)
    let result = next.call(req).await.map(|res| {
        let mut res = errors::shape_bare_error(res);
        headers::secure(res.headers_mut(), hsts);
        res
    });
    observation.finish(result)
}
