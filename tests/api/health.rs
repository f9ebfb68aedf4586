use reqwest::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with};

async fn healthz_and_readyz_answer_200() {
    let app = spawn_app().await;
    assert_eq!(app.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.get("/readyz").await.status(), StatusCode::OK);
}

async fn every_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in ["/", "/login", "/api/me", "/healthz", "/nope"] {
        let res = app.get(path).await;
        let h = res.headers();
        assert_eq!(
            h["content-security-policy"],
            "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'",
            "{path}"
        );
        assert_eq!(h["cross-origin-opener-policy"], "same-origin", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert!(h.contains_key("referrer-policy"), "{path}");
        assert!(!h.contains_key("server"), "{path} announces its server");
    }
    assert_eq!(app.get("/login").await.headers()["cache-control"], "no-store");
}

async fn https_public_url_turns_on_hsts() {
    let app = spawn_app_with(|s| {
        s.public_url = Some(portcullis::config::PublicUrl::parse("https://auth.example.com").unwrap());
    })
    .await;
    let res = app.get("/healthz").await;
    assert!(res.headers()["strict-transport-security"].to_str().unwrap().contains("max-age="));
}

async fn static_assets_are_served() {
    let app = spawn_app().await;
    let res = app.get("/static/css/app.css").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
}

crate::helpers::backend_tests!(
    healthz_and_readyz_answer_200,
    every_response_carries_the_security_headers,
    https_public_url_turns_on_hsts,
    static_assets_are_served,
);
