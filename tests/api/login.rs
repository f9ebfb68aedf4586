use portcullis::domain::Role;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_code, set_cookie, set_cookies, spawn_app, spawn_app_with};

async fn the_login_form_signs_in_and_redirects_to_the_account_page() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let res = app.login_form(&user.email, &user.password, false).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/account");
    let cookies = set_cookies(res.headers());
    let access = set_cookie(&cookies, "access_token").expect("access cookie");
    let refresh = set_cookie(&cookies, "refresh_token").expect("refresh cookie");
    for c in [access, refresh] {
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Lax") && c.contains("Path=/"), "{c}");
        assert!(
            !c.contains("Max-Age"),
            "without remember me the cookie must end with the browser session: {c}"
        );
        assert!(!c.contains("Secure"), "plain http deployment: {c}");
    }
    let account = app.get("/account").await;
    assert_eq!(account.status(), StatusCode::OK);
    assert!(account.text().await.unwrap().contains(&user.email));
}

async fn remember_me_makes_the_cookies_persistent() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let res = app.login_form(&user.email, &user.password, true).await;
    let cookies = set_cookies(res.headers());
    assert!(set_cookie(&cookies, "refresh_token").unwrap().contains("Max-Age="));
    assert!(set_cookie(&cookies, "access_token").unwrap().contains("Max-Age="));
}

async fn over_https_cookies_are_secure_and_host_prefixed() {
    let app = spawn_app_with(|s| {
        s.public_url = Some(portcullis::config::PublicUrl::parse("https://auth.example.com").unwrap());
    })
    .await;
    let user = app.add_user(Role::User);
    let res =
        app.post_json("/api/auth/login", &json!({"email": user.email, "password": user.password})).await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(res.headers());
    for name in ["__Host-access_token", "__Host-refresh_token", "__Host-csrf_token"] {
        let c = set_cookie(&cookies, name).unwrap_or_else(|| panic!("{name} missing: {cookies:?}"));
        assert!(c.contains("Secure") && c.contains("Path=/") && !c.contains("Domain"), "{c}");
    }
}

async fn wrong_password_and_unknown_email_get_the_same_generic_answer() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let wrong = app.login_form(&user.email, "not the right password at all", false).await;
    let unknown = app.login_form("nobody@example.com", &user.password, false).await;
    for res in [wrong, unknown] {
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(set_cookie(&set_cookies(res.headers()), "access_token").is_none());
        let body = res.text().await.unwrap();
        assert!(body.contains("That email and password do not match an account."));
        assert!(body.contains("role=\"alert\""));
    }
}

async fn a_disabled_user_cannot_sign_in() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.set_disabled_flag_only(&user);
    let res = app.login_form(&user.email, &user.password, false).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn emails_are_matched_case_insensitively() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let res = app.login_form(&format!("  {}  ", user.email.to_uppercase()), &user.password, false).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn next_is_followed_only_for_same_site_paths() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    for (next, expected) in [
        ("/account?tab=security", "/account?tab=security"),
        ("//evil.example/", "/account"),
        ("/\\evil.example", "/account"),
        ("https://evil.example/", "/account"),
        ("javascript:alert(1)", "/account"),
    ] {
        let csrf = app.csrf_token().await;
        let res = app
            .post_form(
                "/login",
                &[
                    ("email", &user.email),
                    ("password", &user.password),
                    ("csrf_token", &csrf),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], expected, "next={next}");
    }
}

async fn the_login_form_without_a_csrf_token_is_refused() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.csrf_token().await;
    let res = app.post_form("/login", &[("email", &user.email), ("password", &user.password)]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(set_cookie(&set_cookies(res.headers()), "access_token").is_none());
    let forged = app
        .post_form("/login", &[("email", &user.email), ("password", &user.password), ("csrf_token", "x.y")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
}

async fn json_login_returns_the_user_and_sets_cookies() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let res = app
        .post_json(
            "/api/auth/login",
            &json!({"email": user.email, "password": user.password, "remember": true}),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let cookies = set_cookies(res.headers());
    assert!(
        set_cookie(&cookies, "access_token").is_some() && set_cookie(&cookies, "refresh_token").is_some()
    );
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["email"], user.email.as_str());
    assert_eq!(body["id"], user.id.as_str());
    let me: serde_json::Value = app.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["email"], user.email.as_str());
    assert_eq!(me["role"], "user");
    assert!(me["created_at"].as_str().unwrap().ends_with('Z'));
}

async fn json_login_with_bad_credentials_is_a_401_with_the_error_shape() {
    let app = spawn_app().await;
    let res = app
        .post_json("/api/auth/login", &json!({"email": "no@example.com", "password": "whatever it is here"}))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    assert_eq!(error_code(res).await, "invalid_credentials");
}

async fn a_hash_with_weaker_parameters_is_upgraded_at_sign_in() {
    use argon2::{Algorithm, Argon2, Params, PasswordHasher, Version};
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    use portcullis::db::schema::users;
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let weak = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8192, 1, 1, None).unwrap())
        .hash_password(user.password.as_bytes())
        .unwrap()
        .to_string();
    let mut conn = app.pool.get().unwrap();
    diesel::update(users::table.find(&user.id))
        .set(users::password_hash.eq(&weak))
        .execute(&mut **conn)
        .unwrap();
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
    let stored: String = users::table.find(&user.id).select(users::password_hash).first(&mut **conn).unwrap();
    assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{stored}");
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
}

async fn a_password_typed_in_another_unicode_form_still_signs_in() {
    let app = spawn_app().await;
    let csrf = app.csrf_token().await;
    let composed = "\u{c5}ngstr\u{f6}m tangerine velvet";
    let decomposed = "A\u{30a}ngstro\u{308}m tangerine velvet";
    let res = app
        .post_form(
            "/register",
            &[
                ("email", "nfkc@example.com"),
                ("password", composed),
                ("password_confirm", composed),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.token("nfkc@example.com", decomposed).await.status(), StatusCode::OK);
}

crate::helpers::backend_tests!(
    the_login_form_signs_in_and_redirects_to_the_account_page,
    remember_me_makes_the_cookies_persistent,
    over_https_cookies_are_secure_and_host_prefixed,
    wrong_password_and_unknown_email_get_the_same_generic_answer,
    a_disabled_user_cannot_sign_in,
    emails_are_matched_case_insensitively,
    next_is_followed_only_for_same_site_paths,
    the_login_form_without_a_csrf_token_is_refused,
    json_login_returns_the_user_and_sets_cookies,
    json_login_with_bad_credentials_is_a_401_with_the_error_shape,
    a_hash_with_weaker_parameters_is_upgraded_at_sign_in,
    a_password_typed_in_another_unicode_form_still_signs_in,
);
