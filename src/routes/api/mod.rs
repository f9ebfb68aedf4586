//! The JSON API: the same sessions as the pages, through cookies or `Authorization: Bearer`.

mod auth;
mod me;
mod token;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/auth/csrf", web::get().to(auth::csrf))
        .route("/api/auth/login", web::post().to(auth::login))
        .route("/api/auth/logout", web::post().to(auth::logout))
        .route("/api/auth/token", web::post().to(token::token))
        .route("/api/me", web::get().to(me::me));
}
