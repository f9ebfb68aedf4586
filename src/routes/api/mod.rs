//! The JSON API: the same sessions as the pages, through cookies or `Authorization: Bearer`.

mod account;
mod admin;
mod auth;
mod docs;
mod forward;
mod me;
pub mod openapi;
mod passkeys;
mod recovery;
mod register;
mod sessions;
mod token;
mod two_factor;

use actix_web::middleware::from_fn;
use actix_web::web;

use crate::auth::web::scope;

/// Mounted under `/api` (whose scope identifies the caller and applies the Origin check).
/// Routes that take credentials or a token in the body and act on no cookie session need
/// nothing more; the routes about the refresh cookie itself add the `X-CSRF-Token` check;
/// the rest act on the caller's session: the header check, and a refresh in place when an
/// unsafe request comes with only the refresh cookie.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").post(auth::login))
        .service(web::resource("/auth/mfa").post(two_factor::complete_mfa))
        .service(web::resource("/auth/passkey/options").post(passkeys::sign_in_options))
        .service(web::resource("/auth/passkey").post(passkeys::sign_in))
        .service(web::resource("/auth/register").post(register::register))
        .service(web::resource("/auth/token").post(token::token))
        .service(web::resource("/auth/revoke").post(auth::revoke))
        .service(web::resource("/auth/forgot-password").post(recovery::forgot_password))
        .service(web::resource("/auth/reset-password").post(recovery::reset_password))
        .service(web::resource("/auth/verify-email").post(recovery::verify_email))
        .service(web::resource("/openapi.json").get(openapi::document))
        .service(web::resource("/docs").get(openapi::docs))
        .service(web::resource("/auth/verify").wrap(from_fn(scope::forward_auth)).get(forward::verify))
        .service(web::resource("/auth/csrf").wrap(from_fn(scope::api_refresh_cookie)).get(auth::csrf))
        .service(web::resource("/auth/logout").wrap(from_fn(scope::api_refresh_cookie)).post(auth::logout))
        .service(web::resource("/auth/refresh").wrap(from_fn(scope::api_refresh_cookie)).post(auth::refresh))
        .service(
            web::scope("")
                .wrap(from_fn(scope::api_session))
                .service(web::resource("/sessions").get(sessions::list_sessions))
                .service(web::resource("/sessions/revoke-others").post(sessions::revoke_other_sessions))
                .service(web::resource("/sessions/{id}").delete(sessions::delete_session))
                .service(web::resource("/me").get(me::me))
                .service(web::resource("/account").delete(account::delete_account))
                .service(web::resource("/account/email").post(account::change_email))
                .service(web::resource("/account/password").post(account::change_password))
                .service(web::resource("/account/events").get(account::list_events))
                .service(web::resource("/account/verification").post(recovery::send_verification))
                .service(web::resource("/account/2fa").get(two_factor::factors))
                .service(
                    web::resource("/account/2fa/totp")
                        .post(two_factor::start_totp)
                        .delete(two_factor::disable_totp),
                )
                .service(web::resource("/account/2fa/totp/confirm").post(two_factor::confirm_totp))
                .service(web::resource("/account/2fa/recovery-codes").post(two_factor::renew_recovery_codes))
                .service(web::resource("/account/passkeys").get(passkeys::list).post(passkeys::add))
                .service(web::resource("/account/passkeys/options").post(passkeys::registration_options))
                .service(web::resource("/account/passkeys/{id}").delete(passkeys::remove))
                .service(web::resource("/admin/users").get(admin::list_users))
                .service(web::resource("/admin/users/{id}").delete(admin::delete_user))
                .service(web::resource("/admin/users/{id}/disable").post(admin::disable_user))
                .service(web::resource("/admin/users/{id}/enable").post(admin::enable_user))
                .service(web::resource("/admin/users/{id}/role").put(admin::set_role))
                .service(web::resource("/admin/users/{id}/sessions").delete(admin::end_sessions))
                .service(web::resource("/admin/users/{id}/events").get(admin::user_events))
                .service(web::resource("/admin/users/{id}/unlock").post(admin::unlock))
                .service(web::resource("/admin/users/{id}/2fa").delete(two_factor::reset_user_factors))
                .default_service(web::to(crate::errors::not_found)),
        );
}
