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

/// A front end on another origin of the same site (another port of 127.0.0.1) signs in
/// through the JSON API with `fetch(…, {credentials: "include"})`, reads `/api/me`, refreshes
/// and signs out; one on another site (127.0.0.2) does the same with Bearer tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn front_ends_on_other_origins_use_the_api_from_a_real_browser() {
    use portcullis_testkit::{Browser, serve_page};
    let Some(browser) = Browser::start().await else { return };
    let same_site = serve_page("127.0.0.1", "<!doctype html><title>app</title>".into()).await;
    let other_site = serve_page("127.0.0.2", "<!doctype html><title>app</title>".into()).await;
    let apps = format!("{same_site},{other_site}");
    let app = spawn_app_with(|s| s.cors_origins = Origins::parse(&apps).unwrap()).await;
    let user = app.add_user(Role::User);
    let (base, email, password) = (&app.address, &user.email, &user.password);

    browser.goto(&same_site).await;
    let cookies = browser
        .run(&format!(
            r#"const base = "{base}", out = [];
            const csrf = async () => (await (await fetch(base + "/api/auth/csrf", {{credentials: "include"}})).json()).csrf_token;
            let r = await fetch(base + "/api/auth/login", {{method: "POST", credentials: "include",
                headers: {{"content-type": "application/json"}},
                body: JSON.stringify({{email: "{email}", password: "{password}", remember: false}})}});
            out.push(r.status);
            r = await fetch(base + "/api/me", {{credentials: "include"}});
            out.push(r.status, (await r.json()).email);
            r = await fetch(base + "/api/auth/refresh", {{method: "POST", credentials: "include", headers: {{"x-csrf-token": await csrf()}}}});
            out.push(r.status);
            r = await fetch(base + "/api/auth/logout", {{method: "POST", credentials: "include", headers: {{"x-csrf-token": await csrf()}}}});
            out.push(r.status);
            r = await fetch(base + "/api/me", {{credentials: "include"}});
            out.push(r.status);
            return out;"#
        ))
        .await;
    assert_eq!(
        cookies,
        serde_json::json!([200, 200, email, 200, 204, 401]),
        "cookie session from {same_site}"
    );

    browser.goto(&other_site).await;
    let bearer = browser
        .run(&format!(
            r#"const base = "{base}", out = [];
            const form = (fields) => new URLSearchParams(fields);
            let r = await fetch(base + "/api/auth/token", {{method: "POST",
                body: form({{grant_type: "password", username: "{email}", password: "{password}"}})}});
            out.push(r.status);
            let tokens = await r.json();
            r = await fetch(base + "/api/me", {{headers: {{authorization: "Bearer " + tokens.access_token}}}});
            out.push(r.status);
            r = await fetch(base + "/api/auth/token", {{method: "POST",
                body: form({{grant_type: "refresh_token", refresh_token: tokens.refresh_token}})}});
            out.push(r.status);
            tokens = await r.json();
            r = await fetch(base + "/api/auth/revoke", {{method: "POST", body: form({{token: tokens.refresh_token}})}});
            out.push(r.status);
            r = await fetch(base + "/api/me", {{headers: {{authorization: "Bearer " + tokens.access_token}}}});
            out.push(r.status);
            return out;"#
        ))
        .await;
    assert_eq!(bearer, serde_json::json!([200, 200, 200, 200, 401]), "Bearer tokens from {other_site}");
    browser.quit().await;
}
