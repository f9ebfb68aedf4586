//! Account recovery over real SMTP: "forgot password" mails a single-use link; the link's
//! form sets a new password and ends every session; the answers never tell whether an
//! account exists.

use std::time::{Duration, Instant};

use diesel::{QueryDsl, RunQueryDsl};
use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{PASSWORD, TestApp, TestUser, error_code, spawn_app_with, spawn_app_with_mail};
use portcullis_testkit::SmtpSink;

const NEW: &str = "a completely new passphrase, thank you";

async fn forgot(app: &TestApp, email: &str) -> reqwest::Response {
    let csrf = app.csrf_token().await;
    app.post_form("/forgot-password", &[("email", email), ("csrf_token", &csrf)]).await
}

async fn reset(app: &TestApp, token: &str, password: &str) -> reqwest::Response {
    let csrf = app.csrf_token().await;
    let form =
        [("token", token), ("new_password", password), ("password_confirm", password), ("csrf_token", &csrf)];
    app.post_form("/reset-password", &form).await
}

fn token_of(link: &str) -> String {
    link.split("token=").nth(1).expect("a token in the link").to_owned()
}

fn outbox_pending(app: &TestApp) -> i64 {
    let mut conn = app.pool.get().unwrap();
    portcullis::db::outbox::pending(&mut conn).unwrap()
}

async fn a_reset_link_sets_a_new_password_once_and_ends_every_session() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    let elsewhere = app.bearer_for(&user).await;
    let res = forgot(&app, &user.email).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.unwrap().contains("If an account exists"));
    let mail = sink.wait_for(&user.email, 1).await.remove(0);
    assert_eq!(mail.subject(), "Reset your Portcullis password");
    assert!(mail.text.contains("multipart/alternative") && mail.text.contains("text/html"), "{}", mail.text);
    let link = mail.link("/reset-password?token=").expect("a reset link");
    assert!(link.starts_with(&format!("{}/reset-password?token=", app.address)), "absolute: {link}");
    for _ in 0..2 {
        let page = app.client.get(&link).send().await.unwrap();
        assert_eq!(page.status(), StatusCode::OK, "a GET (a mail scanner's prefetch) never uses the link up");
        assert_eq!(page.headers()["referrer-policy"], "same-origin");
    }
    let res = reset(&app, &token_of(&link), NEW).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?reset=done");
    assert_eq!(
        app.me_with_bearer(&elsewhere).await.status(),
        StatusCode::UNAUTHORIZED,
        "every session ended"
    );
    assert_eq!(app.token(&user.email, PASSWORD).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.token(&user.email, NEW).await.status(), StatusCode::OK);
    assert!(app.event_kinds(&user).contains(&"password_reset".to_owned()));
    let notice = sink.wait_for(&user.email, 2).await.remove(1);
    assert_eq!(notice.subject(), "Your Portcullis password was changed");
    let again = app.client.get(&link).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST, "a used link is refused");
    assert!(again.text().await.unwrap().contains("Send me a new link"));
    assert_eq!(
        reset(&app, &token_of(&link), "yet another new passphrase here").await.status(),
        StatusCode::BAD_REQUEST
    );
}

async fn an_unknown_address_gets_the_same_answer_and_no_mail() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    let known = forgot(&app, &user.email).await;
    let (known_status, known_body) = (known.status(), known.text().await.unwrap());
    let unknown = forgot(&app, "nobody-here@example.com").await;
    assert_eq!(unknown.status(), known_status);
    assert_eq!(unknown.text().await.unwrap(), known_body, "the pages are byte-for-byte the same");
    let api_known = app.post_json("/api/auth/forgot-password", &json!({"email": user.email})).await;
    let api_unknown =
        app.post_json("/api/auth/forgot-password", &json!({"email": "nobody@example.com"})).await;
    assert_eq!(api_known.status(), StatusCode::ACCEPTED);
    assert_eq!(api_unknown.status(), StatusCode::ACCEPTED);
    assert_eq!(api_known.text().await.unwrap(), api_unknown.text().await.unwrap());
    sink.wait_for(&user.email, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(sink.received().iter().all(|m| m.to == user.email), "{:?}", sink.received());
}

async fn a_weak_new_password_leaves_the_link_usable() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    forgot(&app, &user.email).await;
    let link = sink.wait_for(&user.email, 1).await[0].link("/reset-password?token=").unwrap();
    let weak = reset(&app, &token_of(&link), "password").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(weak.text().await.unwrap().contains("at least"));
    assert_eq!(reset(&app, &token_of(&link), NEW).await.status(), StatusCode::SEE_OTHER);
}

async fn an_expired_or_unknown_link_is_refused_with_a_way_forward() {
    let Some(sink) = SmtpSink::start() else { return };
    let url = sink.url();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(url.into());
        s.reset_ttl = Duration::from_secs(1);
    })
    .await;
    let user = app.add_user(Role::User);
    forgot(&app, &user.email).await;
    let link = sink.wait_for(&user.email, 1).await[0].link("/reset-password?token=").unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let page = app.client.get(&link).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::BAD_REQUEST);
    assert!(page.text().await.unwrap().contains("/forgot-password"));
    assert_eq!(reset(&app, &token_of(&link), NEW).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/reset-password?token=made-up").await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.token(&user.email, PASSWORD).await.status(), StatusCode::OK, "nothing changed");
}

async fn the_json_api_resets_a_password_too() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    let res = app.post_json("/api/auth/forgot-password", &json!({"email": user.email})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let token = token_of(&sink.wait_for(&user.email, 1).await[0].link("/reset-password?token=").unwrap());
    let weak = app.post_json("/api/auth/reset-password", &json!({"token": token, "password": "short"})).await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(weak).await, "weak_password");
    let res = app.post_json("/api/auth/reset-password", &json!({"token": token, "password": NEW})).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let reused = app.post_json("/api/auth/reset-password", &json!({"token": token, "password": NEW})).await;
    assert_eq!(reused.status(), StatusCode::BAD_REQUEST);
    assert_eq!(error_code(reused).await, "invalid_link");
    assert_eq!(app.token(&user.email, NEW).await.status(), StatusCode::OK);
}

async fn a_flood_for_one_address_yields_a_handful_of_mails() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    for _ in 0..10 {
        let res = app.post_json("/api/auth/forgot-password", &json!({"email": user.email})).await;
        assert_eq!(res.status(), StatusCode::ACCEPTED, "the answer never changes");
    }
    sink.wait_for(&user.email, 3).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(sink.received().len(), 3, "three mails at most");
}

async fn header_injection_in_the_address_sends_nothing() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    let hostile = format!("{}\r\nBcc: attacker@evil.example", user.email);
    let res = app.post_json("/api/auth/forgot-password", &json!({"email": hostile})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let page = forgot(&app, &format!("{}\nCc: attacker@evil.example", user.email)).await;
    assert_eq!(page.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(sink.received().is_empty(), "{:?}", sink.received());
}

async fn a_mail_server_that_is_down_loses_nothing() {
    let port = portcullis_testkit::free_port();
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(format!("smtp://127.0.0.1:{port}").into());
        s.mail_retry = Duration::from_secs(1);
    })
    .await;
    let user: TestUser = app.add_user(Role::User);
    let started = Instant::now();
    let res = app.post_json("/api/auth/forgot-password", &json!({"email": user.email})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED, "the answer does not change");
    assert!(started.elapsed() < Duration::from_secs(2), "nobody waits for the mail server");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(outbox_pending(&app), 1, "kept for a retry");
    let mut conn = app.pool.get().unwrap();
    let error: Option<String> = portcullis::db::schema::outbox::table
        .select(portcullis::db::schema::outbox::last_error)
        .first(&mut **conn)
        .unwrap();
    assert!(error.is_some_and(|e| e.contains("SMTP")), "the failure is recorded");
    let Some(sink) = SmtpSink::start_on(port, 0.0) else { return };
    sink.wait_for(&user.email, 1).await;
    for _ in 0..50 {
        if outbox_pending(&app) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the delivered mail is still pending");
}

async fn a_slow_mail_server_keeps_nobody_waiting() {
    let Some(sink) = SmtpSink::start_on(portcullis_testkit::free_port(), 3.0) else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    let started = Instant::now();
    let res = app.post_json("/api/auth/forgot-password", &json!({"email": user.email})).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    assert!(started.elapsed() < Duration::from_secs(1), "{:?}", started.elapsed());
    sink.wait_for(&user.email, 1).await;
}

async fn two_instances_deliver_each_mail_once() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let mut settings = app.settings.clone();
    settings.addr = "127.0.0.1:0".parse().unwrap();
    let second = portcullis::startup::Application::build(settings).expect("a second instance");
    tokio::spawn(second.run_until_stopped());
    let mut conn = app.pool.get().unwrap();
    let now = portcullis::db::now();
    for i in 0..30 {
        let mail = portcullis::db::outbox::OutboxMail {
            id: format!("mail-{i}"),
            recipient: format!("reader-{i}@example.com"),
            subject: format!("Mail {i}"),
            text_body: "hello".into(),
            html_body: "<p>hello</p>".into(),
            created_at: now,
            attempts: 0,
            next_attempt_at: now,
        };
        portcullis::db::outbox::enqueue(&mut conn, &mail).unwrap();
    }
    for _ in 0..100 {
        if sink.received().len() >= 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut recipients: Vec<String> = sink.received().into_iter().map(|m| m.to).collect();
    assert_eq!(recipients.len(), 30, "each mail once: {recipients:?}");
    recipients.sort();
    recipients.dedup();
    assert_eq!(recipients.len(), 30);
    assert_eq!(outbox_pending(&app), 0);
}

async fn smtp_auth_comes_from_the_url() {
    let Some(sink) = SmtpSink::start_with_auth("relay:s3cret-pass") else { return };
    let port = sink.port;
    let app = spawn_app_with(move |s| {
        s.smtp_url = Some(format!("smtp://relay:s3cret-pass@127.0.0.1:{port}").into());
    })
    .await;
    let user = app.add_user(Role::User);
    forgot(&app, &user.email).await;
    sink.wait_for(&user.email, 1).await;
    let wrong = spawn_app_with(move |s| {
        s.smtp_url = Some(format!("smtp://relay:wrong@127.0.0.1:{port}").into());
        s.mail_retry = Duration::from_secs(60);
    })
    .await;
    let other = wrong.add_user(Role::User);
    forgot(&wrong, &other.email).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(sink.received().iter().all(|m| m.to != other.email), "refused without the right credentials");
    assert_eq!(outbox_pending(&wrong), 1, "kept for a retry");
}

crate::helpers::backend_tests!(
    smtp_auth_comes_from_the_url,
    two_instances_deliver_each_mail_once,
    a_reset_link_sets_a_new_password_once_and_ends_every_session,
    an_unknown_address_gets_the_same_answer_and_no_mail,
    a_weak_new_password_leaves_the_link_usable,
    an_expired_or_unknown_link_is_refused_with_a_way_forward,
    the_json_api_resets_a_password_too,
    a_flood_for_one_address_yields_a_handful_of_mails,
    header_injection_in_the_address_sends_nothing,
    a_mail_server_that_is_down_loses_nothing,
    a_slow_mail_server_keeps_nobody_waiting,
);
