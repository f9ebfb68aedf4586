//! Signing in with another provider (SPEC §13) through the front door, on both backends, with
//! another Portcullis as the upstream OpenID Connect provider (`client add` on one side,
//! `provider add` on the other): the link on `/login`, a first sign-in making a verified
//! account, the same identity signing in again, no automatic linking by email, closed
//! registration, a disabled account, and callbacks that are forged, replayed or opened in
//! another browser. The upstream answers on `localhost`, the downstream on `127.0.0.1`, so the
//! one browser keeps the two sites' cookies apart (cookies ignore ports).

use std::sync::Arc;

use portcullis::auth::provider::clients::{self, ClientSpec};
use portcullis::config::PublicUrl;
use portcullis::domain::{Email, Role};
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::Value;

use crate::helpers::{
    PASSWORD, TestApp, TestUser, backend_tests, client_with, free_port, provider_add, spawn_app_with,
};

/// A person in Chromium clicks "Sign in with up", signs in on the provider's own page, and
/// lands on their new account (SQLite).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_person_signs_in_with_a_provider() {
    let Some(browser) = portcullis_testkit::Browser::start().await else { return };
    let p = pair(|_| {}).await;
    let person = p.up.add_user(Role::User);
    browser.goto(&p.down.url("/login")).await;
    browser.click("a[href^='/login/provider/up']").await;
    // The provider's own sign-in page (another site: localhost).
    browser.fill("#email", &person.email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("form[action='/login'] button[type=submit]").await;
    let page = browser.wait_for_text(&person.email).await;
    assert!(browser.url().await.starts_with(&p.down.url("/account")), "{}", browser.url().await);
    assert!(page.contains("Sign-in providers"), "{page}");
    browser.quit().await;
}

backend_tests!(
    a_first_sign_in_makes_a_verified_account_and_the_next_finds_it,
    an_address_that_has_an_account_is_never_linked_by_email,
    without_open_registration_nobody_is_made_and_a_disabled_account_stays_out,
    callbacks_forged_replayed_or_from_another_browser_do_nothing,
    a_signed_in_person_connects_and_disconnects_a_provider_with_their_password,
    a_linked_account_with_totp_still_takes_its_code,
);

/// A downstream Portcullis with `up` (another Portcullis, on `localhost`) as a provider.
struct Pair {
    down: TestApp,
    up: TestApp,
    up_base: String,
}

async fn pair(tweak_down: impl FnOnce(&mut portcullis::Settings)) -> Pair {
    let down = spawn_app_with(tweak_down).await;
    let port = free_port();
    let up_base = format!("http://localhost:{port}");
    let base = up_base.clone();
    let up = spawn_app_with(move |s| {
        s.addr = format!("127.0.0.1:{port}").parse().expect("addr");
        s.public_url = Some(PublicUrl::parse(&base).expect("url"));
    })
    .await;
    let spec = ClientSpec {
        name: "Downstream".into(),
        redirect_uris: vec![format!("{}/login/provider/up/callback", down.address)],
        post_logout_redirect_uris: vec![],
        public: false,
        skip_consent: true,
        id_token_alg: portcullis::keys::Alg::RS256,
    };
    let made = clients::add(&mut up.pool.get().expect("conn"), &spec).expect("client");
    let secret = made.client_secret.expect("a secret");
    provider_add(&down, &["up", "--issuer", &up_base, "--client-id", &made.client_id], &secret);
    Pair { down, up, up_base }
}

/// A browser: a cookie jar, no redirects followed.
fn browser() -> reqwest::Client {
    client_with(Arc::new(Jar::default()))
}

fn location(res: &reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "a redirect");
    res.headers()["location"].to_str().expect("ascii").to_owned()
}

impl Pair {
    /// From "Sign in with up" to the callback URL the upstream sends the browser to, signing in
    /// at the upstream as `person` on the way.
    async fn to_callback(&self, browser: &reqwest::Client, person: &TestUser) -> String {
        let res = browser
            .get(format!("{}/login/provider/up?next=%2Faccount", self.down.address))
            .send()
            .await
            .expect("start");
        let authorize = location(&res);
        assert!(authorize.starts_with(&format!("{}/oauth/authorize?", self.up_base)), "{authorize}");
        for needed in ["state=", "nonce=", "code_challenge=", "code_challenge_method=S256"] {
            assert!(authorize.contains(needed), "{needed} in {authorize}");
        }
        self.through_upstream(browser, &authorize, person).await
    }

    /// At the upstream: the authorization, its sign-in page when it asks, and back.
    async fn through_upstream(
        &self,
        browser: &reqwest::Client,
        authorize: &str,
        person: &TestUser,
    ) -> String {
        let res = browser.get(authorize).send().await.expect("authorize");
        let login = location(&res);
        if login.starts_with(&self.down.address) {
            return login; // still signed in at the upstream
        }
        let page = browser.get(format!("{}{login}", self.up_base)).send().await.expect("login page");
        assert_eq!(page.status(), StatusCode::OK);
        let html = page.text().await.expect("html");
        let csrf = html
            .split(r#"name="csrf_token" value=""#)
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the form's CSRF token")
            .to_owned();
        let next: Vec<(String, String)> =
            serde_urlencoded::from_str(login.trim_start_matches("/login?")).expect("q");
        let next = next.into_iter().find(|(k, _)| k == "next").expect("next").1;
        let form = [
            ("email", person.email.as_str()),
            ("password", PASSWORD),
            ("csrf_token", &csrf),
            ("next", &next),
        ];
        let res = browser
            .post(format!("{}/login", self.up_base))
            .form(&form)
            .send()
            .await
            .expect("sign in upstream");
        let back = location(&res);
        let res = browser.get(format!("{}{back}", self.up_base)).send().await.expect("authorize again");
        let callback = location(&res);
        assert!(
            callback.starts_with(&format!("{}/login/provider/up/callback?", self.down.address)),
            "{callback}"
        );
        callback
    }
}

async fn me(down: &TestApp, browser: &reqwest::Client) -> Value {
    let res = browser.get(down.url("/api/me")).send().await.expect("me");
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.expect("json")
}

async fn a_first_sign_in_makes_a_verified_account_and_the_next_finds_it() {
    let p = pair(|_| {}).await;
    let person = p.up.add_user(Role::User);
    let page = browser()
        .get(p.down.url("/login?next=%2Faccount"))
        .send()
        .await
        .expect("login")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("Sign in with <bdi>up</bdi>") && page.contains("/login/provider/up?next=%2Faccount"),
        "{page}"
    );

    let register =
        browser().get(p.down.url("/register")).send().await.expect("register").text().await.expect("html");
    assert!(register.contains("Sign up with <bdi>up</bdi>"), "the register page offers it too: {register}");
    let b = browser();
    let callback = p.to_callback(&b, &person).await;
    let res = b.get(&callback).send().await.expect("callback");
    assert_eq!(location(&res), "/account");
    let who = me(&p.down, &b).await;
    assert_eq!(who["email"], person.email);
    assert_eq!(who["email_verified"], true, "the provider verified it");
    let id = who["id"].as_str().expect("id").to_owned();

    // Again, from another browser: the link finds the same account.
    let b2 = browser();
    let callback = p.to_callback(&b2, &person).await;
    assert_eq!(location(&b2.get(&callback).send().await.expect("callback")), "/account");
    assert_eq!(me(&p.down, &b2).await["id"], id.as_str());
    let events = p.down.event_kinds(&TestUser { email: person.email.clone(), password: String::new(), id });
    assert!(
        events.contains(&"provider_linked".to_owned()) && events.contains(&"provider_sign_in".to_owned()),
        "{events:?}"
    );
}

async fn an_address_that_has_an_account_is_never_linked_by_email() {
    let p = pair(|_| {}).await;
    let person = p.up.add_user(Role::User);
    // Someone already has that address downstream (perhaps the person, perhaps not).
    let hash =
        portcullis::auth::password::hash_blocking(&secrecy::SecretString::from(PASSWORD)).expect("hash");
    let email = Email::try_from(person.email.as_str()).expect("email");
    portcullis::auth::account::register::create_user(
        &mut p.down.pool.get().expect("conn"),
        &email,
        &hash,
        Role::User,
        true,
    )
    .expect("the existing account");
    let b = browser();
    let callback = p.to_callback(&b, &person).await;
    let res = b.get(&callback).send().await.expect("callback");
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let page = res.text().await.expect("html");
    assert!(page.contains("Sign in to your account first") && page.contains("account page"), "{page}");
    assert_eq!(
        b.get(p.down.url("/api/me")).send().await.expect("me").status(),
        StatusCode::UNAUTHORIZED,
        "no session"
    );
    let links = {
        use diesel::{QueryDsl, RunQueryDsl};
        let mut conn = p.down.pool.get().expect("conn");
        portcullis::db::schema::upstream_links::table.count().get_result::<i64>(&mut **conn).expect("count")
    };
    assert_eq!(links, 0, "nothing was linked");
}

async fn without_open_registration_nobody_is_made_and_a_disabled_account_stays_out() {
    let p = pair(|s| s.registration = portcullis::config::Registration::Closed).await;
    let person = p.up.add_user(Role::User);
    let b = browser();
    let callback = p.to_callback(&b, &person).await;
    let res = b.get(&callback).send().await.expect("callback");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("html").contains("registration is closed"));

    // Open registration, an account made through the provider, then disabled: refused.
    let p = pair(|_| {}).await;
    let person = p.up.add_user(Role::User);
    let b = browser();
    let callback = p.to_callback(&b, &person).await;
    b.get(&callback).send().await.expect("callback");
    let id = me(&p.down, &b).await["id"].as_str().expect("id").to_owned();
    p.down.set_disabled_flag_only(&TestUser { email: person.email.clone(), password: String::new(), id });
    let b2 = browser();
    let callback = p.to_callback(&b2, &person).await;
    let res = b2.get(&callback).send().await.expect("callback");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(b2.get(p.down.url("/api/me")).send().await.expect("me").status(), StatusCode::UNAUTHORIZED);
}

async fn callbacks_forged_replayed_or_from_another_browser_do_nothing() {
    let p = pair(|_| {}).await;
    let person = p.up.add_user(Role::User);
    let b = browser();
    let forged =
        b.get(p.down.url("/login/provider/up/callback?code=x&state=made-up")).send().await.expect("forged");
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
    let callback = p.to_callback(&b, &person).await;
    // Opened in another browser (a link sent to someone): nothing happens, and it is spent.
    let other = browser();
    let res = other.get(&callback).send().await.expect("elsewhere");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(other.get(p.down.url("/api/me")).send().await.expect("me").status(), StatusCode::UNAUTHORIZED);
    let res = b.get(&callback).send().await.expect("callback");
    assert_eq!(res.status(), StatusCode::BAD_REQUEST, "a state works once, whoever used it");
    // A fresh one works once; replayed, it is refused.
    let callback = p.to_callback(&b, &person).await;
    assert_eq!(b.get(&callback).send().await.expect("callback").status(), StatusCode::SEE_OTHER);
    let again = b.get(&callback).send().await.expect("replay");
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    // A provider's error comes back as a page, never a 500.
    let callback = p.to_callback(&b, &person).await;
    let state = callback.split("state=").nth(1).and_then(|r| r.split('&').next()).expect("state");
    let denied = b
        .get(p.down.url(&format!("/login/provider/up/callback?error=access_denied&state={state}")))
        .send()
        .await
        .expect("denied");
    assert_eq!(denied.status(), StatusCode::BAD_REQUEST);
    assert!(denied.text().await.expect("html").contains("access_denied"));
    assert_eq!(
        b.get(p.down.url("/login/provider/nobody?next=%2F")).send().await.expect("unknown").status(),
        StatusCode::NOT_FOUND
    );
}

/// Signs `user` in at the downstream with the password; the CSRF token of its pages.
async fn password_sign_in(down: &TestApp, browser: &reqwest::Client, user: &TestUser) -> String {
    let page = browser.get(down.url("/login")).send().await.expect("login").text().await.expect("html");
    let csrf = csrf_of(&page);
    let form = [("email", user.email.as_str()), ("password", PASSWORD), ("csrf_token", &csrf)];
    let res = browser.post(down.url("/login")).form(&form).send().await.expect("sign in");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    csrf_of(&browser.get(down.url("/account")).send().await.expect("account").text().await.expect("html"))
}

fn csrf_of(html: &str) -> String {
    html.split(r#"name="csrf_token" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("a CSRF token")
        .to_owned()
}

async fn a_signed_in_person_connects_and_disconnects_a_provider_with_their_password() {
    let p = pair(|_| {}).await;
    let own = p.down.add_user(Role::User);
    let elsewhere = p.up.add_user(Role::User);
    let b = browser();
    let csrf = password_sign_in(&p.down, &b, &own).await;
    let account = b.get(p.down.url("/account")).send().await.expect("account").text().await.expect("html");
    assert!(account.contains("/account/providers/up/connect"), "a connect form: {account}");

    let wrong = [("csrf_token", csrf.as_str()), ("password", "not my password")];
    let res = b.post(p.down.url("/account/providers/up/connect")).form(&wrong).send().await.expect("connect");
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "a credential takes the password");
    let form = [("csrf_token", csrf.as_str()), ("password", PASSWORD)];
    let res = b.post(p.down.url("/account/providers/up/connect")).form(&form).send().await.expect("connect");
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.expect("html");
    let href = page
        .split(r#"id="continue" href=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the link")
        .replace("&#38;", "&");
    assert!(href.contains("prompt=login"), "the provider must see the person now: {href}");
    let callback = p.through_upstream(&b, &href, &elsewhere).await;
    let res = b.get(&callback).send().await.expect("callback");
    assert_eq!(location(&res), "/account?done=provider-connected");

    // From another browser, the provider now signs in to this very account (whatever its address).
    let b2 = browser();
    let callback = p.to_callback(&b2, &elsewhere).await;
    assert_eq!(location(&b2.get(&callback).send().await.expect("callback")), "/account");
    assert_eq!(me(&p.down, &b2).await["id"], own.id.as_str());

    // Disconnect: the password remains, so it is not the last way in.
    let account = b.get(p.down.url("/account")).send().await.expect("account").text().await.expect("html");
    let subject = account
        .split(r#"name="subject" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("subject")
        .to_owned();
    let form = [("csrf_token", csrf.as_str()), ("issuer", p.up_base.as_str()), ("subject", subject.as_str())];
    let res =
        b.post(p.down.url("/account/providers/disconnect")).form(&form).send().await.expect("disconnect");
    assert_eq!(location(&res), "/account?done=provider-disconnected");
    let kinds = p.down.event_kinds(&own);
    assert!(
        kinds.contains(&"provider_linked".to_owned()) && kinds.contains(&"provider_unlinked".to_owned()),
        "{kinds:?}"
    );

    // An account made through the provider has no other way in: it cannot disconnect it.
    let newcomer = p.up.add_user(Role::User);
    let b3 = browser();
    let callback = p.to_callback(&b3, &newcomer).await;
    b3.get(&callback).send().await.expect("callback");
    let account = b3.get(p.down.url("/account")).send().await.expect("account").text().await.expect("html");
    let csrf = csrf_of(&account);
    let subject = account
        .split(r#"name="subject" value=""#)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("subject")
        .to_owned();
    let form = [("csrf_token", csrf.as_str()), ("issuer", p.up_base.as_str()), ("subject", subject.as_str())];
    let res =
        b3.post(p.down.url("/account/providers/disconnect")).form(&form).send().await.expect("disconnect");
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res.text().await.expect("html").contains("only way left"));
    // And its password sign-in never works: it has none.
    let form = [("email", newcomer.email.as_str()), ("password", PASSWORD), ("csrf_token", &csrf)];
    let res = browser().post(p.down.url("/login")).form(&form).send().await.expect("login");
    assert_ne!(res.status(), StatusCode::SEE_OTHER);
}

async fn a_linked_account_with_totp_still_takes_its_code() {
    let p = pair(|_| {}).await;
    let person = p.up.add_user(Role::User);
    let b = browser();
    let callback = p.to_callback(&b, &person).await;
    b.get(&callback).send().await.expect("callback");
    let id = me(&p.down, &b).await["id"].as_str().expect("id").to_owned();
    {
        use diesel::RunQueryDsl;
        let mut conn = p.down.pool.get().expect("conn");
        let sql = format!(
            "INSERT INTO totp_factors (user_id, secret_sealed, created_at, confirmed_at, last_step) VALUES ('{id}', 'v1.x.y', 0, 1, 0)"
        );
        diesel::sql_query(sql).execute(&mut **conn).expect("TOTP on");
    }
    let b2 = browser();
    let callback = p.to_callback(&b2, &person).await;
    let res = b2.get(&callback).send().await.expect("callback");
    assert_eq!(res.status(), StatusCode::OK, "the code step, not a session");
    let page = res.text().await.expect("html");
    assert!(page.contains(r#"name="mfa_token""#) && page.contains(r#"action="/login/mfa""#), "{page}");
    assert_eq!(b2.get(p.down.url("/api/me")).send().await.expect("me").status(), StatusCode::UNAUTHORIZED);
}
