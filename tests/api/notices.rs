//! Security notices by mail: a sign-in from a browser new to the account. The changed-password
//! notice is tested with the change (`password_change.rs`).

use std::sync::Arc;
use std::time::Duration;

use portcullis::domain::Role;
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::json;

use crate::helpers::{PASSWORD, client_with, spawn_app_with_mail};
use portcullis_testkit::SmtpSink;

async fn a_sign_in_from_a_new_browser_is_mailed_but_not_from_a_known_one() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let user = app.add_user(Role::User);
    let browser = client_with(Arc::new(Jar::default()));
    let login = || {
        browser
            .post(app.url("/api/auth/login"))
            .header("user-agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0")
            .json(&json!({"email": user.email, "password": PASSWORD}))
            .send()
    };
    assert_eq!(login().await.unwrap().status(), StatusCode::OK);
    let notice = sink.wait_for(&user.email, 1).await.remove(0);
    assert_eq!(notice.subject(), "A new sign-in to your Portcullis account");
    assert!(notice.text.contains("Firefox") && notice.text.contains("127.0.0.1"), "{}", notice.text);
    assert_eq!(login().await.unwrap().status(), StatusCode::OK, "the same browser again");
    assert_eq!(app.token(&user.email, PASSWORD).await.status(), StatusCode::OK, "a script");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(sink.received().len(), 1, "no notice for a known browser or a script");
}

crate::helpers::backend_tests!(a_sign_in_from_a_new_browser_is_mailed_but_not_from_a_known_one,);
