//! The JSON API: the same sessions as the pages, through cookies or `Authorization: Bearer`.

mod admin;
mod auth;
mod me;
mod sessions;
mod token;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/api/auth/csrf").get(auth::csrf))
        .service(web::resource("/api/auth/login").post(auth::login))
        .service(web::resource("/api/auth/logout").post(auth::logout))
        .service(web::resource("/api/auth/refresh").post(auth::refresh))
        .service(web::resource("/api/auth/revoke").post(auth::revoke))
        .service(web::resource("/api/sessions").get(sessions::list_sessions))
        .service(web::resource("/api/sessions/{id}").delete(sessions::delete_session))
        .service(web::resource("/api/auth/token").post(token::token))
        .service(web::resource("/api/me").get(me::me))
        .service(web::resource("/api/admin/users").get(admin::list_users));
}
