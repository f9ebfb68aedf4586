use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use portcullis::domain::Role;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::parts;
use crate::helpers::{TestApp, error_code, spawn_app, spawn_app_with};

const SECRET: &str = "integration-test-secret-of-at-least-32-bytes";

async fn app_with_known_secret() -> TestApp {
    spawn_app_with(|s| s.jwt_secret = Some(SecretString::from(SECRET))).await
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

fn forge(header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let sig = portcullis::keys::hmac_sha256(SECRET.as_bytes(), input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

async fn a_signed_token_whose_claims_are_not_utf8_is_refused() {
    let app = app_with_known_secret().await;
    let user = app.add_user(Role::User);
    let (header, claims) = parts(&app.bearer_for(&user).await);
    let mut payload = claims.to_string().into_bytes();
    payload.pop();
    payload.extend_from_slice(b",\"x\":\"\xff\xfe\"}");
    let input = format!("{}.{}", b64(&header), URL_SAFE_NO_PAD.encode(&payload));
    let sig = portcullis::keys::hmac_sha256(SECRET.as_bytes(), input.as_bytes());
    let token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
    let res = app.me_with_bearer(&token).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(error_code(res).await, "invalid_token");
}

async fn the_password_grant_returns_an_rfc6749_token_response() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let res = app.token(&user.email, &user.password).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["token_type"], "Bearer");
    assert!(body["expires_in"].as_i64().unwrap() > 800);
    let (header, claims) = parts(body["access_token"].as_str().unwrap());
    assert_eq!(header["typ"], "at+jwt");
    assert_eq!(header["alg"], "EdDSA", "generated keys are Ed25519 by default");
    assert!(header["kid"].is_string());
    for claim in ["iss", "aud", "sub", "exp", "iat", "jti", "sid", "role"] {
        assert!(!claims[claim].is_null(), "{claim} missing");
    }
    assert_eq!(claims["sub"], user.id.as_str());
    assert_eq!(claims["role"], "user");
    let (refresh_header, refresh_claims) = parts(body["refresh_token"].as_str().unwrap());
    assert_ne!(refresh_header["typ"], header["typ"]);
    assert_eq!(refresh_claims["sid"], claims["sid"]);
    assert_ne!(refresh_claims["jti"], claims["jti"]);
}

async fn a_bearer_token_reaches_api_me() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let res = app.me_with_bearer(&token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let me: Value = res.json().await.unwrap();
    assert_eq!(me["email"], user.email.as_str());
}

async fn token_endpoint_errors_follow_rfc6749() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (
            vec![
                ("grant_type", "password"),
                ("username", &user.email),
                ("password", "wrong wrong wrong wrong"),
            ],
            "invalid_grant",
        ),
        (
            vec![("grant_type", "password"), ("username", "nobody@example.com"), ("password", "x")],
            "invalid_grant",
        ),
        (vec![("grant_type", "implicit")], "unsupported_grant_type"),
        (vec![("username", &user.email)], "invalid_request"),
        (vec![("grant_type", "password"), ("username", &user.email)], "invalid_request"),
    ];
    for (form, expected) in cases {
        let res = app.post_form("/api/auth/token", &form).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{form:?}");
        assert_eq!(res.headers()["cache-control"], "no-store");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], expected, "{form:?}");
        assert!(body["error_description"].is_string());
    }
    let json = app.post_json("/api/auth/token", &json!({"grant_type": "password"})).await;
    assert_eq!(json.status(), StatusCode::BAD_REQUEST);
    // The app grants need an app (SPEC §11): RFC 6749 §5.2 `invalid_client`, 401.
    for grant in ["client_credentials", "authorization_code"] {
        let res = app.post_form("/api/auth/token", &[("grant_type", grant), ("code", "x")]).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{grant}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "invalid_client");
    }
}

async fn missing_or_garbage_bearer_tokens_get_401_with_a_challenge() {
    let app = spawn_app().await;
    let res = reqwest::get(app.url("/api/me")).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.headers()["www-authenticate"], r#"Bearer realm="portcullis""#);
    assert_eq!(error_code(res).await, "unauthorized");
    for junk in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", &"x".repeat(10_000)] {
        let res = app.me_with_bearer(junk).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{junk:.20}");
        assert!(res.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
        assert_eq!(error_code(res).await, "invalid_token");
    }
    let basic =
        reqwest::Client::new().get(app.url("/api/me")).basic_auth("a", Some("b")).send().await.unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
}

async fn forged_tokens_are_refused_at_the_front_door() {
    let app = app_with_known_secret().await;
    let user = app.add_user(Role::User);
    let genuine = app.bearer_for(&user).await;
    let (header, claims) = parts(&genuine);
    // The helper is faithful: re-signing the genuine token's parts is accepted.
    assert_eq!(app.me_with_bearer(&forge(&header, &claims)).await.status(), StatusCode::OK);

    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut none_header = header.clone();
    none_header["alg"] = json!("none");
    let mut bad_sig = genuine.clone();
    bad_sig.pop();
    bad_sig.push(if genuine.ends_with('A') { 'B' } else { 'A' });
    let with = |field: &str, value: Value| {
        let mut c = claims.clone();
        c[field] = value;
        forge(&header, &c)
    };
    let with_header = |field: &str, value: Value| {
        let mut h = header.clone();
        h[field] = value;
        forge(&h, &claims)
    };
    let cases = [
        ("alg none", format!("{}.{}.", b64(&none_header), b64(&claims))),
        ("bad signature", bad_sig),
        ("expired", with("exp", json!(now - 120))),
        ("wrong issuer", with("iss", json!("https://evil.example"))),
        ("wrong audience", with("aud", json!("https://evil.example/api"))),
        ("issued in the future", with("iat", json!(now + 3600))),
        ("not yet valid", with("nbf", json!(now + 3600))),
        ("someone else's session", with("sid", json!("not-a-session"))),
        ("refresh typ", with_header("typ", json!("rt+jwt"))),
        ("unknown kid", with_header("kid", json!("other"))),
        ("embedded jwk", with_header("jwk", json!({"kty": "oct", "k": URL_SAFE_NO_PAD.encode(SECRET)}))),
        ("HS512", with_header("alg", json!("HS512"))),
    ];
    for (what, token) in cases {
        let res = app.me_with_bearer(&token).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{what} was accepted");
        assert_eq!(error_code(res).await, "invalid_token", "{what}");
    }
}

async fn a_refresh_token_is_not_accepted_as_an_access_token() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let body: Value = app.token(&user.email, &user.password).await.json().await.unwrap();
    let res = app.me_with_bearer(body["refresh_token"].as_str().unwrap()).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

crate::helpers::backend_tests!(
    a_signed_token_whose_claims_are_not_utf8_is_refused,
    the_password_grant_returns_an_rfc6749_token_response,
    a_bearer_token_reaches_api_me,
    token_endpoint_errors_follow_rfc6749,
    missing_or_garbage_bearer_tokens_get_401_with_a_challenge,
    forged_tokens_are_refused_at_the_front_door,
    a_refresh_token_is_not_accepted_as_an_access_token,
);
