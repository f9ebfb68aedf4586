//! The JSON API: the same sessions as the pages, through cookies or `Authorization: Bearer`.

mod auth;
mod me;
mod token;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/auth/csrf").get(auth::csrf))
        .service(web::resource("/api/auth/login").post(auth::login))
        .service(web::resource("/api/auth/logout").post(auth::logout))
        .service(web::resource("/api/auth/token").post(token::token))
        .service(web::resource("/api/me").get(me::me));
}
