//! Server-rendered pages: the page routes. Each page is a `<Name>Page` template struct next
//! to its handler; `layout.rs` fills the base layout, `render.rs` turns a page into a response.

pub(crate) mod account;
mod account_actions;
mod account_providers;
mod admin_clients;
mod admin_providers;
mod admin_users;
mod home;
mod login;
mod logout;
mod oidc;
mod oidc_logout;
mod provider_links;
mod recovery;
mod register;
mod two_factor;
mod upstream;
mod verification;

use actix_web::web;

/// A page resource: Portcullis's body limits and the page policy (`auth::web::scope::pages`:
/// identify, Origin check, the form's CSRF token, refresh in place).
macro_rules! page {
    ($path:literal) => {
        crate::routes::resource::limited(actix_web::web::resource($path))
            .wrap(actix_web::middleware::from_fn(crate::auth::web::scope::pages))
    };
}

pub fn configure(cfg: &mut web::ServiceConfig, home_page: bool) {
    if home_page {
        cfg.service(page!("/").get(home::home_page));
    }
    cfg.service(page!("/login").get(login::login_page).post(login::login))
        .service(page!("/login/mfa").post(login::login_code))
        .service(page!("/login/provider/{name}").get(upstream::start))
        .service(page!("/login/provider/{name}/callback").get(upstream::callback))
        .service(page!("/register").get(register::register_page).post(register::register))
        .service(page!("/logout").post(logout::logout))
        .service(
            page!("/forgot-password").get(recovery::forgot_password_page).post(recovery::forgot_password),
        )
        .service(page!("/reset-password").get(recovery::reset_password_page).post(recovery::reset_password))
        .service(page!("/verify-email").get(verification::verify_email_page).post(verification::verify_email))
        .service(page!("/verify-email/resend").post(verification::resend_verification))
        .service(page!("/account").get(account::account_page))
        .service(page!("/account/2fa").get(two_factor::two_factor_page))
        .service(page!("/account/2fa/totp").post(two_factor::start_totp))
        .service(page!("/account/2fa/totp/confirm").post(two_factor::confirm_totp))
        .service(page!("/account/2fa/totp/disable").post(two_factor::disable_totp))
        .service(page!("/account/2fa/recovery-codes").post(two_factor::renew_recovery_codes))
        .service(page!("/account/2fa/passkeys/{id}/remove").post(two_factor::remove_passkey))
        .service(page!("/account/verification").post(verification::send_verification))
        .service(page!("/account/password").post(account_actions::change_password))
        .service(page!("/account/delete").post(account_actions::delete_account))
        .service(page!("/account/email").post(account_actions::change_email))
        .service(page!("/account/sessions/revoke-others").post(account_actions::revoke_other_sessions))
        .service(page!("/account/sessions/{id}/revoke").post(account_actions::revoke_session))
        .service(page!("/account/apps/{id}/revoke").post(account_actions::revoke_app))
        .service(page!("/account/providers/{name}/connect").post(account_providers::connect))
        .service(page!("/account/providers/disconnect").post(account_providers::disconnect))
        .service(page!("/admin/users").get(admin_users::admin_users_page))
        .service(page!("/admin/users/{id}/disable").post(admin_users::disable_user))
        .service(page!("/admin/users/{id}/enable").post(admin_users::enable_user))
        .service(page!("/admin/users/{id}").get(admin_users::admin_user_page))
        .service(page!("/admin/users/{id}/role").post(admin_users::set_role))
        .service(page!("/admin/users/{id}/sessions/end").post(admin_users::end_sessions))
        .service(page!("/admin/users/{id}/unlock").post(admin_users::unlock))
        .service(page!("/admin/users/{id}/2fa/reset").post(admin_users::reset_factors))
        .service(page!("/admin/users/{id}/delete").post(admin_users::delete_user))
        .service(
            page!("/admin/clients").get(admin_clients::admin_clients_page).post(admin_clients::add_client),
        )
        .service(page!("/admin/clients/{id}").get(admin_clients::admin_client_page))
        .service(page!("/admin/clients/{id}/redirect-uris").post(admin_clients::set_redirect_uris))
        .service(page!("/admin/clients/{id}/secret").post(admin_clients::rotate_secret))
        .service(page!("/admin/clients/{id}/delete").post(admin_clients::remove_client))
        .service(
            page!("/admin/providers")
                .get(admin_providers::admin_providers_page)
                .post(admin_providers::add_provider),
        )
        .service(page!("/admin/providers/{name}/delete").post(admin_providers::remove_provider))
        .service(page!("/oauth/authorize").get(oidc::authorize).post(oidc::decide))
        .service(page!("/oauth/logout").get(oidc_logout::logout_page).post(oidc_logout::logout));
}
