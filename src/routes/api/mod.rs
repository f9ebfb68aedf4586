//! The JSON API: the same sessions as the pages, through cookies or `Authorization: Bearer`.

mod account;
mod admin;
mod admin_clients;
mod apps;
mod auth;
mod docs;
mod forward;
mod me;
mod oauth;
pub mod openapi;
mod passkeys;
mod recovery;
mod register;
mod sessions;
mod token;
mod token_answer;
mod two_factor;

use actix_web::web;

use crate::config::Origins;

/// An API resource at `/api` + `$path`: Portcullis's body limits, the API policy
/// (`auth::web::scope::api`: identify, Origin check), then `$inner` where the route acts on a
/// cookie session, and CORS for the listed app origins outermost.
macro_rules! api {
    ($apps:expr, $path:literal) => {
        crate::routes::resource::limited(actix_web::web::resource(concat!("/api", $path)))
            .wrap(actix_web::middleware::from_fn(crate::auth::web::scope::api))
            .wrap(crate::routes::resource::cors($apps))
    };
    ($apps:expr, $path:literal, $inner:path) => {
        crate::routes::resource::limited(actix_web::web::resource(concat!("/api", $path)))
            .wrap(actix_web::middleware::from_fn($inner))
            .wrap(actix_web::middleware::from_fn(crate::auth::web::scope::api))
            .wrap(crate::routes::resource::cors($apps))
    };
}

/// An `/api` resource for apps on any site (SPEC §11): body limits, the open policy (no
/// cookies read, no Origin check) and CORS for every origin without credentials.
macro_rules! open_api {
    ($path:literal) => {
        crate::routes::resource::limited(actix_web::web::resource(concat!("/api", $path)))
            .wrap(actix_web::middleware::from_fn(crate::auth::web::scope::open))
            .wrap(crate::routes::resource::open_cors())
    };
}

/// Every `/api` route. Routes that take credentials or a token in the body and act on no
/// cookie session need nothing more than the API policy; the routes about the refresh cookie
/// itself add the `X-CSRF-Token` check (`api_refresh_cookie`); the rest act on the caller's
/// session (`api_session`: the header check, and a refresh in place when an unsafe request
/// comes with only the refresh cookie).
pub fn configure(cfg: &mut web::ServiceConfig, apps: &Origins) {
    use crate::auth::web::scope::{
        api_refresh_cookie as refresh_cookie, api_session as session, forward_auth,
    };
    cfg.service(api!(apps, "/auth/login").post(auth::login))
        .service(api!(apps, "/auth/mfa").post(two_factor::complete_mfa))
        .service(api!(apps, "/auth/passkey/options").post(passkeys::sign_in_options))
        .service(api!(apps, "/auth/passkey").post(passkeys::sign_in))
        .service(api!(apps, "/auth/register").post(register::register))
        .service(open_api!("/auth/token").post(token::token))
        .service(open_api!("/auth/revoke").post(auth::revoke))
        .service(open_api!("/oauth/userinfo").get(oauth::userinfo).post(oauth::userinfo_post))
        .service(api!(apps, "/auth/forgot-password").post(recovery::forgot_password))
        .service(api!(apps, "/auth/reset-password").post(recovery::reset_password))
        .service(api!(apps, "/auth/verify-email").post(recovery::verify_email))
        .service(api!(apps, "/openapi.json").get(openapi::document))
        .service(api!(apps, "/docs").get(openapi::docs))
        .service(api!(apps, "/auth/verify", forward_auth).get(forward::verify))
        .service(api!(apps, "/auth/csrf", refresh_cookie).get(auth::csrf))
        .service(api!(apps, "/auth/logout", refresh_cookie).post(auth::logout))
        .service(api!(apps, "/auth/refresh", refresh_cookie).post(auth::refresh))
        .service(api!(apps, "/sessions", session).get(sessions::list_sessions))
        .service(api!(apps, "/sessions/revoke-others", session).post(sessions::revoke_other_sessions))
        .service(api!(apps, "/sessions/{id}", session).delete(sessions::delete_session))
        .service(api!(apps, "/me", session).get(me::me))
        .service(api!(apps, "/account", session).delete(account::delete_account))
        .service(api!(apps, "/account/email", session).post(account::change_email))
        .service(api!(apps, "/account/password", session).post(account::change_password))
        .service(api!(apps, "/account/events", session).get(account::list_events))
        .service(api!(apps, "/account/apps", session).get(apps::list_apps))
        .service(api!(apps, "/account/apps/{id}", session).delete(apps::revoke_app))
        .service(api!(apps, "/account/verification", session).post(recovery::send_verification))
        .service(api!(apps, "/account/2fa", session).get(two_factor::factors))
        .service(
            api!(apps, "/account/2fa/totp", session)
                .post(two_factor::start_totp)
                .delete(two_factor::disable_totp),
        )
        .service(api!(apps, "/account/2fa/totp/confirm", session).post(two_factor::confirm_totp))
        .service(api!(apps, "/account/2fa/recovery-codes", session).post(two_factor::renew_recovery_codes))
        .service(api!(apps, "/account/passkeys", session).get(passkeys::list).post(passkeys::add))
        .service(api!(apps, "/account/passkeys/options", session).post(passkeys::registration_options))
        .service(api!(apps, "/account/passkeys/{id}", session).delete(passkeys::remove))
        .service(api!(apps, "/admin/users", session).get(admin::list_users))
        .service(api!(apps, "/admin/users/{id}", session).delete(admin::delete_user))
        .service(api!(apps, "/admin/users/{id}/disable", session).post(admin::disable_user))
        .service(api!(apps, "/admin/users/{id}/enable", session).post(admin::enable_user))
        .service(api!(apps, "/admin/users/{id}/role", session).put(admin::set_role))
        .service(api!(apps, "/admin/users/{id}/sessions", session).delete(admin::end_sessions))
        .service(api!(apps, "/admin/users/{id}/events", session).get(admin::user_events))
        .service(api!(apps, "/admin/users/{id}/unlock", session).post(admin::unlock))
        .service(api!(apps, "/admin/users/{id}/2fa", session).delete(two_factor::reset_user_factors))
        .service(
            api!(apps, "/admin/clients", session)
                .get(admin_clients::list_clients)
                .post(admin_clients::add_client),
        )
        .service(api!(apps, "/admin/clients/{id}", session).delete(admin_clients::remove_client))
        .service(api!(apps, "/admin/clients/{id}/secret", session).post(admin_clients::rotate_client_secret))
        .service(
            api!(apps, "/admin/clients/{id}/redirect-uris", session)
                .put(admin_clients::set_client_redirect_uris),
        );
}
