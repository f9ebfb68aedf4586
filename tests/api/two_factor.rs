//! TOTP as a second factor (SPEC §9), through the front door on both backends: enrolment and
//! its recovery codes, the code step after the JSON login, the token endpoint and the sign-in
//! page, code replay, the mfa_token's life, throttling, turning it off and an admin's reset.
//! Codes are computed here from the secret the server hands out.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
use portcullis::domain::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use totp_rs::{Builder, Secret};

use crate::helpers::{
    TestApp, TestUser, backend_tests, error_code, set_cookie, set_cookies, spawn_app, spawn_app_with,
};

backend_tests!(
    enrolment_shows_one_pending_secret_until_a_code_confirms_it,
    with_totp_on_the_json_login_asks_for_a_code_and_the_code_step_sets_the_cookies,
    a_code_works_once_even_within_its_thirty_seconds,
    a_recovery_code_signs_in_once_in_place_of_a_code,
    the_token_endpoint_answers_400_mfa_required_and_the_code_step_returns_tokens,
    an_mfa_token_dies_after_five_wrong_codes_on_success_and_at_expiry,
    code_guesses_are_throttled_per_account_across_mfa_tokens,
    the_sign_in_page_asks_for_the_code_and_keeps_remember_me,
    turning_totp_off_takes_the_password_and_mails_the_owner,
    an_administrator_resets_a_users_second_factor,
    the_two_factor_page_shows_a_qr_code_and_the_same_pending_secret,
    the_admin_page_shows_the_factors_and_resets_them,
    an_operator_resets_a_second_factor_from_the_command_line,
    a_password_changed_during_the_code_step_ends_it,
    new_recovery_codes_replace_the_old_ones,
    resets_and_renewals_under_concurrent_writes_never_answer_500,
);

/// The current 30 s time step.
fn step_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 30
}

/// The code of `step` for a base32 secret, as an authenticator app computes it.
fn code(secret: &str, step: u64) -> String {
    let secret = Secret::try_from_base32(secret).expect("base32 secret");
    Builder::new().with_secret(secret).build().expect("totp").generate(step * 30).to_string()
}

/// Turns TOTP on for `user` through the API; returns the secret and the recovery codes. The
/// confirming code is the current step's, so that step is used up.
struct On {
    secret: String,
    codes: Vec<String>,
    /// The time step whose code confirmed it (used up).
    step: u64,
}

/// The body that adding a credential takes (SPEC §9).
fn with_password(user: &TestUser) -> Value {
    json!({"password": user.password})
}

async fn turn_on(app: &TestApp, user: &TestUser) -> On {
    let token = app.bearer_for(user).await;
    let started =
        app.bearer_call(&token, Method::POST, "/api/account/2fa/totp", Some(with_password(user))).await;
    assert_eq!(started.status(), StatusCode::OK);
    let secret = started.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_owned();
    let step = step_now();
    let confirm = json!({"code": code(&secret, step)});
    let confirmed =
        app.bearer_call(&token, Method::POST, "/api/account/2fa/totp/confirm", Some(confirm)).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let body: Value = confirmed.json().await.unwrap();
    let codes =
        body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    On { secret, codes, step }
}

/// The JSON login's `mfa_required` answer: asserts its shape and returns the mfa_token.
async fn mfa_token_from_login(app: &TestApp, user: &TestUser, remember: bool) -> String {
    mfa_token_from_login_as(app, (&user.email, &user.password), remember).await
}

async fn mfa_token_from_login_with(app: &TestApp, email: &str, password: &str) -> String {
    mfa_token_from_login_as(app, (email, password), false).await
}

async fn mfa_token_from_login_as(app: &TestApp, (email, password): (&str, &str), remember: bool) -> String {
    let body = json!({"email": email, "password": password, "remember": remember});
    let res = app.post_json("/api/auth/login", &body).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let cookies = set_cookies(res.headers());
    assert!(
        set_cookie(&cookies, "access_token").is_none() && set_cookie(&cookies, "refresh_token").is_none()
    );
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "mfa_required", "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
    body["mfa_token"].as_str().expect("an mfa_token").to_owned()
}

async fn complete(app: &TestApp, mfa_token: &str, code: &str) -> reqwest::Response {
    app.post_json("/api/auth/mfa", &json!({"mfa_token": mfa_token, "code": code})).await
}

fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    use portcullis::db::schema::outbox;
    let mut conn = app.pool.get().unwrap();
    outbox::table.filter(outbox::recipient.eq(to)).select(outbox::subject).load(&mut **conn).unwrap()
}

async fn enrolment_shows_one_pending_secret_until_a_code_confirms_it() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let token = app.bearer_for(&user).await;
    let start = || app.bearer_call(&token, Method::POST, "/api/account/2fa/totp", Some(with_password(&user)));
    let first: Value = start().await.json().await.unwrap();
    let again: Value = start().await.json().await.unwrap();
    let secret = first["secret"].as_str().unwrap();
    assert_eq!(first, again, "the same pending secret");
    assert!(first["otpauth_url"].as_str().unwrap().starts_with("otpauth://totp/"), "{first}");
    assert!(first["otpauth_url"].as_str().unwrap().contains(&format!("secret={secret}")), "{first}");
    let state: Value =
        app.bearer_call(&token, Method::GET, "/api/account/2fa", None).await.json().await.unwrap();
    assert_eq!(state["totp"], false, "pending is not on");
    assert_eq!(state["totp_pending"], true);
    // A pending secret does not turn the code step on.
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);

    let wrong = app
        .bearer_call(&token, Method::POST, "/api/account/2fa/totp/confirm", Some(json!({"code": "000000"})))
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(wrong).await, "invalid_code");
    let right = json!({"code": code(secret, step_now())});
    let confirmed = app.bearer_call(&token, Method::POST, "/api/account/2fa/totp/confirm", Some(right)).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    assert_eq!(confirmed.headers()["cache-control"], "no-store");
    let codes: Value = confirmed.json().await.unwrap();
    let codes = codes["recovery_codes"].as_array().unwrap();
    assert_eq!(codes.len(), 10);
    let distinct: std::collections::HashSet<_> = codes.iter().collect();
    assert_eq!(distinct.len(), 10);

    let state: Value =
        app.bearer_call(&token, Method::GET, "/api/account/2fa", None).await.json().await.unwrap();
    assert_eq!((state["totp"].clone(), state["recovery_codes_left"].clone()), (json!(true), json!(10)));
    let again =
        app.bearer_call(&token, Method::POST, "/api/account/2fa/totp", Some(with_password(&user))).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(again).await, "totp_already_on");
    let stored: Vec<String> = {
        use portcullis::db::schema::recovery_codes;
        let mut conn = app.pool.get().unwrap();
        recovery_codes::table.select(recovery_codes::code_hash).load(&mut **conn).unwrap()
    };
    assert!(
        codes.iter().all(|c| !stored.iter().any(|h| h.contains(c.as_str().unwrap()))),
        "stored only hashed"
    );
    let sealed: String = {
        use portcullis::db::schema::totp_factors;
        let mut conn = app.pool.get().unwrap();
        totp_factors::table.select(totp_factors::secret_sealed).first(&mut **conn).unwrap()
    };
    assert!(!sealed.contains(secret), "the secret is sealed, not stored as is");
    assert!(app.event_kinds(&user).contains(&"totp_enabled".to_owned()));
}

async fn with_totp_on_the_json_login_asks_for_a_code_and_the_code_step_sets_the_cookies() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let On { secret, .. } = turn_on(&app, &user).await;
    let mfa_token = mfa_token_from_login(&app, &user, false).await;
    // The half-signed-in token is no session.
    assert_eq!(app.me_with_bearer(&mfa_token).await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/me").await.status(), StatusCode::UNAUTHORIZED);

    let done = complete(&app, &mfa_token, &code(&secret, step_now() + 1)).await;
    assert_eq!(done.status(), StatusCode::OK);
    let cookies = set_cookies(done.headers());
    assert!(
        set_cookie(&cookies, "access_token").is_some() && set_cookie(&cookies, "refresh_token").is_some()
    );
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["email"], user.email.as_str());
    assert_eq!(app.get("/api/me").await.status(), StatusCode::OK, "signed in by the cookies");
    let kinds = app.event_kinds(&user);
    assert_eq!(kinds.iter().take(2).collect::<Vec<_>>(), ["login_succeeded", "mfa_challenged"], "{kinds:?}");

    let wrong_password =
        json!({"email": user.email, "password": "not the password at all", "remember": false});
    let res = app.post_json("/api/auth/login", &wrong_password).await;
    assert_eq!(error_code(res).await, "invalid_credentials", "no code step without the password");
}

async fn a_code_works_once_even_within_its_thirty_seconds() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let On { secret, step: now, .. } = turn_on(&app, &user).await;
    // The confirming code's step is used up.
    let mfa_token = mfa_token_from_login(&app, &user, false).await;
    let replayed = complete(&app, &mfa_token, &code(&secret, now)).await;
    assert_eq!(replayed.status(), StatusCode::UNAUTHORIZED);
    let body: Value = replayed.json().await.unwrap();
    assert_eq!((body["error"].as_str(), body["message"].as_str().is_some()), (Some("invalid_code"), true));

    let next = code(&secret, now + 1);
    assert_eq!(complete(&app, &mfa_token, &next).await.status(), StatusCode::OK);
    let again = mfa_token_from_login(&app, &user, false).await;
    let res = complete(&app, &again, &next).await;
    assert_eq!(error_code(res).await, "invalid_code", "the same code a second time");
    let far = complete(&app, &again, &code(&secret, now + 5)).await;
    assert_eq!(error_code(far).await, "invalid_code", "beyond one step of skew");
    assert!(app.event_kinds(&user).contains(&"mfa_failed".to_owned()));
}

async fn a_recovery_code_signs_in_once_in_place_of_a_code() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let On { codes, .. } = turn_on(&app, &user).await;
    let mfa_token = mfa_token_from_login(&app, &user, false).await;
    let typed = codes[0].to_uppercase().replace('-', " ");
    assert_eq!(
        complete(&app, &mfa_token, &typed).await.status(),
        StatusCode::OK,
        "case and spacing do not matter"
    );
    let second = mfa_token_from_login(&app, &user, false).await;
    assert_eq!(error_code(complete(&app, &second, &codes[0]).await).await, "invalid_code", "used up");
    assert_eq!(complete(&app, &second, &codes[1]).await.status(), StatusCode::OK);
    let token = app.bearer_for_with_code(&user, &codes[2]).await;
    let state: Value =
        app.bearer_call(&token, Method::GET, "/api/account/2fa", None).await.json().await.unwrap();
    assert_eq!(state["recovery_codes_left"], 7);
    assert!(app.event_kinds(&user).contains(&"recovery_code_used".to_owned()));
}

async fn the_token_endpoint_answers_400_mfa_required_and_the_code_step_returns_tokens() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let On { secret, .. } = turn_on(&app, &user).await;
    let res = app.token(&user.email, &user.password).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "mfa_required", "{body}");
    let mfa_token = body["mfa_token"].as_str().unwrap();
    assert!(body.get("access_token").is_none());

    let done = complete(&app, mfa_token, &code(&secret, step_now() + 1)).await;
    assert_eq!(done.status(), StatusCode::OK);
    assert_eq!(done.headers()["cache-control"], "no-store");
    assert!(set_cookie(&set_cookies(done.headers()), "access_token").is_none(), "tokens, not cookies");
    let tokens: Value = done.json().await.unwrap();
    assert_eq!(tokens["token_type"], "Bearer");
    assert!(tokens["refresh_token"].as_str().is_some());
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(app.me_with_bearer(access).await.status(), StatusCode::OK);
}

async fn an_mfa_token_dies_after_five_wrong_codes_on_success_and_at_expiry() {
    let app = spawn_app_with(|s| s.throttle_account = 100).await;
    let user = app.add_user(Role::User);
    let On { secret, codes, .. } = turn_on(&app, &user).await;
    let mfa_token = mfa_token_from_login(&app, &user, false).await;
    for left in (0..5).rev() {
        let res = complete(&app, &mfa_token, "123456").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "invalid_code");
        assert!(body["message"].as_str().unwrap().contains(if left > 0 {
            "attempts left"
        } else {
            "Sign in again"
        }));
    }
    let dead = complete(&app, &mfa_token, &codes[0]).await;
    assert_eq!(error_code(dead).await, "invalid_mfa_token", "dead after five wrong codes");

    let used = mfa_token_from_login(&app, &user, false).await;
    assert_eq!(complete(&app, &used, &code(&secret, step_now() + 1)).await.status(), StatusCode::OK);
    assert_eq!(error_code(complete(&app, &used, &codes[1]).await).await, "invalid_mfa_token", "single use");

    let late = mfa_token_from_login(&app, &user, false).await;
    {
        use portcullis::db::schema::mfa_challenges;
        let mut conn = app.pool.get().unwrap();
        diesel::update(mfa_challenges::table)
            .filter(mfa_challenges::used_at.is_null())
            .set(mfa_challenges::expires_at.eq(portcullis::db::now() - 1))
            .execute(&mut **conn)
            .unwrap();
    }
    assert_eq!(error_code(complete(&app, &late, &codes[2]).await).await, "invalid_mfa_token", "expired");
    assert_eq!(error_code(complete(&app, "made-up", &codes[2]).await).await, "invalid_mfa_token");
}

async fn code_guesses_are_throttled_per_account_across_mfa_tokens() {
    let app = spawn_app_with(|s| s.throttle_account = 3).await;
    let user = app.add_user(Role::User);
    let On { codes, .. } = turn_on(&app, &user).await;
    for _ in 0..3 {
        let mfa_token = mfa_token_from_login(&app, &user, false).await;
        assert_eq!(complete(&app, &mfa_token, "999999").await.status(), StatusCode::UNAUTHORIZED);
    }
    let mfa_token = mfa_token_from_login(&app, &user, false).await;
    let paused = complete(&app, &mfa_token, &codes[0]).await;
    assert_eq!(paused.status(), StatusCode::TOO_MANY_REQUESTS, "a new token does not reset the count");
    assert!(paused.headers().contains_key("retry-after"));
    assert_eq!(error_code(paused).await, "too_many_requests");
}

async fn the_sign_in_page_asks_for_the_code_and_keeps_remember_me() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let On { secret, .. } = turn_on(&app, &user).await;
    let csrf = app.csrf_token().await;
    let form = [
        ("email", user.email.as_str()),
        ("password", user.password.as_str()),
        ("remember", "1"),
        ("next", "/account?tab=2"),
        ("csrf_token", csrf.as_str()),
    ];
    let step = app.post_form("/login", &form).await;
    assert_eq!(step.status(), StatusCode::OK);
    let cookies = set_cookies(step.headers());
    assert!(
        set_cookie(&cookies, "access_token").is_none() && set_cookie(&cookies, "refresh_token").is_none()
    );
    let html = step.text().await.unwrap();
    assert!(html.contains("Authentication code") && html.contains("action=\"/login/mfa\""), "{html}");
    let mfa_token =
        html.split("name=\"mfa_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let csrf = app.cookie("csrf_token").unwrap();

    let wrong = [
        ("mfa_token", mfa_token.as_str()),
        ("code", "111111"),
        ("next", "/account?tab=2"),
        ("csrf_token", &csrf),
    ];
    let res = app.post_form("/login/mfa", &wrong).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let html = res.text().await.unwrap();
    assert!(html.contains("role=\"alert\"") && html.contains("attempts left"), "{html}");
    let no_csrf = [("mfa_token", mfa_token.as_str()), ("code", "111111")];
    assert_eq!(app.post_form("/login/mfa", &no_csrf).await.status(), StatusCode::FORBIDDEN, "CSRF applies");

    let right_code = code(&secret, step_now() + 1);
    let right = [
        ("mfa_token", mfa_token.as_str()),
        ("code", right_code.as_str()),
        ("next", "/account?tab=2"),
        ("csrf_token", &csrf),
    ];
    let done = app.post_form("/login/mfa", &right).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()["location"], "/account?tab=2");
    let cookies = set_cookies(done.headers());
    let refresh = set_cookie(&cookies, "refresh_token").expect("refresh cookie");
    assert!(refresh.contains("Max-Age="), "remember me persists the cookies: {refresh}");
    assert!(set_cookie(&cookies, "device").is_some(), "the device cookie, as after a password: {cookies:?}");
    assert_eq!(app.get("/account").await.status(), StatusCode::OK);
}

async fn turning_totp_off_takes_the_password_and_mails_the_owner() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let On { codes, .. } = turn_on(&app, &user).await;
    let token = app.bearer_for_with_code(&user, &codes[0]).await;
    let wrong = app
        .bearer_call(
            &token,
            Method::DELETE,
            "/api/account/2fa/totp",
            Some(json!({"password": "nope nope nope"})),
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(wrong).await, "wrong_password");
    let off = app
        .bearer_call(
            &token,
            Method::DELETE,
            "/api/account/2fa/totp",
            Some(json!({"password": user.password})),
        )
        .await;
    assert_eq!(off.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK, "no code step now");
    assert!(app.event_kinds(&user).contains(&"totp_disabled".to_owned()));
    assert!(mails_to(&app, &user.email).iter().any(|s| s.contains("sign-in settings changed")));
    let state: Value =
        app.bearer_call(&token, Method::GET, "/api/account/2fa", None).await.json().await.unwrap();
    assert_eq!((state["totp"].clone(), state["recovery_codes_left"].clone()), (json!(false), json!(0)));
}

async fn an_administrator_resets_a_users_second_factor() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let other = app.add_user(Role::User);
    turn_on(&app, &user).await;
    let path = format!("/api/admin/users/{}/2fa", user.id);
    let not_admin = app.bearer_for(&other).await;
    assert_eq!(
        app.bearer_call(&not_admin, Method::DELETE, &path, None).await.status(),
        StatusCode::FORBIDDEN
    );
    let token = app.bearer_for(&admin).await;
    let unknown = app.bearer_call(&token, Method::DELETE, "/api/admin/users/nobody/2fa", None).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.bearer_call(&token, Method::DELETE, &path, None).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.token(&user.email, &user.password).await.status(),
        StatusCode::OK,
        "the password alone again"
    );
    assert_eq!(app.event_kinds(&user)[1], "second_factor_reset");
    let events: Value = app
        .bearer_call(&token, Method::GET, &format!("/api/admin/users/{}/events", user.id), None)
        .await
        .json()
        .await
        .unwrap();
    let reset = events.as_array().unwrap().iter().find(|e| e["kind"] == "second_factor_reset").unwrap();
    assert_eq!(reset["detail"], format!("by {}", admin.email));
    assert!(mails_to(&app, &user.email).iter().any(|s| s.contains("sign-in settings changed")));
}

async fn the_two_factor_page_shows_a_qr_code_and_the_same_pending_secret() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    assert_eq!(app.get("/account/2fa").await.status(), StatusCode::SEE_OTHER, "signed in only");
    app.login_as(&user).await;
    let first = app.get("/account/2fa").await.text().await.unwrap();
    assert!(
        !first.contains("totp-secret") && first.contains("action=\"/account/2fa/totp\""),
        "no secret before the password: {first}"
    );
    let csrf = app.cookie("csrf_token").unwrap();
    let wrong = app
        .post_form("/account/2fa/totp", &[("password", "not the password at all"), ("csrf_token", &csrf)])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains("That is not your password") && !wrong.contains("totp-secret"), "{wrong}");
    let started =
        app.post_form("/account/2fa/totp", &[("password", &user.password), ("csrf_token", &csrf)]).await;
    assert_eq!(started.status(), StatusCode::SEE_OTHER);
    let page = app.get("/account/2fa").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    assert!(html.contains("<svg") && !html.contains("<img"), "an inline QR code drawn here");
    let secret_of =
        |html: &str| html.split("id=\"totp-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let secret = secret_of(&html);
    assert_eq!(
        secret_of(&app.get("/account/2fa").await.text().await.unwrap()),
        secret,
        "the same pending secret"
    );
    let wrong =
        app.post_form("/account/2fa/totp/confirm", &[("code", "000000"), ("csrf_token", &csrf)]).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let right_code = code(&secret, step_now());
    let on =
        app.post_form("/account/2fa/totp/confirm", &[("code", &right_code), ("csrf_token", &csrf)]).await;
    assert_eq!(on.status(), StatusCode::OK);
    let html = on.text().await.unwrap();
    assert_eq!(html.matches("<li><code>").count(), 10, "{html}");
    assert!(html.contains("shown only now"));
    let account = app.get("/account").await.text().await.unwrap();
    assert!(account.contains("Authenticator app") && account.contains("/account/2fa"));
    let renew = [("password", user.password.as_str()), ("csrf_token", csrf.as_str())];
    let renewed = app.post_form("/account/2fa/recovery-codes", &renew).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let html = renewed.text().await.unwrap();
    assert!(
        html.contains("the old ones no longer work") && html.matches("<li><code>").count() == 10,
        "{html}"
    );
    let off = app
        .post_form("/account/2fa/totp/disable", &[("password", &user.password), ("csrf_token", &csrf)])
        .await;
    assert_eq!(off.status(), StatusCode::SEE_OTHER);
    assert_eq!(off.headers()["location"], "/account/2fa?done=totp-off");
}

async fn the_admin_page_shows_the_factors_and_resets_them() {
    let app = spawn_app().await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    turn_on(&app, &user).await;
    app.login_as(&admin).await;
    let page = app.get(&format!("/admin/users/{}", user.id)).await.text().await.unwrap();
    assert!(page.contains("Authenticator app") && page.contains("10 recovery codes left"), "{page}");
    let csrf = app.cookie("csrf_token").unwrap();
    let reset = app.post_form(&format!("/admin/users/{}/2fa/reset", user.id), &[("csrf_token", &csrf)]).await;
    assert_eq!(reset.status(), StatusCode::SEE_OTHER);
    assert_eq!(reset.headers()["location"], format!("/admin/users/{}?done=2fa", user.id));
    let page = app.get(&format!("/admin/users/{}?done=2fa", user.id)).await.text().await.unwrap();
    assert!(
        page.contains("No authenticator app") && page.contains("Every second factor of this account is off")
    );
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
    let no_csrf = app.post_form(&format!("/admin/users/{}/2fa/reset", user.id), &[]).await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
}

async fn an_operator_resets_a_second_factor_from_the_command_line() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    turn_on(&app, &user).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["user", "reset-2fa", &user.email])
        .env("DATABASE_URL", &app.settings.database_url)
        .env("PORTCULLIS_KEY_FILE", &app.settings.key_file)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("every second factor"), "{said}");
    assert_eq!(app.token(&user.email, &user.password).await.status(), StatusCode::OK);
    let kinds = app.event_kinds(&user);
    assert_eq!(kinds[..2], ["login_succeeded", "second_factor_reset"], "{kinds:?}");
}

async fn a_password_changed_during_the_code_step_ends_it() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let On { codes, .. } = turn_on(&app, &user).await;
    let signed_in = app.bearer_for_with_code(&user, &codes[1]).await;
    // Both within one second: the challenge is bound to the credentials, not to a clock that
    // counts in whole seconds.
    while std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_millis() > 200 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mfa_token = mfa_token_from_login(&app, &user, false).await;
    let change =
        json!({"current_password": user.password, "new_password": "an entirely new passphrase, quite long"});
    let changed = app.bearer_call(&signed_in, Method::POST, "/api/account/password", Some(change)).await;
    assert_eq!(changed.status(), StatusCode::NO_CONTENT);
    let res = complete(&app, &mfa_token, &codes[0]).await;
    assert_eq!(error_code(res).await, "invalid_mfa_token", "the old password's code step is over");

    // An operator's new password from the command line ends one too.
    let mfa_token =
        mfa_token_from_login_with(&app, &user.email, "an entirely new passphrase, quite long").await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["user", "set-password", &user.email])
        .env("DATABASE_URL", &app.settings.database_url)
        .env("PORTCULLIS_KEY_FILE", &app.settings.key_file)
        .env("RUST_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"yet another passphrase, also long\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let res = complete(&app, &mfa_token, &codes[2]).await;
    assert_eq!(error_code(res).await, "invalid_mfa_token", "ended by the operator's password too");
}

async fn new_recovery_codes_replace_the_old_ones() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    let plain = app.bearer_for(&user).await;
    let body = json!({"password": user.password});
    let off =
        app.bearer_call(&plain, Method::POST, "/api/account/2fa/recovery-codes", Some(body.clone())).await;
    assert_eq!(off.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(off).await, "totp_not_on");

    let On { codes: old, .. } = turn_on(&app, &user).await;
    let token = app.bearer_for_with_code(&user, &old[0]).await;
    let wrong = json!({"password": "not my password at all"});
    let res = app.bearer_call(&token, Method::POST, "/api/account/2fa/recovery-codes", Some(wrong)).await;
    assert_eq!(error_code(res).await, "wrong_password");
    let res = app.bearer_call(&token, Method::POST, "/api/account/2fa/recovery-codes", Some(body)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let new: Value = res.json().await.unwrap();
    let new: Vec<String> =
        new["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(new.len(), 10);
    assert!(new.iter().all(|c| !old.contains(c)));

    let mfa_token = mfa_token_from_login(&app, &user, false).await;
    assert_eq!(
        error_code(complete(&app, &mfa_token, &old[1]).await).await,
        "invalid_code",
        "old codes are dead"
    );
    assert_eq!(complete(&app, &mfa_token, &new[0]).await.status(), StatusCode::OK);
    let state: Value =
        app.bearer_call(&token, Method::GET, "/api/account/2fa", None).await.json().await.unwrap();
    assert_eq!(state["recovery_codes_left"], 9);
    assert!(app.event_kinds(&user).contains(&"recovery_codes_renewed".to_owned()));
}

async fn resets_and_renewals_under_concurrent_writes_never_answer_500() {
    let app = spawn_app_with(|s| s.throttle_account = 1000).await;
    let admin = app.add_user(Role::Admin);
    let user = app.add_user(Role::User);
    let On { codes, .. } = turn_on(&app, &user).await;
    let admin_token = app.bearer_for(&admin).await;
    let user_token = app.bearer_for_with_code(&user, &codes[0]).await;
    let reset = format!("/api/admin/users/{}/2fa", user.id);
    let mut work = Vec::new();
    for i in 0..24 {
        let (app_url, admin_token, user_token, reset) =
            (app.address.clone(), admin_token.clone(), user_token.clone(), reset.clone());
        let email = admin.email.clone();
        work.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let req = match i % 3 {
                0 => client.delete(format!("{app_url}{reset}")).bearer_auth(&admin_token),
                1 => client
                    .post(format!("{app_url}/api/account/2fa/recovery-codes"))
                    .bearer_auth(&user_token)
                    .json(&json!({"password": crate::helpers::PASSWORD})),
                // Writes of their own: a failed sign-in (a throttle row, an event).
                _ => client.post(format!("{app_url}/api/auth/token")).form(&[
                    ("grant_type", "password"),
                    ("username", email.as_str()),
                    ("password", "wrong password, on purpose"),
                ]),
            };
            req.send().await.unwrap().status()
        }));
    }
    for task in work {
        let status = task.await.unwrap();
        assert!(!status.is_server_error(), "{status}");
    }
}
