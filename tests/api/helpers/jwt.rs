//! Reading tokens as another service would, and the key ring as an operator drives it.

use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::StatusCode;
use serde_json::Value;

use super::{TestApp, TestUser};

/// A JWT's header and claims, decoded without any check.
pub fn parts(token: &str) -> (Value, Value) {
    let mut it = token.split('.');
    let mut next = || serde_json::from_slice(&URL_SAFE_NO_PAD.decode(it.next().unwrap()).unwrap()).unwrap();
    (next(), next())
}

/// The `kid` in a JWT's header.
pub fn kid_of(token: &str) -> String {
    parts(token).0["kid"].as_str().expect("a kid").to_owned()
}

/// The JWKS `base` publishes.
pub async fn jwks(base: &str) -> Value {
    let res = reqwest::get(format!("{base}/.well-known/jwks.json")).await.expect("request");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

/// An access and a refresh token for `user` from the token endpoint at `base`.
pub async fn token_pair_at(base: &str, user: &TestUser) -> (String, String) {
    let form = [("grant_type", "password"), ("username", &user.email), ("password", &user.password)];
    let res = reqwest::Client::new().post(format!("{base}/api/auth/token")).form(&form).send().await;
    let body: Value = res.expect("request").json().await.expect("json");
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

/// `portcullis keys …` as an operator runs it, on `app`'s key file.
pub fn keys_command(app: &TestApp, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("keys")
        .args(args)
        .env("PORTCULLIS_KEY_FILE", &app.settings.key_file)
        .env("PORTCULLIS_JWT_SECRET", "")
        .env("PORTCULLIS_JWT_ALG", app.settings.jwt_alg.as_str())
        .output()
        .expect("portcullis runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "keys {args:?} failed: {text}");
    text
}

/// Polls until `base` hands out access tokens signed by a key other than `old_kid`.
pub async fn wait_for_new_kid(base: &str, user: &TestUser, old_kid: &str) -> String {
    for _ in 0..100 {
        let (access, _) = token_pair_at(base, user).await;
        if kid_of(&access) != old_kid {
            return access;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{base} never picked up the rotated key");
}
