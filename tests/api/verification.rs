//! Verified email addresses over real SMTP: `open` registration mails a link and shows "not
//! verified" until it is confirmed; `verify` registration needs the link before the first
//! sign-in and answers the same for a taken address.

use std::time::Duration;

use portcullis::config::Registration;
use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{PASSWORD, TestApp, error_code, set_cookie, set_cookies, spawn_app_with};
use portcullis_testkit::{Received, SmtpSink};

async fn app_with(sink: &SmtpSink, mode: Registration) -> TestApp {
    let url = sink.url();
    spawn_app_with(move |s| {
        s.smtp_url = Some(url.into());
        s.registration = mode;
    })
    .await
}

async fn register(app: &TestApp, email: &str) -> reqwest::Response {
    let csrf = app.csrf_token().await;
    let form =
        [("email", email), ("password", PASSWORD), ("password_confirm", PASSWORD), ("csrf_token", &csrf)];
    app.post_form("/register", &form).await
}

/// Opens the confirmation link and posts its confirm form, as a browser would.
async fn confirm(app: &TestApp, mail: &Received) -> reqwest::Response {
    let link = mail.link("/verify-email?token=").expect("a confirmation link");
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "a GET only shows the confirm button");
    let token = link.split("token=").nth(1).unwrap();
    let csrf = app.cookie("csrf_token").unwrap();
    app.post_form("/verify-email", &[("token", token), ("csrf_token", &csrf)]).await
}

async fn me(app: &TestApp) -> Value {
    app.get("/api/me").await.json().await.unwrap()
}

async fn an_open_registration_is_signed_in_and_confirms_its_address_by_mail() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = app_with(&sink, Registration::Open).await;
    let email = "newcomer@example.com";
    assert_eq!(register(&app, email).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(me(&app).await["email_verified"], json!(false));
    let account = app.get("/account").await.text().await.unwrap();
    assert!(account.contains("not verified") && account.contains("/account/verification"));
    let mail = sink.wait_for(email, 1).await.remove(0);
    assert_eq!(mail.subject(), "Confirm your email address for Portcullis");
    let res = confirm(&app, &mail).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account?done=verified");
    assert_eq!(me(&app).await["email_verified"], json!(true));
    let again = app.client.get(mail.link("/verify-email?token=").unwrap()).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "the link works once");
}

async fn with_verify_the_link_comes_before_the_first_sign_in() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = app_with(&sink, Registration::Verify).await;
    let email = "careful@example.com";
    let res = register(&app, email).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(set_cookie(&set_cookies(res.headers()), "access_token").is_none(), "no auth cookies");
    assert!(res.text().await.unwrap().contains("Check your inbox"));
    let api = app.post_json("/api/auth/login", &json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(api.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(api).await, "email_not_verified");
    let page = app.login_form(email, PASSWORD, false).await;
    assert_eq!(page.status(), StatusCode::FORBIDDEN);
    let text = page.text().await.unwrap();
    assert!(text.contains("/verify-email/resend") && text.contains("Send the link again"), "a resend button");
    let wrong = app
        .post_json("/api/auth/login", &json!({"email": email, "password": "not the password at all"}))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED, "a wrong password learns nothing more");
    let mail = sink.wait_for(email, 1).await.remove(0);
    assert_eq!(confirm(&app, &mail).await.headers()["location"], "/login?verified=done");
    let ok = app.post_json("/api/auth/login", &json!({"email": email, "password": PASSWORD})).await;
    assert_eq!(ok.status(), StatusCode::OK);
}

async fn with_verify_a_taken_address_gets_the_same_answer_and_its_owner_a_notice() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = app_with(&sink, Registration::Verify).await;
    let owner = app.add_user(Role::User);
    let fresh = register(&app, "someone-new@example.com").await;
    let (fresh_status, fresh_body) = (fresh.status(), fresh.text().await.unwrap());
    let taken = register(&app, &owner.email).await;
    assert_eq!(taken.status(), fresh_status);
    assert_eq!(taken.text().await.unwrap(), fresh_body, "byte-for-byte the same page");
    let notice = sink.wait_for(&owner.email, 1).await.remove(0);
    assert_eq!(notice.subject(), "Someone tried to create a Portcullis account with your address");
    assert!(notice.link("/verify-email").is_none(), "no link that could change anything");
    assert_eq!(
        app.token(&owner.email, PASSWORD).await.status(),
        StatusCode::OK,
        "nothing changed for the owner"
    );
}

async fn a_new_link_replaces_the_old_and_the_api_confirms_too() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = app_with(&sink, Registration::Open).await;
    let email = "twice@example.com";
    register(&app, email).await;
    let first = sink.wait_for(email, 1).await.remove(0);
    let res = app.api_post("/api/account/verification").await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let second = sink.wait_for(email, 2).await.remove(1);
    let token =
        |m: &Received| m.link("/verify-email?token=").unwrap().split("token=").nth(1).unwrap().to_owned();
    let old = app.post_json("/api/auth/verify-email", &json!({"token": token(&first)})).await;
    assert_eq!(old.status(), StatusCode::BAD_REQUEST, "the older link died");
    assert_eq!(error_code(old).await, "invalid_link");
    let new = app.post_json("/api/auth/verify-email", &json!({"token": token(&second)})).await;
    assert_eq!(new.status(), StatusCode::NO_CONTENT);
    assert_eq!(me(&app).await["email_verified"], json!(true));
    assert!(
        app.event_kinds(&crate::helpers::TestUser {
            email: email.into(),
            password: PASSWORD.into(),
            id: me(&app).await["id"].as_str().unwrap().into(),
        })
        .contains(&"email_verified".to_owned())
    );
}

async fn accounts_made_by_an_operator_count_as_verified() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = app_with(&sink, Registration::Verify).await;
    let user = app.add_user(Role::User);
    let res = app.post_json("/api/auth/login", &json!({"email": user.email, "password": PASSWORD})).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(me(&app).await["email_verified"], json!(true));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let confirmations = sink.received().into_iter().filter(|m| m.subject().starts_with("Confirm")).count();
    assert_eq!(confirmations, 0, "no confirmation link for an operator's account");
}

async fn changing_the_address_needs_the_password_and_applies_when_the_new_one_confirms() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = app_with(&sink, Registration::Open).await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let csrf = app.cookie("csrf_token").unwrap();
    let new = "moved-here@example.com";
    let wrong = [("new_email", new), ("current_password", "not the password at all"), ("csrf_token", &csrf)];
    assert_eq!(app.post_form("/account/email", &wrong).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let right = [("new_email", new), ("current_password", PASSWORD), ("csrf_token", &csrf)];
    let res = app.post_form("/account/email", &right).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account?done=email");
    let link = sink.wait_for(new, 1).await.remove(0);
    assert_eq!(link.subject(), "Confirm your new email address for Portcullis");
    // The old address gets two: the new-sign-in notice of `login_as`, and the change notice.
    let old = sink.wait_for(&user.email, 2).await;
    assert!(
        old.iter().any(|m| m.subject() == "A change of your Portcullis email address was requested"
            && m.text.contains(new))
    );
    assert_eq!(
        app.token(new, PASSWORD).await.status(),
        StatusCode::BAD_REQUEST,
        "not before the link is followed"
    );
    assert_eq!(confirm(&app, &link).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.token(new, PASSWORD).await.status(), StatusCode::OK);
    assert_eq!(app.token(&user.email, PASSWORD).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(me(&app).await["email"], json!(new));
    assert!(app.event_kinds(&user).contains(&"email_changed".to_owned()));
    let api = app
        .client
        .post(app.url("/api/account/email"))
        .header("x-csrf-token", app.cookie("csrf_token").unwrap())
        .json(&json!({"new_email": "third@example.com", "current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), StatusCode::ACCEPTED);
    sink.wait_for("third@example.com", 1).await;
}

crate::helpers::backend_tests!(
    changing_the_address_needs_the_password_and_applies_when_the_new_one_confirms,
    an_open_registration_is_signed_in_and_confirms_its_address_by_mail,
    with_verify_the_link_comes_before_the_first_sign_in,
    with_verify_a_taken_address_gets_the_same_answer_and_its_owner_a_notice,
    a_new_link_replaces_the_old_and_the_api_confirms_too,
    accounts_made_by_an_operator_count_as_verified,
);
