//! CORS for this deployment's own apps (`PORTCULLIS_CORS_ORIGINS`, SPEC §3, §5): credentials,
//! preflight caching, and nothing for anyone else.

use portcullis::config::Origins;
use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::{backend_tests, spawn_app_with};

backend_tests!(cors_lets_the_listed_apps_call_the_api_with_credentials_and_nobody_else);

async fn cors_lets_the_listed_apps_call_the_api_with_credentials_and_nobody_else() {
    const APP: &str = "http://127.0.0.1:3999";
    let app = spawn_app_with(|s| s.cors_origins = Origins::parse(APP).unwrap()).await;
    let preflight = |origin: &'static str| {
        app.client
            .request(reqwest::Method::OPTIONS, app.url("/api/auth/login"))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type,x-csrf-token")
            .send()
    };
    let res = preflight(APP).await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], APP);
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert_eq!(h["access-control-max-age"], "600");
    let allowed = h["access-control-allow-headers"].to_str().unwrap().to_ascii_lowercase();
    assert!(allowed.contains("x-csrf-token") && allowed.contains("content-type"), "{allowed}");
    let res = preflight("http://evil.example").await.unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));

    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let res = app.client.get(app.url("/api/me")).header("origin", APP).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["access-control-allow-origin"], APP);
    assert_eq!(res.headers()["access-control-allow-credentials"], "true");
    let res =
        app.client.get(app.url("/api/me")).header("origin", "http://evil.example").send().await.unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"), "no CORS for others");
    // Pages are not part of it.
    let res = app.client.get(app.url("/account")).header("origin", APP).send().await.unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
    // Nothing listed: nothing allowed.
    let plain = spawn_app_with(|_| {}).await;
    let res = plain.client.get(plain.url("/api/auth/csrf")).header("origin", APP).send().await.unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
