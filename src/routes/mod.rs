//! The route table: every route Portcullis serves, used by the standalone server, by a host
//! app that mounts Portcullis, and by the tests alike.

pub mod api;
pub mod assets;
pub mod device;
pub mod discovery;
pub mod format;
pub mod headers;
pub mod health;
pub mod layer;
pub mod observe;
pub mod pages;
pub mod resource;
pub mod shell;
pub mod view;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::web::scope;
use crate::config::Origins;
use crate::errors;
use resource::{cors, limited};

/// What to mount besides the routes every deployment has.
#[derive(Debug, Clone, Copy)]
pub struct Mount {
    /// The landing page at `/` (a host app usually has its own).
    pub home_page: bool,
}

/// Every route, each resource on its own — no catch-all, so a host's routes (`/`, `/notes`,
/// `/api/notes`) sit beside them whatever the order. Each resource wraps its own policy
/// (`auth::web::scope`): the route kind (which decides the shape of errors and the CSRF
/// rules), the guard that identifies the caller, the Origin check, and for pages the form
/// check and the refresh in place. Probes and static files wrap nothing: no identity, no
/// cookies, no CSRF.
pub fn mount(cfg: &mut web::ServiceConfig, apps: &Origins, mount: Mount) {
    cfg.service(web::resource("/healthz").get(health::healthz))
        .service(web::resource("/readyz").get(health::readyz))
        .service(web::resource("/.well-known/jwks.json").get(discovery::jwks).wrap(resource::open_cors()))
        .service(
            web::resource("/.well-known/oauth-authorization-server")
                .get(discovery::metadata)
                .wrap(resource::open_cors()),
        )
        .service(
            web::resource("/.well-known/openid-configuration")
                .get(discovery::openid_configuration)
                .wrap(resource::open_cors()),
        )
        .configure(assets::configure)
        .configure(|cfg| api::configure(cfg, apps))
        .configure(|cfg| pages::configure(cfg, mount.home_page));
}

/// What only the standalone server adds, after everything: a JSON 404 for any other `/api`
/// address (in the API's shape, decided by the route it matched), and an error page for the
/// rest.
pub fn fallbacks(cfg: &mut web::ServiceConfig, apps: &Origins) {
    cfg.service(
        limited(web::resource("/api/{rest:.*}"))
            .wrap(from_fn(scope::api))
            .wrap(cors(apps))
            .to(errors::not_found),
    )
    .default_service(web::to(errors::not_found));
}
