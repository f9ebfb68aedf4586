//! Every negative case of issue 24 through the front door: a client or redirect URI that
//! cannot be trusted gets a page and never a redirect; the rest go back to the app as §11
//! says; the token endpoint refuses reused, foreign and unproven codes; and an app's access
//! token is refused wherever the person's own sign-in is needed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;
use crate::helpers::{backend_tests, error_code, spawn_app};
use portcullis::domain::Role;

backend_tests!(
    an_unknown_app_or_redirect_uri_gets_a_page_never_a_redirect,
    request_errors_go_back_to_the_app_with_state_and_iss,
    a_public_app_without_pkce_or_with_plain_is_refused,
    a_reused_code_is_refused_and_revokes_what_it_issued,
    a_code_is_the_app_s_own_and_needs_its_verifier_and_redirect_uri,
    refresh_tokens_are_bound_to_their_app_and_reuse_ends_them,
    client_authentication_failures_are_refused_and_throttled,
    prompt_none_signed_out_and_a_denied_consent_answer_the_app,
    an_app_token_cannot_act_as_the_person,
);

async fn an_unknown_app_or_redirect_uri_gets_a_page_never_a_redirect() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let cases = [
        with(params(&client, "openid"), "client_id", "nobody"),
        without(params(&client, "openid"), "client_id"),
        with(params(&client, "openid"), "redirect_uri", "https://evil.example/cb"),
        with(params(&client, "openid"), "redirect_uri", &format!("{CALLBACK}/extra")),
        with(params(&client, "openid"), "redirect_uri", &format!("{CALLBACK}?x=1")),
        without(params(&client, "openid"), "redirect_uri"),
    ];
    for case in cases {
        let res = authorize(&app, &case).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{case:?}");
        assert!(res.headers().get("location").is_none());
        let page = res.text().await.expect("html");
        assert!(page.contains("not valid"), "{page}");
    }
}

async fn request_errors_go_back_to_the_app_with_state_and_iss() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let cases = [
        (with(params(&client, "openid"), "response_type", "token"), "unsupported_response_type"),
        (with(params(&client, "openid"), "scope", "openid admin"), "invalid_scope"),
        (with(params(&client, "openid"), "scope", "email"), "invalid_scope"),
        (with(params(&client, "openid"), "request", "eyJ.x.y"), "request_not_supported"),
        (with(params(&client, "openid"), "prompt", "none login"), "invalid_request"),
        (with(params(&client, "openid"), "max_age", "soon"), "invalid_request"),
        (with(params(&client, "openid"), "response_mode", "fragment"), "invalid_request"),
    ];
    for (case, error) in cases {
        let back = answer(&authorize(&app, &case).await);
        assert_eq!(back["error"], error, "{case:?}");
        assert_eq!(back["state"], "st-123");
        assert_eq!(back["iss"], app.address);
        assert!(!back.contains_key("code"));
    }
}

async fn a_public_app_without_pkce_or_with_plain_is_refused() {
    let app = spawn_app().await;
    let spa = register(&app, true, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let missing = without(without(params(&spa, "openid"), "code_challenge"), "code_challenge_method");
    assert_eq!(answer(&authorize(&app, &missing).await)["error"], "invalid_request");
    let plain =
        with(with(params(&spa, "openid"), "code_challenge", VERIFIER), "code_challenge_method", "plain");
    assert_eq!(answer(&authorize(&app, &plain).await)["error"], "invalid_request");
    let no_method = without(params(&spa, "openid"), "code_challenge_method");
    assert_eq!(answer(&authorize(&app, &no_method).await)["error"], "invalid_request");
    // A public app with the verifier but no secret works; without the verifier it does not.
    let code = code_for(&app, &spa, "openid").await;
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
    let res = token(&app, &spa, &form).await;
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_grant");
}

async fn a_reused_code_is_refused_and_revokes_what_it_issued() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let code = code_for(&app, &client, "openid offline_access").await;
    let set = tokens(&app, &client, &code).await;
    let again = redeem(&app, &client, &code).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert_eq!(again.json::<Value>().await.expect("json")["error"], "invalid_grant");
    let access = set["access_token"].as_str().expect("access");
    assert_eq!(userinfo(&app, access).await.status(), StatusCode::UNAUTHORIZED, "the first use's tokens die");
    let refresh = set["refresh_token"].as_str().expect("refresh");
    let res = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_grant");
}

async fn a_code_is_the_app_s_own_and_needs_its_verifier_and_redirect_uri() {
    let app = spawn_app().await;
    let (a, b) = (register(&app, false, true), register(&app, false, true));
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let code = code_for(&app, &a, "openid").await;
    assert_eq!(redeem(&app, &b, &code).await.json::<Value>().await.expect("json")["error"], "invalid_grant");
    let wrong_verifier = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CALLBACK),
        ("code_verifier", "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl"),
    ];
    assert_eq!(
        token(&app, &a, &wrong_verifier).await.json::<Value>().await.expect("json")["error"],
        "invalid_grant"
    );
    let code = code_for(&app, &a, "openid").await;
    let other_uri = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", LOGGED_OUT),
        ("code_verifier", VERIFIER),
    ];
    assert_eq!(
        token(&app, &a, &other_uri).await.json::<Value>().await.expect("json")["error"],
        "invalid_grant"
    );

    // A code issued without a challenge refuses a verifier (RFC 9700 §4.8.2).
    let bare = without(without(params(&a, "openid"), "code_challenge"), "code_challenge_method");
    let code = answer(&authorize(&app, &bare).await)["code"].clone();
    assert_eq!(redeem(&app, &a, &code).await.json::<Value>().await.expect("json")["error"], "invalid_grant");
    let code = answer(&authorize(&app, &bare).await)["code"].clone();
    let form = [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", CALLBACK)];
    assert_eq!(token(&app, &a, &form).await.status(), StatusCode::OK, "confidential without PKCE is fine");
    // The authorization_code grant without any client is invalid_client.
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/token"))
        .form(&[("grant_type", "authorization_code"), ("code", "x"), ("redirect_uri", CALLBACK)])
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_client");
}

async fn refresh_tokens_are_bound_to_their_app_and_reuse_ends_them() {
    let app = spawn_app().await;
    let (a, b) = (register(&app, false, true), register(&app, false, true));
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let set = tokens(&app, &a, &code_for(&app, &a, "openid offline_access").await).await;
    let refresh = set["refresh_token"].as_str().expect("refresh").to_owned();
    let theirs = token(&app, &b, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(theirs.json::<Value>().await.expect("json")["error"], "invalid_grant");
    // Portcullis's own refresh grant does not take it either.
    let first_party = reqwest::Client::new()
        .post(app.url("/api/auth/token"))
        .form(&[("grant_type", "refresh_token"), ("refresh_token", refresh.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(first_party.status(), StatusCode::BAD_REQUEST);
    let rotated = token(&app, &a, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    let rotated: Value = rotated.json().await.expect("json");
    let next = rotated["refresh_token"].as_str().expect("next").to_owned();
    // Within the grace window the previous token gets the same successor, not a second chain.
    let retry = token(&app, &a, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(retry.json::<Value>().await.expect("json")["refresh_token"], next.as_str());
    // Refresh tokens only with offline_access.
    let no_offline = tokens(&app, &a, &code_for(&app, &a, "openid").await).await;
    assert!(no_offline.get("refresh_token").is_none());
    // A token that is neither current nor the previous one is theft: the chain ends.
    let _ = token(&app, &a, &[("grant_type", "refresh_token"), ("refresh_token", &next)]).await;
    let stale = token(&app, &a, &[("grant_type", "refresh_token"), ("refresh_token", &refresh)]).await;
    assert_eq!(stale.json::<Value>().await.expect("json")["error"], "invalid_grant");
    let after = token(&app, &a, &[("grant_type", "refresh_token"), ("refresh_token", &next)]).await;
    assert_eq!(after.json::<Value>().await.expect("json")["error"], "invalid_grant");
}

async fn client_authentication_failures_are_refused_and_throttled() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let wrong = App { id: client.id.clone(), secret: Some("not-the-secret".into()) };
    let res = token(&app, &wrong, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_client");
    let basic = reqwest::Client::new()
        .post(app.url("/api/auth/token"))
        .basic_auth(&client.id, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("request");
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    assert!(basic.headers()["www-authenticate"].to_str().expect("ascii").starts_with("Basic"));
    let both = reqwest::Client::new()
        .post(app.url("/api/auth/token"))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[("grant_type", "client_credentials"), ("client_secret", "x")])
        .send()
        .await
        .expect("request");
    assert_eq!(both.json::<Value>().await.expect("json")["error"], "invalid_request");
    // A public app's id with a secret, or a confidential app's without one, is no proof.
    let no_secret = App { id: client.id.clone(), secret: None };
    assert_eq!(
        token(&app, &no_secret, &[("grant_type", "client_credentials")]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut last = StatusCode::OK;
    for _ in 0..12 {
        last = token(&app, &wrong, &[("grant_type", "client_credentials")]).await.status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "failed client authentication is throttled");
    // The password grant is for Portcullis's own use, never a registered app's.
    let user = app.add_user(Role::User);
    let other = register(&app, false, false);
    let res = token(
        &app,
        &other,
        &[("grant_type", "password"), ("username", &user.email), ("password", &user.password)],
    )
    .await;
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "unauthorized_client");
}

async fn prompt_none_signed_out_and_a_denied_consent_answer_the_app() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let silent = with(params(&client, "openid"), "prompt", "none");
    assert_eq!(answer(&authorize(&app, &silent).await)["error"], "login_required");
    // Signed out and not silent: to the sign-in page, coming back to the same request.
    let res = authorize(&app, &params(&client, "openid")).await;
    assert!(location(&res).starts_with("/login?next=%2Foauth%2Fauthorize%3F"), "{}", location(&res));
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    assert_eq!(answer(&authorize(&app, &silent).await)["error"], "consent_required");
    let asked = params(&client, "openid");
    assert_eq!(authorize(&app, &asked).await.status(), StatusCode::OK);
    let denied = answer(&consent(&app, &asked, "deny").await);
    assert_eq!(denied["error"], "access_denied");
    assert_eq!(denied["state"], "st-123");
    // The consent form without its CSRF token is refused.
    let mut form: Vec<(&str, &str)> = asked.iter().map(|(k, v)| (*k, v.as_str())).collect();
    form.push(("decision", "allow"));
    let forged = app.post_form("/oauth/authorize", &form).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

async fn an_app_token_cannot_act_as_the_person() {
    let app = spawn_app().await;
    let client = register(&app, false, true);
    let admin = app.add_user(Role::Admin);
    app.login_as(&admin).await;
    let set = tokens(&app, &client, &code_for(&app, &client, "openid email").await).await;
    let access = set["access_token"].as_str().expect("access");
    let body = json!({"current_password": admin.password, "new_password": "a whole new passphrase here"});
    for (method, path, body) in [
        (Method::POST, "/api/account/password", Some(body)),
        (Method::GET, "/api/admin/users", None),
        (Method::GET, "/api/me", None),
        (Method::GET, "/api/sessions", None),
        (Method::GET, "/api/account/apps", None),
    ] {
        let res = app.bearer_call(access, method, path, body).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert!(res.headers()["www-authenticate"].to_str().expect("ascii").contains("insufficient_scope"));
        assert_eq!(error_code(res).await, "insufficient_scope", "{path}");
    }
    let forward = reqwest::Client::new()
        .get(app.url("/api/auth/verify"))
        .bearer_auth(access)
        .send()
        .await
        .expect("verify");
    assert_ne!(forward.status(), StatusCode::OK, "forward auth does not take an app token");
    // And an ID token is no access token anywhere.
    let id = set["id_token"].as_str().expect("id");
    assert_eq!(app.me_with_bearer(id).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(userinfo(&app, id).await.status(), StatusCode::UNAUTHORIZED);
}
