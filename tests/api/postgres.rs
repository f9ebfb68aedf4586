//! The sign-in loop on PostgreSQL: a fresh database per test, dropped afterwards.
//! Runs whenever PostgreSQL is reachable; with CI=true it must run, so it fails instead.

use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{Backend, TestApp, spawn_app_with};

/// `None` (skip) only outside CI when no PostgreSQL answers on 127.0.0.1:5432.
async fn pg_app() -> Option<TestApp> {
    let reachable = std::net::TcpStream::connect("127.0.0.1:5432").is_ok();
    if !reachable {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but PostgreSQL is not reachable on 127.0.0.1:5432"
        );
        eprintln!("skipping: PostgreSQL is not reachable on 127.0.0.1:5432");
        return None;
    }
    Some(spawn_app_with(Backend::Postgres, |_| {}).await)
}

#[tokio::test]
async fn the_sign_in_loop_works_on_postgres() {
    let Some(app) = pg_app().await else { return };
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
    let token = app.bearer_for(&user).await;
    assert_eq!(app.me_with_bearer(&token).await.status(), StatusCode::OK);
    let csrf = app.cookie("csrf_token").unwrap();
    assert_eq!(
        app.post_form("/logout", &[("csrf_token", &csrf)])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.get("/api/me").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.me_with_bearer(&token).await.status(),
        StatusCode::OK,
        "only the cookie session ended"
    );
}

#[tokio::test]
async fn emails_are_unique_case_insensitively_on_postgres() {
    let Some(app) = pg_app().await else { return };
    let user = app.add_user(Role::User);
    let mut conn = app.pool.get().unwrap();
    let email = portcullis::domain::Email::try_from(user.email.to_uppercase().as_str()).unwrap();
    let again = portcullis::auth::accounts::create_user(&mut conn, &email, "x", Role::User);
    assert!(matches!(
        again,
        Err(portcullis::db::users::CreateUserError::EmailTaken)
    ));
}

#[tokio::test]
async fn readyz_answers_on_postgres() {
    let Some(app) = pg_app().await else { return };
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}
