//! The happy paths: discovery, a confidential and a public app through code, ID token,
//! userinfo, refresh and revocation; `client_credentials`; remembered consent; skip-consent.

use reqwest::StatusCode;
use serde_json::Value;

use super::*;
use crate::helpers::{backend_tests, spawn_app, spawn_app_with};
use portcullis::domain::Role;

backend_tests!(
    discovery_names_every_endpoint_and_is_off_in_hs256_mode,
    a_confidential_app_signs_a_person_in_and_refreshes_and_revokes,
    a_public_app_uses_pkce_and_no_secret,
    consent_is_asked_once_per_scopes_and_never_for_first_party_apps,
    client_credentials_names_the_app_and_no_person,
    prompt_login_and_max_age_ask_for_the_password_again,
    id_tokens_are_rs256_unless_the_app_asked_for_es256_or_eddsa,
);

async fn id_tokens_are_rs256_unless_the_app_asked_for_es256_or_eddsa() {
    use portcullis::keys::Alg;
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    for alg in [Alg::RS256, Alg::ES256, Alg::EdDSA] {
        let client = register_alg(&app, alg);
        let set = tokens(&app, &client, &code_for(&app, &client, "openid").await).await;
        let id_token = set["id_token"].as_str().expect("an ID token");
        let (header, _) = crate::helpers::parts(id_token);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(header["typ"], "JWT", "never at+jwt");
        let claims = verified_id_token(&app, &client, id_token).await;
        assert_eq!(claims["sub"], user.id);
    }
}

async fn discovery_names_every_endpoint_and_is_off_in_hs256_mode() {
    let app = spawn_app().await;
    let res = app.get("/.well-known/openid-configuration").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.expect("json");
    let issuer = app.address.as_str();
    assert_eq!(doc["issuer"], issuer);
    for (key, path) in [
        ("authorization_endpoint", "/oauth/authorize"),
        ("token_endpoint", "/api/auth/token"),
        ("userinfo_endpoint", "/api/oauth/userinfo"),
        ("jwks_uri", "/.well-known/jwks.json"),
        ("end_session_endpoint", "/oauth/logout"),
        ("revocation_endpoint", "/api/auth/revoke"),
    ] {
        assert_eq!(doc[key], format!("{issuer}{path}"), "{key}");
    }
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(doc["code_challenge_methods_supported"], serde_json::json!(["S256"]));
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    assert_eq!(doc["subject_types_supported"], serde_json::json!(["public"]));
    for grant in ["authorization_code", "refresh_token", "client_credentials"] {
        assert!(
            doc["grant_types_supported"].as_array().expect("grants").iter().any(|g| g == grant),
            "{grant}"
        );
    }
    for method in ["client_secret_basic", "client_secret_post", "none"] {
        assert!(
            doc["token_endpoint_auth_methods_supported"]
                .as_array()
                .expect("methods")
                .iter()
                .any(|m| m == method)
        );
    }
    for scope in ["openid", "profile", "email", "offline_access"] {
        assert!(doc["scopes_supported"].as_array().expect("scopes").iter().any(|s| s == scope));
    }
    assert!(
        doc["id_token_signing_alg_values_supported"].as_array().expect("algs").iter().any(|a| a == "RS256")
    );
    let rfc8414: Value = app.get("/.well-known/oauth-authorization-server").await.json().await.expect("json");
    assert_eq!(rfc8414["authorization_endpoint"], doc["authorization_endpoint"]);
    assert!(rfc8414["grant_types_supported"].as_array().expect("grants").iter().any(|g| g == "password"));

    // Any origin may read it, without credentials.
    let res = reqwest::Client::new()
        .get(app.url("/.well-known/openid-configuration"))
        .header("origin", "https://spa.example")
        .send()
        .await
        .expect("request");
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert!(res.headers().get("access-control-allow-credentials").is_none());

    let hs256 = spawn_app_with(|s| {
        s.jwt_secret = Some(secrecy::SecretString::from("an HS256 secret of enough length, 32+ bytes"))
    })
    .await;
    assert_eq!(hs256.get("/.well-known/openid-configuration").await.status(), StatusCode::NOT_FOUND);
    let client = register(&hs256, false, true);
    let user = hs256.add_user(Role::User);
    hs256.login_as(&user).await;
    assert_eq!(authorize(&hs256, &params(&client, "openid")).await.status(), StatusCode::NOT_FOUND);
}

async fn a_confidential_app_signs_a_person_in_and_refreshes_and_revokes() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let code = code_for(&app, &client, "openid email profile offline_access").await;
    let set = tokens(&app, &client, &code).await;
    assert_eq!(set["token_type"], "Bearer");
    assert_eq!(set["scope"], "openid profile email offline_access");
    let id_token = set["id_token"].as_str().expect("an ID token");
    assert_eq!(crate::helpers::parts(id_token).0["alg"], "RS256", "RS256 by default");
    let claims = verified_id_token(&app, &client, id_token).await;
    assert_eq!(claims["sub"], user.id, "the same sub as Portcullis's own tokens");
    assert_eq!(claims["aud"], client.id);
    assert_eq!(claims["azp"], client.id);
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["email"], user.email);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["amr"], serde_json::json!(["pwd"]));
    assert!(claims["auth_time"].as_i64().is_some_and(|t| t <= claims["iat"].as_i64().unwrap_or(0)));

    let access = set["access_token"].as_str().expect("access token");
    let (_, access_claims) = crate::helpers::parts(access);
    assert_eq!(access_claims["aud"], format!("{}/apps", app.address), "its own audience");
    assert_eq!(access_claims["client_id"], client.id);
    assert!(access_claims.get("role").is_none() && access_claims.get("sid").is_none());
    let info = userinfo(&app, access).await;
    assert_eq!(info.status(), StatusCode::OK);
    let info: Value = info.json().await.expect("json");
    assert_eq!(info["sub"], user.id);
    assert_eq!(info["email"], user.email);

    // Refresh: a new pair; the old refresh token is spent.
    let refresh = set["refresh_token"].as_str().expect("a refresh token with offline_access");
    let res = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let renewed: Value = res.json().await.expect("json");
    let next_refresh = renewed["refresh_token"].as_str().expect("rotated").to_owned();
    assert_ne!(next_refresh, refresh);
    let renewed_id = verified_id_token(&app, &client, renewed["id_token"].as_str().expect("id token")).await;
    assert_eq!(renewed_id["auth_time"], claims["auth_time"], "the same sign-in");

    // Revocation (RFC 7009) with the app's credentials ends the chain and its access tokens.
    let basic = reqwest::Client::new()
        .post(app.url("/api/auth/revoke"))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(&[("token", next_refresh.as_str())])
        .send()
        .await
        .expect("request");
    assert_eq!(basic.status(), StatusCode::OK);
    let res =
        token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", &next_refresh)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let renewed_access = renewed["access_token"].as_str().expect("access");
    assert_eq!(userinfo(&app, renewed_access).await.status(), StatusCode::UNAUTHORIZED);
    assert!(app.event_kinds(&user).contains(&"app_authorized".to_owned()));
}

async fn a_public_app_uses_pkce_and_no_secret() {
    let app = spawn_app().await;
    let spa = register(&app, true, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let code = code_for(&app, &spa, "openid").await;
    let set = tokens(&app, &spa, &code).await;
    assert!(set.get("refresh_token").is_none(), "no offline_access, no refresh token");
    assert!(set["id_token"].is_string());
    // The token endpoint answers an SPA on any origin, without credentials.
    let res = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, app.url("/api/auth/token"))
        .header("origin", "https://spa.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .expect("preflight");
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let code = code_for(&app, &spa, "openid").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", &code),
        ("redirect_uri", CALLBACK),
        ("code_verifier", VERIFIER),
    ];
    let res = reqwest::Client::new()
        .post(app.url("/api/auth/token"))
        .header("origin", "https://spa.example")
        .form(&[&form[..], &[("client_id", spa.id.as_str())]].concat())
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), StatusCode::OK, "no Origin check on the token endpoint");
}

async fn consent_is_asked_once_per_scopes_and_never_for_first_party_apps() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let page = authorize(&app, &params(&client, "openid email")).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(
        csp.contains("form-action 'self' http://127.0.0.1:9"),
        "the consent form may end at the app: {csp}"
    );
    let html = page.text().await.expect("html");
    assert!(html.contains(r#"name="csrf_token""#) && html.contains(r#"value="deny""#));
    let _ = code_for(&app, &client, "openid email").await;
    // Remembered: the same scopes go straight back with a code.
    let again = authorize(&app, &params(&client, "openid email")).await;
    assert!(answer(&again).contains_key("code"), "no consent page the second time");
    // More scopes: asked again.
    assert_eq!(
        authorize(&app, &params(&client, "openid email offline_access")).await.status(),
        StatusCode::OK
    );
    // prompt=consent always asks.
    let forced = with(params(&client, "openid"), "prompt", "consent");
    assert_eq!(authorize(&app, &forced).await.status(), StatusCode::OK);

    let first_party = register(&app, false, true);
    let straight = authorize(&app, &params(&first_party, "openid email")).await;
    assert!(answer(&straight).contains_key("code"), "--skip-consent: never asked");
}

async fn client_credentials_names_the_app_and_no_person() {
    let app = spawn_app().await;
    let service = register(&app, false, false);
    let res = token(&app, &service, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set: Value = res.json().await.expect("json");
    assert!(set.get("id_token").is_none() && set.get("refresh_token").is_none());
    let access = set["access_token"].as_str().expect("access");
    let (_, claims) = crate::helpers::parts(access);
    assert_eq!(claims["sub"], service.id);
    assert_eq!(claims["client_id"], service.id);
    assert_eq!(crate::helpers::error_code(userinfo(&app, access).await).await, "insufficient_scope");
    let me = app.me_with_bearer(access).await;
    assert_eq!(me.status(), StatusCode::FORBIDDEN);

    let spa = register(&app, true, false);
    let res = token(&app, &spa, &[("grant_type", "client_credentials")]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["error"], "unauthorized_client");
    let res = token(&app, &service, &[("grant_type", "client_credentials"), ("scope", "openid")]).await;
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_scope");
}

async fn prompt_login_and_max_age_ask_for_the_password_again() {
    let app = spawn_app().await;
    let client = register(&app, false, true);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let fresh = with(params(&client, "openid"), "prompt", "login");
    let res = authorize(&app, &fresh).await;
    let login = location(&res);
    assert!(login.starts_with("/login?next=") && login.ends_with("&fresh=1"), "{login}");
    // login_hint fills in the address.
    let hinted = with(fresh.clone(), "login_hint", &user.email);
    let hinted = location(&authorize(&app, &hinted).await);
    let page = app.get(&hinted).await.text().await.expect("html");
    let field = page
        .split(r#"id="email""#)
        .nth(1)
        .unwrap_or_default()
        .split('>')
        .next()
        .unwrap_or_default()
        .to_owned();
    assert!(field.contains(&user.email), "the hint fills the field: {field}");
    // The login page asks even though someone is signed in, and lets the form go back to the app.
    let page = app.get(&login).await;
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"].to_str().expect("csp").to_owned();
    assert!(csp.contains("http://127.0.0.1:9"), "{csp}");
    let next: Vec<(String, String)> =
        serde_urlencoded::from_str(login.trim_start_matches("/login?")).expect("q");
    let next = next.into_iter().find(|(k, _)| k == "next").expect("next").1;
    assert!(!next.contains("prompt=login"), "{next}");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let csrf = app.cookie("csrf_token").expect("csrf");
    let res = app
        .post_form(
            "/login",
            &[("email", &user.email), ("password", &user.password), ("csrf_token", &csrf), ("next", &next)],
        )
        .await;
    let back = location(&res);
    assert!(back.starts_with("/oauth/authorize?"), "{back}");
    let res = app.get(&back).await;
    let code = answer(&res)["code"].clone();
    let set = tokens(&app, &client, &code).await;
    let claims = verified_id_token(&app, &client, set["id_token"].as_str().expect("id")).await;
    assert!(claims["auth_time"].as_i64().expect("auth_time") >= portcullis::db::now() - 5);

    // max_age=0 after a sign-in a second ago: asked again too; prompt=none gets login_required.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let old = with(params(&client, "openid"), "max_age", "0");
    assert!(location(&authorize(&app, &old).await).ends_with("&fresh=1"));
    let silent = with(old, "prompt", "none");
    assert_eq!(answer(&authorize(&app, &silent).await)["error"], "login_required");
}
