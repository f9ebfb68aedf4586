//! Server-rendered pages: the page routes. Each page is a `<Name>Page` template struct next
//! to its handler; `layout.rs` fills the base layout, `render.rs` turns a page into a response.

pub(crate) mod account;
mod account_actions;
mod admin_users;
mod home;
mod login;
mod logout;
mod recovery;
mod register;
mod two_factor;
mod verification;

use actix_web::web;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/").get(home::home_page))
        .service(web::resource("/login").get(login::login_page).post(login::login))
        .service(web::resource("/login/mfa").post(login::login_code))
        .service(web::resource("/register").get(register::register_page).post(register::register))
        .service(web::resource("/logout").post(logout::logout))
        .service(
            web::resource("/forgot-password")
                .get(recovery::forgot_password_page)
                .post(recovery::forgot_password),
        )
        .service(
            web::resource("/reset-password")
                .get(recovery::reset_password_page)
                .post(recovery::reset_password),
        )
        .service(
            web::resource("/verify-email")
                .get(verification::verify_email_page)
                .post(verification::verify_email),
        )
        .service(web::resource("/verify-email/resend").post(verification::resend_verification))
        .service(web::resource("/account").get(account::account_page))
        .service(web::resource("/account/2fa").get(two_factor::two_factor_page))
        .service(web::resource("/account/2fa/totp").post(two_factor::start_totp))
        .service(web::resource("/account/2fa/totp/confirm").post(two_factor::confirm_totp))
        .service(web::resource("/account/2fa/totp/disable").post(two_factor::disable_totp))
        .service(web::resource("/account/2fa/recovery-codes").post(two_factor::renew_recovery_codes))
        .service(web::resource("/account/2fa/passkeys/{id}/remove").post(two_factor::remove_passkey))
        .service(web::resource("/account/verification").post(verification::send_verification))
        .service(web::resource("/account/password").post(account_actions::change_password))
        .service(web::resource("/account/delete").post(account_actions::delete_account))
        .service(web::resource("/account/email").post(account_actions::change_email))
        .service(
            web::resource("/account/sessions/revoke-others").post(account_actions::revoke_other_sessions),
        )
        .service(web::resource("/account/sessions/{id}/revoke").post(account_actions::revoke_session))
        .service(web::resource("/admin/users").get(admin_users::admin_users_page))
        .service(web::resource("/admin/users/{id}/disable").post(admin_users::disable_user))
        .service(web::resource("/admin/users/{id}/enable").post(admin_users::enable_user))
        .service(web::resource("/admin/users/{id}").get(admin_users::admin_user_page))
        .service(web::resource("/admin/users/{id}/role").post(admin_users::set_role))
        .service(web::resource("/admin/users/{id}/sessions/end").post(admin_users::end_sessions))
        .service(web::resource("/admin/users/{id}/unlock").post(admin_users::unlock))
        .service(web::resource("/admin/users/{id}/2fa/reset").post(admin_users::reset_factors))
        .service(web::resource("/admin/users/{id}/delete").post(admin_users::delete_user));
}
