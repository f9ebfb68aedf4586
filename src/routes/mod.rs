//! The single route table, used by the server and the tests alike.

pub mod api;
pub mod assets;
pub mod device;
pub mod discovery;
pub mod format;
pub mod headers;
pub mod health;
pub mod observe;
pub mod pages;
pub mod view;

use actix_web::http::header;
use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::web::scope;
use crate::config::Origins;
use actix_cors::Cors;

use crate::errors;

/// Bodies Portcullis accepts are small forms and JSON objects (SPEC hardening: 16 KiB).
pub const BODY_LIMIT: usize = 16 * 1024;

/// Each scope wraps its own policy (`auth::scope`): the route kind (which decides the shape of
/// errors and the CSRF rules), the guard that identifies the caller, the Origin check. Probes and static files sit outside: no identity, no cookies, no CSRF.
pub fn configure(cfg: &mut web::ServiceConfig, apps: &Origins) {
    cfg.app_data(web::JsonConfig::default().limit(BODY_LIMIT).error_handler(errors::json_error))
        .app_data(web::FormConfig::default().limit(BODY_LIMIT).error_handler(errors::form_error))
        .app_data(web::PayloadConfig::default().limit(BODY_LIMIT))
        .service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .service(web::resource("/.well-known/jwks.json").get(discovery::jwks))
        .service(web::resource("/.well-known/oauth-authorization-server").get(discovery::metadata))
        .service(web::resource("/static/{path:.+}").get(assets::asset))
        .service(web::scope("/api").wrap(from_fn(scope::api)).wrap(cors(apps)).configure(api::configure))
        .service(
            web::scope("")
                .wrap(from_fn(scope::pages))
                .configure(pages::configure)
                .default_service(web::to(errors::not_found)),
        );
}

/// CORS for this deployment's own apps on other origins (`PORTCULLIS_CORS_ORIGINS`): their
/// scripts may call `/api` with credentials; the preflight is cached for ten minutes. Any
/// other origin gets no CORS headers (the browser then keeps the answer from its script) and
/// its unsafe requests still meet the Origin check. Outermost on the scope, so a preflight
/// never reaches the guard.
fn cors(apps: &Origins) -> Cors {
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
