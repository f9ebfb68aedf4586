//! GitHub as a provider (SPEC §13), against a small GitHub-shaped server started here (its
//! OAuth endpoints and the two API routes Portcullis reads, at Enterprise-style base URLs):
//! the link is keyed on the numeric id, only the primary address counts and only if GitHub
//! verified it, and a bad code comes back as a page.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::{Value, json};

use crate::helpers::{TestApp, backend_tests, client_with, provider_add, serve, spawn_app};

backend_tests!(
    github_signs_in_by_its_numeric_id_and_verified_primary_address,
    an_unverified_github_address_makes_no_account,
);

#[derive(Clone)]
struct Person {
    id: u64,
    email: String,
    verified: bool,
}

/// The GitHub-shaped server: `base` is its web URL, `{base}/api/v3` its API.
fn start_github(person: Person) -> String {
    serve(move |cfg| {
        cfg.app_data(web::Data::new(person.clone()))
            .route("/login/oauth/authorize", web::get().to(authorize))
            .route("/login/oauth/access_token", web::post().to(access_token))
            .route("/api/v3/user", web::get().to(user))
            .route("/api/v3/user/emails", web::get().to(emails));
    })
}

fn add_github(down: &TestApp, name: &str, base: &str) {
    let api = format!("{base}/api/v3");
    provider_add(
        down,
        &[name, "--github", "--web-url", base, "--api-url", &api, "--client-id", "gh-client"],
        "gh-secret",
    );
}

/// GitHub approves at once (the person has authorized the app before).
async fn authorize(query: web::Query<Vec<(String, String)>>) -> HttpResponse {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(get("code_challenge_method"), "S256");
    let back = format!(
        "{}?{}",
        get("redirect_uri"),
        serde_urlencoded::to_string([("code", "the-code"), ("state", &get("state"))]).expect("q")
    );
    HttpResponse::Found().insert_header(("location", back)).finish()
}

async fn access_token(req: HttpRequest, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!(req.headers().get("accept").and_then(|v| v.to_str().ok()), Some("application/json"));
    if get("code") != "the-code" || get("client_secret") != "gh-secret" || get("code_verifier").len() < 43 {
        // GitHub's way: 200 with an error.
        return HttpResponse::Ok().json(json!({"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."}));
    }
    HttpResponse::Ok()
        .json(json!({"access_token": "gho_test", "token_type": "bearer", "scope": "read:user,user:email"}))
}

fn authorized(req: &HttpRequest) -> bool {
    req.headers().get("authorization").and_then(|v| v.to_str().ok()) == Some("Bearer gho_test")
}

async fn user(req: HttpRequest, person: web::Data<Person>) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Bad credentials"}));
    }
    // The login and the public email are a person's to change: Portcullis must not key on them.
    HttpResponse::Ok().json(json!({"id": person.id, "login": "octocat", "email": "public@example.org"}))
}

async fn emails(req: HttpRequest, person: web::Data<Person>) -> HttpResponse {
    if !authorized(&req) {
        return HttpResponse::Unauthorized().json(json!({"message": "Bad credentials"}));
    }
    HttpResponse::Ok().json(json!([
        {"email": "secondary@example.org", "primary": false, "verified": true},
        {"email": person.email, "primary": true, "verified": person.verified},
    ]))
}

/// Through "Sign in with NAME" to the answer of the callback.
async fn sign_in(down: &TestApp, browser: &reqwest::Client, name: &str) -> reqwest::Response {
    let res = browser
        .get(down.url(&format!("/login/provider/{name}?next=%2Faccount")))
        .send()
        .await
        .expect("start");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let to_github = res.headers()["location"].to_str().expect("ascii").to_owned();
    assert!(
        to_github.contains("/login/oauth/authorize?") && to_github.contains("scope=read%3Auser+user%3Aemail"),
        "{to_github}"
    );
    let res = browser.get(&to_github).send().await.expect("github");
    let callback = res.headers()["location"].to_str().expect("ascii").to_owned();
    browser.get(&callback).send().await.expect("callback")
}

async fn github_signs_in_by_its_numeric_id_and_verified_primary_address() {
    let down = spawn_app().await;
    let base = start_github(Person { id: 4242, email: "octo@example.org".into(), verified: true });
    add_github(&down, "github", &base);
    let page = reqwest::get(down.url("/login")).await.expect("login").text().await.expect("html");
    assert!(page.contains("Sign in with <bdi>github</bdi>"), "{page}");
    let browser = client_with(Arc::new(Jar::default()));
    let res = sign_in(&down, &browser, "github").await;
    assert_eq!(res.headers()["location"], "/account");
    let me: Value = browser.get(down.url("/api/me")).send().await.expect("me").json().await.expect("json");
    assert_eq!(me["email"], "octo@example.org", "the primary, verified address; not the public one");
    let links = {
        use diesel::{QueryDsl, RunQueryDsl};
        use portcullis::db::schema::upstream_links as l;
        let mut conn = down.pool.get().expect("conn");
        l::table.select((l::issuer, l::subject)).load::<(String, String)>(&mut **conn).expect("links")
    };
    assert_eq!(links, vec![(base.clone(), "4242".to_owned())], "keyed on GitHub's numeric id");
    let again = client_with(Arc::new(Jar::default()));
    assert_eq!(sign_in(&down, &again, "github").await.headers()["location"], "/account");
    let me2: Value = again.get(down.url("/api/me")).send().await.expect("me").json().await.expect("json");
    assert_eq!(me2["id"], me["id"]);
}

async fn an_unverified_github_address_makes_no_account() {
    let down = spawn_app().await;
    let base = start_github(Person { id: 7, email: "claimed@example.org".into(), verified: false });
    add_github(&down, "github", &base);
    let browser = client_with(Arc::new(Jar::default()));
    let res = sign_in(&down, &browser, "github").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("html").contains("has not verified"));
    // A code GitHub does not know: its error is a page.
    let res = browser.get(down.url("/login/provider/github?next=%2F")).send().await.expect("start");
    let to_github = res.headers()["location"].to_str().expect("ascii").to_owned();
    let state = to_github.split("state=").nth(1).and_then(|r| r.split('&').next()).expect("state");
    let bad = browser
        .get(down.url(&format!("/login/provider/github/callback?code=wrong&state={state}")))
        .send()
        .await
        .expect("cb");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.expect("html").contains("bad_verification_code"));
}
