//! What the person controls and what a credential change ends (SPEC §9, §11): "Apps with
//! access" on the account page and in the API, revocation, a password change or a disable
//! ending grants, codes and tokens, the mail about a new app, and RP-initiated logout.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use super::*;
use crate::helpers::{PASSWORD, SmtpSink, backend_tests, spawn_app, spawn_app_with_mail};
use portcullis::domain::Role;

backend_tests!(
    the_account_page_and_api_list_and_revoke_apps,
    a_password_change_or_a_disable_ends_grants_codes_and_tokens,
    authorizing_a_new_app_is_mailed,
    logout_with_a_hint_returns_to_the_app_and_without_one_asks_first,
);

async fn the_account_page_and_api_list_and_revoke_apps() {
    let app = spawn_app().await;
    let (grafana, gitea) = (register(&app, false, false), register(&app, false, false));
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let first = tokens(&app, &grafana, &code_for(&app, &grafana, "openid email offline_access").await).await;
    let _ = tokens(&app, &gitea, &code_for(&app, &gitea, "openid").await).await;
    let page = app.get("/account").await.text().await.expect("html");
    assert!(page.contains("Apps with access"), "{page}");
    assert!(page.contains("openid, email, offline_access"));

    let bearer = app.bearer_for(&user).await;
    let listed: Value =
        app.bearer_call(&bearer, Method::GET, "/api/account/apps", None).await.json().await.expect("json");
    let listed = listed.as_array().expect("a list");
    assert_eq!(listed.len(), 2);
    let grafana_grant = listed.iter().find(|g| g["client_id"] == grafana.id).expect("listed");
    assert_eq!(grafana_grant["scopes"], serde_json::json!(["openid", "email", "offline_access"]));
    let gitea_grant = listed.iter().find(|g| g["client_id"] == gitea.id).expect("listed")["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Revoking from the page ends the app's tokens at once, refresh included.
    let id = grafana_grant["id"].as_str().expect("id");
    let csrf = app.cookie("csrf_token").expect("csrf");
    let res = app.post_form(&format!("/account/apps/{id}/revoke"), &[("csrf_token", &csrf)]).await;
    assert_eq!(location(&res), "/account?done=app-revoked#apps");
    assert_eq!(
        userinfo(&app, first["access_token"].as_str().expect("at")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = first["refresh_token"].as_str().expect("rt");
    let res = token(&app, &grafana, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        authorize(&app, &params(&grafana, "openid")).await.status(),
        StatusCode::OK,
        "consent is asked again"
    );
    assert!(app.event_kinds(&user).contains(&"app_revoked".to_owned()));

    // The API does the same; someone else's grant is a 404.
    let other = app.add_user(Role::User);
    let theirs = app.bearer_for(&other).await;
    let path = format!("/api/account/apps/{gitea_grant}");
    assert_eq!(app.bearer_call(&theirs, Method::DELETE, &path, None).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.bearer_call(&bearer, Method::DELETE, &path, None).await.status(), StatusCode::NO_CONTENT);
    let listed: Value =
        app.bearer_call(&bearer, Method::GET, "/api/account/apps", None).await.json().await.expect("json");
    assert_eq!(listed, serde_json::json!([]));
}

async fn a_password_change_or_a_disable_ends_grants_codes_and_tokens() {
    let app = spawn_app().await;
    let client = register(&app, false, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let set = tokens(&app, &client, &code_for(&app, &client, "openid offline_access").await).await;
    let unused = code_for(&app, &client, "openid offline_access").await;
    let csrf = app.cookie("csrf_token").expect("csrf");
    let new_password = "an entirely different passphrase 42";
    let form = [
        ("csrf_token", csrf.as_str()),
        ("current_password", PASSWORD),
        ("new_password", new_password),
        ("new_password_confirm", new_password),
    ];
    assert_eq!(app.post_form("/account/password", &form).await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        userinfo(&app, set["access_token"].as_str().expect("at")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let refresh = set["refresh_token"].as_str().expect("rt");
    let res = token(&app, &client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_eq!(res.json::<Value>().await.expect("json")["error"], "invalid_grant");
    assert_eq!(
        redeem(&app, &client, &unused).await.json::<Value>().await.expect("json")["error"],
        "invalid_grant"
    );
    assert_eq!(
        authorize(&app, &params(&client, "openid")).await.status(),
        StatusCode::OK,
        "the grant ended too"
    );

    let again = tokens(&app, &client, &code_for(&app, &client, "openid offline_access").await).await;
    app.set_disabled_flag_only(&user);
    assert_eq!(
        userinfo(&app, again["access_token"].as_str().expect("at")).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // The purge takes the grants a credential change ended (and their codes and tokens).
    let grants = || {
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use portcullis::db::schema::oauth_grants as g;
        let mut conn = app.pool.get().expect("conn");
        g::table.filter(g::user_id.eq(&user.id)).count().get_result::<i64>(&mut **conn).expect("count")
    };
    assert_eq!(grants(), 2, "the one ended by the password change and the one after it");
    {
        use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
        use portcullis::db::schema::users;
        let mut conn = app.pool.get().expect("conn");
        diesel::update(users::table.find(&user.id))
            .set(users::credential_version.eq(users::credential_version + 1))
            .execute(&mut **conn)
            .expect("a credential change");
    }
    portcullis::db::purge::purge_once(&app.pool, "test").await.expect("purge");
    assert_eq!(grants(), 0, "both grants were made under an older credential version");
}

async fn authorizing_a_new_app_is_mailed() {
    let Some(sink) = SmtpSink::start() else { return };
    let app = spawn_app_with_mail(&sink, |_| {}).await;
    let client = register(&app, false, false);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let _ = code_for(&app, &client, "openid").await;
    let mails = sink.wait_for(&user.email, 2).await;
    assert!(
        mails.iter().any(|m| m.subject().contains("An app can now sign you in")),
        "{:?}",
        mails.iter().map(|m| m.subject().to_owned()).collect::<Vec<_>>()
    );
}

async fn logout_with_a_hint_returns_to_the_app_and_without_one_asks_first() {
    let app = spawn_app().await;
    let client = register(&app, false, true);
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let set = tokens(&app, &client, &code_for(&app, &client, "openid").await).await;
    let hint = set["id_token"].as_str().expect("id").to_owned();

    // Without a hint: a confirmation page with a CSRF-protected form, the session untouched.
    let query = serde_urlencoded::to_string([
        ("post_logout_redirect_uri", LOGGED_OUT),
        ("client_id", &client.id),
        ("state", "bye"),
    ])
    .expect("q");
    let res = app.get(&format!("/oauth/logout?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.expect("html");
    assert!(page.contains(r#"name="csrf_token""#) && page.contains("Sign out"), "{page}");
    assert_eq!(app.live_sessions(&user), 1);
    let csrf = app.cookie("csrf_token").expect("csrf");
    let forged = app
        .post_form("/oauth/logout", &[("post_logout_redirect_uri", LOGGED_OUT), ("client_id", &client.id)])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let res = app
        .post_form(
            "/oauth/logout",
            &[
                ("post_logout_redirect_uri", LOGGED_OUT),
                ("client_id", &client.id),
                ("state", "bye"),
                ("csrf_token", &csrf),
            ],
        )
        .await;
    assert_eq!(location(&res), format!("{LOGGED_OUT}?state=bye"));
    assert_eq!(app.live_sessions(&user), 0);

    // With a valid hint: a GET is enough.
    app.login_as(&user).await;
    let query = serde_urlencoded::to_string([
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", LOGGED_OUT),
    ])
    .expect("q");
    let res = app.get(&format!("/oauth/logout?{query}")).await;
    assert_eq!(location(&res), LOGGED_OUT);
    assert_eq!(app.live_sessions(&user), 0);

    // An unregistered URI is never followed: the signed-out page instead.
    app.login_as(&user).await;
    let query = serde_urlencoded::to_string([
        ("id_token_hint", hint.as_str()),
        ("post_logout_redirect_uri", "https://evil.example/"),
    ])
    .expect("q");
    let res = app.get(&format!("/oauth/logout?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.expect("html").contains("You are signed out"));
    // A hint for someone else does not sign this person out without asking.
    let other = app.add_user(Role::User);
    app.login_as(&other).await;
    let query = serde_urlencoded::to_string([("id_token_hint", hint.as_str())]).expect("q");
    let res = app.get(&format!("/oauth/logout?{query}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.text().await.expect("html").contains(r#"name="csrf_token""#));
    assert_eq!(app.live_sessions(&other), 1);
}
