//! What each Portcullis resource gets besides its policy: the body limits and body-parser
//! error shapes, and CORS for this deployment's own apps on `/api`.

use actix_cors::Cors;
use actix_web::http::header;
use actix_web::{Resource, web};

use crate::config::Origins;
use crate::errors;

/// Bodies Portcullis accepts are small forms and JSON objects (SPEC hardening: 16 KiB).
pub const BODY_LIMIT: usize = 16 * 1024;

/// A resource with Portcullis's body limits and the error shapes of its body parsers (set on
/// each resource, not on the app: a host's own routes keep their own limits).
pub fn limited(resource: Resource) -> Resource {
    resource
        .app_data(web::JsonConfig::default().limit(BODY_LIMIT).error_handler(errors::json_error))
        .app_data(web::FormConfig::default().limit(BODY_LIMIT).error_handler(errors::form_error))
        .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
}

/// CORS for this deployment's own apps on other origins (`PORTCULLIS_CORS_ORIGINS`): their
/// scripts may call `/api` with credentials; the preflight is cached for ten minutes. Any
/// other origin gets no CORS headers (the browser then keeps the answer from its script) and
/// its unsafe requests still meet the Origin check. Outermost on each API resource, so a
/// preflight never reaches the guard.
pub fn cors(apps: &Origins) -> Cors {
    let apps = apps.clone();
    Cors::default()
        .allowed_origin_fn(move |origin, _| origin.to_str().is_ok_and(|o| apps.contains(o)))
        .allowed_methods(["GET", "POST", "PUT", "DELETE"])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            header::HeaderName::from_static("x-csrf-token"),
        ])
        .expose_headers([header::WWW_AUTHENTICATE, header::RETRY_AFTER])
        .supports_credentials()
        .block_on_origin_mismatch(false)
        .max_age(600)
}

/// CORS for the endpoints an app on any site calls without credentials (SPEC §11: discovery,
/// JWKS, token, userinfo, revocation): every origin, no cookies, so nothing of a person's
/// session is reachable through it.
pub fn open_cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .send_wildcard()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
        .expose_headers([header::WWW_AUTHENTICATE, header::RETRY_AFTER])
        .block_on_origin_mismatch(false)
        .max_age(600)
}
