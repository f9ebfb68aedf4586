//! The JSON API: the same sessions as the pages, through cookies or `Authorization: Bearer`.

mod admin;
mod auth;
mod me;
mod sessions;
mod token;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::csrf::middleware as csrf;

/// Mounted under `/api`. Routes that take credentials or a token in the body and act on no
/// cookie session need only the Origin check; the rest act on the caller's session and, for
/// a cookie session, need the `X-CSRF-Token` header as well.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").post(auth::login))
        .service(web::resource("/auth/token").post(token::token))
        .service(web::resource("/auth/revoke").post(auth::revoke))
        .service(
            web::scope("")
                .wrap(from_fn(csrf::require_header))
                .service(web::resource("/auth/csrf").get(auth::csrf))
                .service(web::resource("/auth/logout").post(auth::logout))
                .service(web::resource("/auth/refresh").post(auth::refresh))
                .service(web::resource("/sessions").get(sessions::list_sessions))
                .service(web::resource("/sessions/{id}").delete(sessions::delete_session))
                .service(web::resource("/me").get(me::me))
                .service(web::resource("/admin/users").get(admin::list_users))
                .default_service(web::to(crate::errors::not_found)),
        );
}
