//! What a person does in a real browser (headless Chromium): sign in through the form, stay
//! signed in across an expired access token, sign out after it expired, and forged forms from
//! another origin of the same site and from another site refused.

use std::time::Duration;

use portcullis::domain::Role;

use crate::helpers::{Backend, TestApp, spawn_app_on};
use portcullis_testkit::{Browser, serve_page};

/// The app on SQLite with one-second access tokens (browser tests exercise the pages; both
/// backends are covered by the integration tests behind them).
async fn app_with_short_access() -> TestApp {
    spawn_app_on(Backend::Sqlite, |s| {
        s.access_ttl = Duration::from_secs(1);
        s.clock_leeway = Duration::ZERO;
        s.refresh_grace = Duration::from_secs(1);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_signs_in_through_the_form_and_sees_their_account() {
    let Some(browser) = Browser::start().await else { return };
    let app = app_with_short_access().await;
    let user = app.add_user(Role::User);
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(browser.path().await, "/login", "a protected page sends you to sign in");
    browser.sign_in(&app.address, &user.email, &user.password, false).await;
    let text = browser.text().await;
    assert!(text.contains(&user.email), "{text}");
    assert!(browser.cookie("access_token").await.is_some());
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_tab_stays_signed_in_and_can_still_sign_out() {
    let Some(browser) = Browser::start().await else { return };
    let app = app_with_short_access().await;
    let user = app.add_user(Role::User);
    browser.sign_in(&app.address, &user.email, &user.password, false).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(browser.path().await, "/account", "refreshed in place, no bounce to /login");
    // Idle again, on a page rendered before the access token ran out: the sign-out button.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    browser.click("form[action='/logout'] button").await;
    browser.client.wait().for_url(&format!("{}/login", app.address).parse().unwrap()).await.unwrap();
    assert_eq!(app.live_sessions(&user), 0, "signing out ended the session");
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(browser.path().await, "/login");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cross_site_link_to_logout_in_an_idle_tab_signs_nobody_out() {
    let Some(browser) = Browser::start().await else { return };
    let app = app_with_short_access().await;
    let user = app.add_user(Role::User);
    browser.sign_in(&app.address, &user.email, &user.password, false).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    browser.goto(&format!("{}/logout", app.address)).await;
    assert!(browser.text().await.contains("does not accept that method"));
    tokio::time::sleep(Duration::from_millis(2100)).await; // past the grace window
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(browser.path().await, "/account", "the rotated cookie was kept: no false theft");
    assert!(!app.event_kinds(&user).contains(&"refresh_reuse_detected".to_owned()));
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remember_me_app_keeps_its_session_on_the_refresh_cookie_alone() {
    let Some(browser) = Browser::start().await else { return };
    let app = app_with_short_access().await;
    let user = app.add_user(Role::User);
    browser.sign_in(&app.address, &user.email, &user.password, true).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    // As a single-page app does after a restart: fetch a CSRF token, then refresh.
    let status = browser
        .run(
            "const me = await fetch('/api/me');
             if (me.status !== 401) return 'expected 401, got ' + me.status;
             const { csrf_token } = await (await fetch('/api/auth/csrf')).json();
             const r = await fetch('/api/auth/refresh', { method: 'POST', headers: { 'X-CSRF-Token': csrf_token } });
             if (r.status !== 200) return 'refresh: ' + r.status;
             return (await fetch('/api/me')).status;",
        )
        .await;
    assert_eq!(status, serde_json::json!(200));
    browser.quit().await;
}

/// A page on another origin whose form posts to `target` (a forged "sign out everywhere else").
fn forged_form(target: &str) -> String {
    format!(
        r#"<!doctype html><title>Win a prize</title>
        <form method="post" action="{target}/account/sessions/revoke-others">
          <input type="hidden" name="csrf_token" value="guessed.token">
          <button id="go" type="submit">Claim</button>
        </form>"#
    )
}

async fn forged_form_from(attacker_ip: &str) {
    let Some(browser) = Browser::start().await else { return };
    let app = app_with_short_access().await;
    let user = app.add_user(Role::User);
    browser.sign_in(&app.address, &user.email, &user.password, false).await;
    assert_eq!(app.token(&user.email, &user.password).await.status(), reqwest::StatusCode::OK);
    assert_eq!(app.live_sessions(&user), 2);
    let attacker = serve_page(attacker_ip, forged_form(&app.address)).await;
    browser.goto(&attacker).await;
    browser.click("#go").await;
    browser
        .client
        .wait()
        .for_url(&format!("{}/account/sessions/revoke-others", app.address).parse().unwrap())
        .await
        .unwrap();
    let answer = browser.wait_for_text("refused").await;
    assert!(answer.contains("403") && answer.contains("refused"), "{answer}");
    assert_eq!(app.live_sessions(&user), 2, "nothing was revoked");
    browser.goto(&format!("{}/account", app.address)).await;
    assert_eq!(browser.path().await, "/account", "still signed in");
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_form_from_another_port_of_the_same_site_is_refused() {
    // Same site (127.0.0.1), other origin: SameSite=Lax cookies are sent, so only the CSRF
    // and Origin checks stand in the way.
    forged_form_from("127.0.0.1").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_form_from_another_site_is_refused() {
    forged_form_from("127.0.0.2").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_resets_a_forgotten_password_from_the_mailed_link() {
    let Some(sink) = portcullis_testkit::SmtpSink::start() else { return };
    let Some(browser) = Browser::start().await else { return };
    let url = sink.url();
    let app = spawn_app_on(Backend::Sqlite, move |s| s.smtp_url = Some(url.into())).await;
    let user = app.add_user(Role::User);
    browser.goto(&format!("{}/login", app.address)).await;
    browser.click("a[href='/forgot-password']").await;
    browser.fill("#email", &user.email).await;
    browser.click("form[action='/forgot-password'] button[type=submit]").await;
    let text = browser.wait_for_text("If an account exists").await;
    assert!(text.contains("If an account exists"), "{text}");
    let mail = sink.wait_for(&user.email, 1).await.remove(0);
    let link = mail.link("/reset-password?token=").expect("a link in the mail");
    browser.goto(&link).await;
    let new = "a fresh passphrase from the browser";
    browser.fill("#new_password", new).await;
    browser.fill("#password_confirm", new).await;
    browser.click("form[action='/reset-password'] button[type=submit]").await;
    let done = format!("{}/login?reset=done", app.address).parse().unwrap();
    if browser.client.wait().at_most(Duration::from_secs(10)).for_url(&done).await.is_err() {
        panic!("not sent to sign in: {} {}", browser.path().await, browser.text().await);
    }
    let text = browser.wait_for_text("Your password was changed").await;
    assert!(text.contains("Your password was changed"), "{text}");
    browser.sign_in(&app.address, &user.email, new, false).await;
    assert!(browser.wait_for_text(&user.email).await.contains(&user.email));
    browser.quit().await;
}

/// SPEC §3: after sign-in, an absolute `next` on one of this deployment's app origins
/// (`PORTCULLIS_CORS_ORIGINS`) is followed. Chromium applies the sign-in page's CSP
/// `form-action` to the redirect that answers the form's POST, so that origin must be listed
/// there: otherwise the person stays on "Sign in" with the cookies already set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_with_next_on_a_listed_app_origin_arrives_there() {
    let Some(browser) = Browser::start().await else { return };
    let landing =
        serve_page("127.0.0.1", "<html><body><h1>Landed on the app</h1></body></html>".into()).await;
    let apps = portcullis::config::Origins::parse(&landing).unwrap();
    let app = spawn_app_on(Backend::Sqlite, move |s| s.cors_origins = apps).await;
    let user = app.add_user(Role::User);
    let login = app.get(&format!("/login?next={landing}/reports")).await;
    let csp = login.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains(&format!("form-action 'self' {landing}")), "{csp}");
    assert!(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");

    browser.goto(&format!("{}/login?next={landing}/reports", app.address)).await;
    browser.fill("#email", &user.email).await;
    browser.fill("#password", &user.password).await;
    browser.click("form[action='/login'] button[type=submit]").await;
    let text = browser.wait_for_text("Landed on the app").await;
    assert!(text.contains("Landed on the app"), "still on: {text}");
    assert_eq!(browser.url().await, format!("{landing}/reports"));
    browser.quit().await;
    let other = app.get("/account").await;
    assert!(
        !other.headers()["content-security-policy"].to_str().unwrap().contains(&landing),
        "other pages keep form-action 'self'"
    );
}

/// SPEC §4 and issue 22: addresses that read like another account's are refused, and what
/// people typed is shown isolated (`<bdi>`); a 250-character address wraps instead of pushing
/// the admin list's buttons off the card, on a desktop and on a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_address_wraps_on_the_admin_list_and_look_alikes_never_get_there() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let admin = app.add_user(Role::Admin);
    for look_alike in ["\u{202E}moc.elpmaxe@nimda", "admin\u{200B}@example.com"] {
        let body = serde_json::json!({"email": look_alike, "password": crate::helpers::PASSWORD});
        let res = app.post_json("/api/auth/register", &body).await;
        assert_eq!(res.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{look_alike:?}");
    }
    // RFC 5321 caps a local part at 64 octets and a label at 63: the length is in the domain.
    let long = format!(
        "someone@{}.{}.{}.{}.example",
        "a".repeat(60),
        "b".repeat(60),
        "c".repeat(60),
        "d".repeat(51)
    );
    assert_eq!(long.len(), 250);
    {
        let email = portcullis::domain::Email::try_from(long.as_str()).unwrap();
        let mut conn = app.pool.get().unwrap();
        portcullis::auth::account::register::create_user(&mut conn, &email, "x", Role::User, true).unwrap();
    }
    browser.sign_in(&app.address, &admin.email, &admin.password, false).await;
    browser.goto(&format!("{}/admin/users", app.address)).await;
    let text = browser.wait_for_text(&long[..40]).await;
    assert!(text.contains("Disable"), "{text}");
    let inside = "const card = document.querySelector('main .card').getBoundingClientRect(); \
        return [...document.querySelectorAll('main .card button, main .card td, main .card a')] \
          .every(e => e.getBoundingClientRect().right <= card.right + 1);";
    for (width, height) in [(1200, 900), (390, 844)] {
        browser.resize(width, height).await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(browser.run(inside).await, true, "something sticks out of the card at {width} px");
    }
    let isolated = browser.run("return [...document.querySelectorAll('td.address bdi')].length;").await;
    assert_eq!(isolated, 2, "each address in its own <bdi>");
    browser.quit().await;
}

/// Issue 23: on a phone the account page's tables stack their cells, and each cell still says
/// which column it is (the header row is hidden there); every row's sign-out button is one
/// action with one name, its accessible name saying which device it ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_phone_the_account_tables_keep_their_column_names() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app_on(Backend::Sqlite, |_| {}).await;
    let user = app.add_user(Role::User);
    assert_eq!(app.token(&user.email, &user.password).await.status(), reqwest::StatusCode::OK);
    browser.sign_in(&app.address, &user.email, &user.password, false).await;
    browser.resize(390, 844).await;
    browser.goto(&format!("{}/account", app.address)).await;
    browser.wait_for_text("Where you're signed in").await;
    let labels = "return [...document.querySelectorAll('main table')].map(t => ({ \
          header: getComputedStyle(t.querySelector('thead')).display, \
          cells: [...t.querySelectorAll('tbody tr:first-child td')] \
            .filter(td => !td.classList.contains('action')) \
            .map(td => getComputedStyle(td, '::before').content) }));";
    let tables = browser.run(labels).await;
    let expected = serde_json::json!([
        {"header": "none", "cells": ["\"Device\"", "\"IP address\"", "\"Signed in\"", "\"Last active\""]},
        {"header": "none", "cells": ["\"When\"", "\"What\"", "\"IP address\"", "\"Device\""]},
    ]);
    assert_eq!(tables, expected, "sessions, then recent activity");
    let buttons = "return [...document.querySelectorAll('form[action$=\"/revoke\"] button')] \
        .map(b => [b.cloneNode(true), b.textContent.replace(/\\s+/g, ' ').trim()]) \
        .map(([shown, spoken]) => { shown.querySelectorAll('.visually-hidden').forEach(h => h.remove()); \
          return [shown.textContent.trim(), spoken]; });";
    let buttons = browser.run(buttons).await;
    let buttons = buttons.as_array().expect("buttons");
    assert_eq!(buttons.len(), 2, "{buttons:?}");
    for b in buttons {
        assert_eq!(b[0], "Sign out", "one visible name for one action: {buttons:?}");
    }
    let spoken: Vec<&str> = buttons.iter().filter_map(|b| b[1].as_str()).collect();
    assert!(spoken.contains(&"Sign out here"), "{spoken:?}");
    assert!(spoken.iter().any(|s| s.starts_with("Sign out ") && s.contains("127.0.0.1")), "{spoken:?}");
    browser.quit().await;
}
