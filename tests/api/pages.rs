use portcullis::domain::Role;
use reqwest::StatusCode;

use crate::helpers::spawn_app;

async fn an_anonymous_page_request_is_sent_to_login_with_next() {
    let app = spawn_app().await;
    let res = app.get("/account?tab=sessions").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(res.headers()["location"], "/login?next=%2Faccount%3Ftab%3Dsessions");
}

async fn the_login_page_carries_next_and_a_csrf_field_with_labelled_inputs() {
    let app = spawn_app().await;
    let res = app.get("/login?next=/account").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csrf_cookie = app.cookie("csrf_token").expect("csrf cookie");
    let html = res.text().await.unwrap();
    assert!(html.contains(&format!(r#"name="csrf_token" value="{csrf_cookie}""#)));
    assert!(html.contains(r#"name="next" value="/account""#));
    assert!(html.contains(r#"<label for="email">"#) && html.contains(r#"<label for="password">"#));
    assert!(html.contains("/static/css/app.css"));
}

async fn the_landing_page_links_to_sign_in_or_the_account() {
    let app = spawn_app().await;
    assert!(app.get("/").await.text().await.unwrap().contains("href=\"/login\""));
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    let html = app.get("/").await.text().await.unwrap();
    assert!(html.contains("href=\"/account\"") && html.contains(&user.email));
}

async fn the_account_page_shows_email_role_and_member_since() {
    let app = spawn_app().await;
    let user = app.add_user(Role::Admin);
    app.login_as(&user).await;
    let res = app.get("/account").await;
    assert_eq!(res.headers()["cache-control"], "no-store");
    let html = res.text().await.unwrap();
    assert!(html.contains(&user.email) && html.contains("admin") && html.contains("Member since"));
}

async fn user_supplied_text_is_escaped() {
    let app = spawn_app().await;
    let csrf = app.csrf_token().await;
    let res = app
        .post_form(
            "/login",
            &[("email", "<script>alert(1)</script>"), ("password", "x"), ("csrf_token", &csrf)],
        )
        .await;
    let html = res.text().await.unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"));
}

async fn unknown_pages_and_api_paths_are_404_in_their_own_format() {
    let app = spawn_app().await;
    let page = app.get("/no-such-page").await;
    assert_eq!(page.status(), StatusCode::NOT_FOUND);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let api = app.get("/api/no-such-thing").await;
    assert_eq!(api.status(), StatusCode::NOT_FOUND);
    assert_eq!(crate::helpers::error_code(api).await, "not_found");
}

async fn an_event_kind_from_a_newer_version_is_shown_generically() {
    let app = spawn_app().await;
    let user = app.add_user(Role::User);
    app.login_as(&user).await;
    {
        use diesel::RunQueryDsl;
        let mut conn = app.pool.get().expect("conn");
        diesel::sql_query(format!(
            "INSERT INTO security_events (id, user_id, kind, session_id, ip, user_agent, created_at) \
             VALUES ('99999999999999999999-x', '{}', 'hardware_key_lost', NULL, '', '', 0)",
            user.id
        ))
        .execute(&mut **conn)
        .expect("insert");
    }
    let page = app.get("/account").await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Security event"));
}

crate::helpers::backend_tests!(
    an_event_kind_from_a_newer_version_is_shown_generically,
    an_anonymous_page_request_is_sent_to_login_with_next,
    the_login_page_carries_next_and_a_csrf_field_with_labelled_inputs,
    the_landing_page_links_to_sign_in_or_the_account,
    the_account_page_shows_email_role_and_member_since,
    user_supplied_text_is_escaped,
    unknown_pages_and_api_paths_are_404_in_their_own_format,
);
