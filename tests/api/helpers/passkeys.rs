//! Passkeys without a person: a software authenticator (webauthn-authenticator-rs) answers the
//! real server's ceremonies; passkeys need a host name, so the app is put on `localhost`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_authenticator_rs::softpasskey::SoftPasskey;
use webauthn_rs::prelude::{CreationChallengeResponse, Url};

use super::{TestApp, free_port};

/// Settings on a free port of `localhost` (passkeys refuse IP addresses).
pub fn on_localhost(s: &mut portcullis::config::Settings) {
    let port = free_port();
    s.addr = format!("127.0.0.1:{port}").parse().unwrap();
    s.public_url = Some(portcullis::config::PublicUrl::parse(&format!("http://localhost:{port}")).unwrap());
}

/// Answers a passkey registration as an authenticator would, for `app`'s origin.
pub fn soft_register(app: &TestApp, options: &Value) -> Value {
    soft_register_for(&app.address.replace("127.0.0.1", "localhost"), options)
}

/// The same for the page origin `origin`. The software authenticator keeps no resident keys,
/// so the test lifts that requirement (the server cannot see it anyway).
pub fn soft_register_for(origin: &str, options: &Value) -> Value {
    let mut options = options.clone();
    let selection = &mut options["publicKey"]["authenticatorSelection"];
    selection["residentKey"] = json!("discouraged");
    selection["requireResidentKey"] = json!(false);
    let ccr: CreationChallengeResponse = serde_json::from_value(options).expect("creation options");
    let origin = Url::parse(origin).unwrap();
    let credential = SoftPasskey::new(true).do_registration(origin, ccr).expect("the authenticator answers");
    serde_json::to_value(credential).unwrap()
}

/// A passkey options request with `body`.
pub async fn passkey_options(app: &TestApp, token: &str, body: Option<Value>) -> reqwest::Response {
    app.bearer_call(token, Method::POST, "/api/account/passkeys/options", body).await
}

/// Adds a passkey named `name` with an access token and the password; returns the answer.
pub async fn add_passkey(app: &TestApp, token: &str, password: &str, name: &str) -> reqwest::Response {
    let started = passkey_options(app, token, Some(json!({"password": password}))).await;
    assert_eq!(started.status(), StatusCode::OK);
    let started: Value = started.json().await.unwrap();
    let credential = soft_register(app, &started["options"]);
    let body = json!({"ceremony": started["ceremony"], "name": name, "credential": credential});
    app.bearer_call(token, Method::POST, "/api/account/passkeys", Some(body)).await
}
