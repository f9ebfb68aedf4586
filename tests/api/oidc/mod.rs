//! Portcullis as an OpenID Connect provider (SPEC §11), driven through the front door on both
//! backends: a signed-in browser (the cookie-keeping client) authorizes, consents and is sent
//! back with a code; the app redeems it at `/api/auth/token`, verifies the ID token with the
//! JWKS, calls userinfo, refreshes and revokes. `refusals.rs` holds the negative cases,
//! `control.rs` what the person and a credential change end.

mod apache;
mod control;
mod flow;
mod refusals;
mod relying_parties;

use std::collections::HashMap;

use reqwest::{Response, StatusCode};
use serde_json::Value;

use crate::helpers::TestApp;

pub const CALLBACK: &str = "http://127.0.0.1:9/callback";
pub const LOGGED_OUT: &str = "http://127.0.0.1:9/logged-out";
/// RFC 7636 Appendix B.
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A registered app: its id and, when confidential, its secret.
pub struct App {
    pub id: String,
    pub secret: Option<String>,
}

/// Registers an app straight through the register (as `portcullis client add` does).
pub fn register(app: &TestApp, public: bool, skip_consent: bool) -> App {
    register_app(app, CALLBACK, LOGGED_OUT, public, skip_consent)
}

/// An app with its own redirect and post-logout URIs (asked for consent, confidential unless
/// `public`).
pub fn register_with(app: &TestApp, redirect_uri: &str, logged_out: &str, public: bool) -> App {
    register_app(app, redirect_uri, logged_out, public, false)
}

/// An app whose ID tokens are signed with `alg`.
pub fn register_alg(app: &TestApp, alg: portcullis::keys::Alg) -> App {
    register_app_as(app, CALLBACK, LOGGED_OUT, false, true, alg)
}

fn register_app(
    app: &TestApp,
    redirect_uri: &str,
    logged_out: &str,
    public: bool,
    skip_consent: bool,
) -> App {
    register_app_as(app, redirect_uri, logged_out, public, skip_consent, portcullis::keys::Alg::RS256)
}

fn register_app_as(
    app: &TestApp,
    redirect_uri: &str,
    logged_out: &str,
    public: bool,
    skip_consent: bool,
    id_token_alg: portcullis::keys::Alg,
) -> App {
    use portcullis::auth::provider::clients::{self, ClientSpec};
    let spec = ClientSpec {
        name: format!("App {}", crate::helpers::random_hex()),
        redirect_uris: vec![redirect_uri.to_owned()],
        post_logout_redirect_uris: vec![logged_out.to_owned()],
        public,
        skip_consent,
        id_token_alg,
    };
    let mut conn = app.pool.get().expect("conn");
    let made = clients::add(&mut conn, &spec).expect("registered");
    App { id: made.client_id, secret: made.client_secret }
}

/// The authorization request's parameters for `client`, with PKCE.
pub fn params(client: &App, scope: &str) -> Vec<(&'static str, String)> {
    vec![
        ("response_type", "code".to_owned()),
        ("client_id", client.id.clone()),
        ("redirect_uri", CALLBACK.to_owned()),
        ("scope", scope.to_owned()),
        ("state", "st-123".to_owned()),
        ("nonce", "n-456".to_owned()),
        ("code_challenge", CHALLENGE.to_owned()),
        ("code_challenge_method", "S256".to_owned()),
    ]
}

pub fn with(
    mut params: Vec<(&'static str, String)>,
    name: &'static str,
    value: &str,
) -> Vec<(&'static str, String)> {
    params.retain(|(k, _)| *k != name);
    params.push((name, value.to_owned()));
    params
}

pub fn without(mut params: Vec<(&'static str, String)>, name: &str) -> Vec<(&'static str, String)> {
    params.retain(|(k, _)| *k != name);
    params
}

pub async fn authorize(app: &TestApp, params: &[(&'static str, String)]) -> Response {
    let query = serde_urlencoded::to_string(params).expect("query");
    app.get(&format!("/oauth/authorize?{query}")).await
}

/// Answers the consent page (`allow` or `deny`) with the page's CSRF token.
pub async fn consent(app: &TestApp, params: &[(&'static str, String)], decision: &str) -> Response {
    let csrf = app.cookie("csrf_token").expect("a csrf cookie");
    let mut form: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("csrf_token", &csrf));
    form.push(("decision", decision));
    app.post_form("/oauth/authorize", &form).await
}

/// The `Location` of a redirect.
pub fn location(res: &Response) -> String {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a redirect");
    res.headers()["location"].to_str().expect("ascii").to_owned()
}

/// The query parameters of a redirect back to the app.
pub fn answer(res: &Response) -> HashMap<String, String> {
    let location = location(res);
    let (base, query) = location.split_once('?').expect("a query");
    assert_eq!(base, CALLBACK, "back to the registered redirect URI");
    serde_urlencoded::from_str(query).expect("query")
}

/// Signs in, authorizes (consenting when asked) and returns the code.
pub async fn code_for(app: &TestApp, client: &App, scope: &str) -> String {
    let params = params(client, scope);
    let mut res = authorize(app, &params).await;
    if res.status() == StatusCode::OK {
        let page = res.text().await.expect("page");
        assert!(page.contains(r#"name="decision" value="allow""#), "the consent page: {page}");
        res = consent(app, &params, "allow").await;
    }
    let back = answer(&res);
    assert_eq!(back["state"], "st-123");
    assert_eq!(back["iss"], app.address, "RFC 9207: iss on the answer");
    back["code"].clone()
}

/// A token request as the app makes it (client_secret_post, or a public client's id).
pub async fn token(app: &TestApp, client: &App, form: &[(&str, &str)]) -> Response {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    form.push(("client_id", &client.id));
    if let Some(secret) = &client.secret {
        form.push(("client_secret", secret));
    }
    reqwest::Client::new().post(app.url("/api/auth/token")).form(&form).send().await.expect("request")
}

pub async fn redeem(app: &TestApp, client: &App, code: &str) -> Response {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    token(app, client, &form).await
}

/// Redeems a code that must work; the token answer.
pub async fn tokens(app: &TestApp, client: &App, code: &str) -> Value {
    let res = redeem(app, client, code).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    res.json().await.expect("json")
}

pub async fn userinfo(app: &TestApp, access_token: &str) -> Response {
    reqwest::Client::new()
        .get(app.url("/api/oauth/userinfo"))
        .bearer_auth(access_token)
        .send()
        .await
        .expect("request")
}

/// Verifies an ID token with the published JWKS, as a relying party does; its claims.
pub async fn verified_id_token(app: &TestApp, client: &App, id_token: &str) -> Value {
    use jsonwebtoken::{DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
    let header = decode_header(id_token).expect("a header");
    let jwks: JwkSet = app.get("/.well-known/jwks.json").await.json().await.expect("jwks");
    let jwk = jwks.find(header.kid.as_deref().expect("kid")).expect("the key is published");
    let mut validation = Validation::new(header.alg);
    validation.set_audience(&[&client.id]);
    validation.set_issuer(&[&app.address]);
    decode::<Value>(id_token, &DecodingKey::from_jwk(jwk).expect("key"), &validation)
        .expect("verifies")
        .claims
}
