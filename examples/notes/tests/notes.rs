//! The notes app through the front door, on both backends: Portcullis's policies and
//! extractors in front of the app's own pages and API, each person's notes their own, an
//! account's deletion taking its notes, a disabled account refused at its next request, the
//! implicit refresh on a notes page — and a person in Chromium who signs up, writes a note and
//! signs out.

use std::sync::Arc;
use std::time::Duration;

use diesel::{Connection, RunQueryDsl};
use portcullis::Settings;
use portcullis_testkit::{Browser, TestDb, backend_tests, client_with, current_backend, random_hex};
use reqwest::StatusCode;
use reqwest::cookie::{CookieStore, Jar};
use serde_json::{Value, json};

const PASSWORD: &str = "tangerine orbit velvet cactus";

backend_tests!(
    signed_out_visitors_are_sent_to_sign_in_and_the_api_answers_401,
    each_person_sees_only_their_own_notes,
    a_cookie_post_needs_its_csrf_token_and_a_bearer_post_does_not,
    deleting_an_account_deletes_its_notes,
    a_disabled_account_is_refused_at_its_next_request,
    the_notes_page_refreshes_an_expired_access_token_in_place,
    an_app_reads_notes_only_where_the_app_opted_in,
);

/// The notes app on the current test's backend, on port 0 with a fresh database.
struct NotesApp {
    address: String,
    db_url: String,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

async fn spawn_notes(tweak: impl FnOnce(&mut Settings)) -> NotesApp {
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::new(current_backend(), dir.path());
    let mut settings = Settings::with_database(db.url.clone());
    settings.addr = "127.0.0.1:0".parse().unwrap();
    settings.key_file = dir.path().join("portcullis.key");
    settings.db_pool = 4;
    tweak(&mut settings);
    let notes = notes::Notes::build(settings).expect("the notes app builds");
    let address = format!("http://{}", notes.addr());
    tokio::spawn(notes.run_until_stopped());
    NotesApp { address, db_url: db.url.clone(), _db: db, _dir: dir }
}

/// A person with a browser-like client (cookies, no redirects followed).
struct Person {
    client: reqwest::Client,
    jar: Arc<Jar>,
    email: String,
    id: String,
}

impl NotesApp {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// Registers someone through Portcullis's API (open registration signs them in).
    async fn person(&self) -> Person {
        let jar = Arc::new(Jar::default());
        let client = client_with(jar.clone());
        let email = format!("note-taker-{}@example.com", random_hex());
        let res = client
            .post(self.url("/api/auth/register"))
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let id = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
        Person { client, jar, email, id }
    }

    fn cookie(&self, person: &Person, name: &str) -> Option<String> {
        let header = person.jar.cookies(&self.address.parse().unwrap())?;
        header.to_str().ok()?.split("; ").find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }

    async fn api_add(&self, person: &Person, text: &str) -> reqwest::Response {
        let csrf = self.cookie(person, "csrf_token").unwrap_or_default();
        let req = person.client.post(self.url("/api/notes")).header("x-csrf-token", csrf);
        req.json(&json!({"text": text})).send().await.unwrap()
    }

    async fn api_list(&self, person: &Person) -> reqwest::Response {
        person.client.get(self.url("/api/notes")).send().await.unwrap()
    }

    async fn bearer(&self, person: &Person) -> String {
        let form = [("grant_type", "password"), ("username", person.email.as_str()), ("password", PASSWORD)];
        let res = reqwest::Client::new().post(self.url("/api/auth/token")).form(&form).send().await.unwrap();
        res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_owned()
    }

    /// Runs `sql` on the app's database; returns the first column of the first row, if any.
    fn count(&self, sql: &str) -> i64 {
        #[derive(diesel::QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let rows: Vec<Count> = if self.db_url.starts_with("postgres") {
            let mut conn = diesel::PgConnection::establish(&self.db_url).unwrap();
            diesel::sql_query(sql).load(&mut conn).unwrap()
        } else {
            let mut conn = diesel::SqliteConnection::establish(&self.db_url).unwrap();
            diesel::sql_query(sql).load(&mut conn).unwrap()
        };
        rows.first().map_or(0, |r| r.n)
    }

    fn execute(&self, sql: &str) {
        if self.db_url.starts_with("postgres") {
            let mut conn = diesel::PgConnection::establish(&self.db_url).unwrap();
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        } else {
            let mut conn = diesel::SqliteConnection::establish(&self.db_url).unwrap();
            diesel::sql_query(sql).execute(&mut conn).unwrap();
        }
    }

    /// Makes `person` an administrator and returns their Bearer token.
    async fn admin(&self, person: &Person) -> String {
        self.execute(&format!("UPDATE users SET role = 'admin' WHERE id = '{}'", person.id));
        self.bearer(person).await
    }

    fn notes_of(&self, person: &Person) -> i64 {
        self.count(&format!("SELECT COUNT(*) AS n FROM notes WHERE user_id = '{}'", person.id))
    }
}

async fn signed_out_visitors_are_sent_to_sign_in_and_the_api_answers_401() {
    let app = spawn_notes(|_| {}).await;
    let visitor = client_with(Arc::new(Jar::default()));
    let home = visitor.get(app.url("/")).send().await.unwrap();
    assert_eq!(home.status(), StatusCode::OK);
    let home = home.text().await.unwrap();
    assert!(
        home.contains("Notes that stay yours") && home.contains("href=\"/login?next=%2Fnotes\""),
        "{home}"
    );
    assert!(home.contains("/static/css/app.css"), "the Portcullis layout");
    let page = visitor.get(app.url("/notes")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(page.headers()["location"], "/login?next=%2Fnotes");
    let api = visitor.get(app.url("/api/notes")).send().await.unwrap();
    assert_eq!(api.status(), StatusCode::UNAUTHORIZED);
    assert!(api.headers().contains_key("www-authenticate"));
    let body: Value = api.json().await.unwrap();
    assert_eq!(body["error"], "unauthorized", "{body}");
    let post = visitor.post(app.url("/api/notes")).json(&json!({"text": "x"})).send().await.unwrap();
    assert_eq!(post.status(), StatusCode::UNAUTHORIZED);
    // Portcullis's own routes are all there, beside the app's.
    assert_eq!(visitor.get(app.url("/login")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(visitor.get(app.url("/api/openapi.json")).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(visitor.get(app.url("/.well-known/jwks.json")).send().await.unwrap().status(), StatusCode::OK);
}

async fn each_person_sees_only_their_own_notes() {
    let app = spawn_notes(|_| {}).await;
    let (ann, bob) = (app.person().await, app.person().await);
    for text in ["ann's first", "ann's second"] {
        assert_eq!(app.api_add(&ann, text).await.status(), StatusCode::CREATED);
    }
    let added = app.api_add(&bob, "bob's only").await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let note: Value = added.json().await.unwrap();
    assert_eq!(note["text"], "bob's only");
    assert!(
        note["id"].is_string() && note["created_at"].as_str().is_some_and(|t| t.ends_with('Z')),
        "{note}"
    );
    let anns: Value = app.api_list(&ann).await.json().await.unwrap();
    let texts: Vec<&str> = anns.as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert_eq!(texts, ["ann's second", "ann's first"], "newest first, and only hers");
    let bobs: Value = app.api_list(&bob).await.json().await.unwrap();
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    let page = bob.client.get(app.url("/notes")).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("bob&#39;s only"), "escaped as HTML: {page}");
    assert!(!page.contains("ann"), "nothing of ann's on bob's page");
    let empty = app.api_add(&ann, "   ").await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(empty.json::<Value>().await.unwrap()["error"], "invalid_text");
}

async fn a_cookie_post_needs_its_csrf_token_and_a_bearer_post_does_not() {
    let app = spawn_notes(|_| {}).await;
    let ann = app.person().await;
    // The page: its form carries the token; without it, the page policy refuses.
    let page = ann.client.get(app.url("/notes")).send().await.unwrap().text().await.unwrap();
    let token =
        page.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let forged = ann.client.post(app.url("/notes")).form(&[("text", "forged")]).send().await.unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let cross_site = ann
        .client
        .post(app.url("/notes"))
        .header("origin", "https://evil.example")
        .form(&[("text", "cross-site"), ("csrf_token", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let posted =
        ann.client.post(app.url("/notes")).form(&[("text", "from the form"), ("csrf_token", &token)]);
    let posted = posted.send().await.unwrap();
    assert_eq!(posted.status(), StatusCode::SEE_OTHER);
    assert_eq!(posted.headers()["location"], "/notes");
    // The API: a cookie session needs X-CSRF-Token…
    let bare =
        ann.client.post(app.url("/api/notes")).json(&json!({"text": "no header"})).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    assert_eq!(bare.json::<Value>().await.unwrap()["error"], "csrf_failed");
    assert_eq!(app.api_add(&ann, "with the header").await.status(), StatusCode::CREATED);
    // …a Bearer token does not (and carries no cookie).
    let token = app.bearer(&ann).await;
    let res = reqwest::Client::new()
        .post(app.url("/api/notes"))
        .bearer_auth(&token)
        .json(&json!({"text": "from a script"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let listed = reqwest::Client::new().get(app.url("/api/notes")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(listed.json::<Value>().await.unwrap().as_array().unwrap().len(), 3);
    assert_eq!(app.notes_of(&ann), 3, "nothing forged was stored");
}

async fn deleting_an_account_deletes_its_notes() {
    let app = spawn_notes(|_| {}).await;
    let (ann, bob, boss) = (app.person().await, app.person().await, app.person().await);
    for person in [&ann, &bob] {
        assert_eq!(app.api_add(person, "a note").await.status(), StatusCode::CREATED);
    }
    // Ann deletes her own account (Portcullis's API, with her password).
    let csrf = app.cookie(&ann, "csrf_token").unwrap();
    let gone = ann
        .client
        .delete(app.url("/api/account"))
        .header("x-csrf-token", csrf)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.notes_of(&ann), 0, "her notes went with her account");
    // An administrator deletes Bob's.
    let admin = app.admin(&boss).await;
    let path = format!("/api/admin/users/{}", bob.id);
    let res = reqwest::Client::new().delete(app.url(&path)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.notes_of(&bob), 0);
    assert_eq!(app.count("SELECT COUNT(*) AS n FROM notes"), 0);
}

async fn a_disabled_account_is_refused_at_its_next_request() {
    let app = spawn_notes(|_| {}).await;
    let (ann, boss) = (app.person().await, app.person().await);
    assert_eq!(app.api_list(&ann).await.status(), StatusCode::OK);
    let admin = app.admin(&boss).await;
    let path = format!("/api/admin/users/{}/disable", ann.id);
    let res = reqwest::Client::new().post(app.url(&path)).bearer_auth(&admin).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.api_list(&ann).await.status(), StatusCode::UNAUTHORIZED);
    let page = ann.client.get(app.url("/notes")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::SEE_OTHER, "back to the sign-in page");
}

async fn the_notes_page_refreshes_an_expired_access_token_in_place() {
    let app = spawn_notes(|s| {
        s.access_ttl = Duration::from_secs(1);
        s.clock_leeway = Duration::ZERO;
    })
    .await;
    let ann = app.person().await;
    assert_eq!(app.api_add(&ann, "before").await.status(), StatusCode::CREATED);
    let access = app.cookie(&ann, "access_token").unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let page = ann.client.get(app.url("/notes")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK, "no bounce through a refresh URL");
    let renewed = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|c| c.starts_with("access_token=") && !c.starts_with(&format!("access_token={access}")));
    assert!(renewed, "a new access token came with the page");
    assert!(page.text().await.unwrap().contains("before"));
    assert_eq!(app.api_list(&ann).await.status(), StatusCode::OK, "and it works for the API too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_a_person_signs_up_writes_a_note_and_signs_out() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_notes(|_| {}).await;
    let email = format!("browser-{}@example.com", random_hex());
    browser.goto(&app.url("/")).await;
    browser.click("a[href='/register']").await;
    browser.fill("#email", &email).await;
    browser.fill("#password", PASSWORD).await;
    browser.fill("#password_confirm", PASSWORD).await;
    browser.click("form[action='/register'] button[type=submit]").await;
    browser.wait_for_text("Your account").await;
    browser.goto(&app.url("/notes")).await;
    browser.fill("#text", "Remember the milk").await;
    browser.click("form[action='/notes'] button[type=submit]").await;
    let text = browser.wait_for_text("Remember the milk").await;
    assert!(text.contains("Remember the milk") && text.contains(&email), "{text}");
    assert_eq!(browser.path().await, "/notes");
    browser.click("form[action='/logout'] button").await;
    browser.wait_for_text("Sign in").await;
    assert_eq!(browser.path().await, "/login");
    browser.goto(&app.url("/notes")).await;
    browser.wait_for_text("Sign in").await;
    assert_eq!(browser.path().await, "/login", "signed out: the notes are behind the sign-in page");
    browser.quit().await;
}

/// An app the person signed in to through Portcullis (OpenID Connect) reads their notes at the
/// one route that takes `AppToken`; its token gets 403 `insufficient_scope` at `CurrentUser`
/// routes, the app's own and Portcullis's.
async fn an_app_reads_notes_only_where_the_app_opted_in() {
    let app = spawn_notes(|_| {}).await;
    let (ann, admin) = (app.person().await, app.person().await);
    assert_eq!(app.api_add(&ann, "for the app too").await.status(), StatusCode::CREATED);
    let admin_token = app.admin(&admin).await;
    let callback = "http://127.0.0.1:9/callback";
    let registered = reqwest::Client::new()
        .post(app.url("/api/admin/clients"))
        .bearer_auth(&admin_token)
        .json(&json!({"name": "Reader", "redirect_uris": [callback], "skip_consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered: Value = registered.json().await.unwrap();
    let (client_id, secret) =
        (registered["client_id"].as_str().unwrap(), registered["client_secret"].as_str().unwrap());
    let query = serde_urlencoded::to_string([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", callback),
        ("scope", "openid"),
        ("state", "s"),
    ])
    .unwrap();
    let res = ann.client.get(app.url(&format!("/oauth/authorize?{query}"))).send().await.unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let back: Vec<(String, String)> =
        serde_urlencoded::from_str(location.split_once('?').unwrap().1).unwrap();
    let code = back.into_iter().find(|(k, _)| k == "code").expect("a code").1;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", callback),
        ("client_id", client_id),
        ("client_secret", secret),
    ];
    let tokens: Value = reqwest::Client::new()
        .post(app.url("/api/auth/token"))
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().expect("an app token");
    let read =
        reqwest::Client::new().get(app.url("/api/app/notes")).bearer_auth(access).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::OK);
    let notes: Value = read.json().await.unwrap();
    assert_eq!(notes[0]["text"], "for the app too");
    for path in ["/api/notes", "/api/me"] {
        let res = reqwest::Client::new().get(app.url(path)).bearer_auth(access).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        assert_eq!(res.json::<Value>().await.unwrap()["error"], "insufficient_scope");
    }
    // The person's own token is not an app's.
    let own = app.bearer(&ann).await;
    let res = reqwest::Client::new().get(app.url("/api/app/notes")).bearer_auth(&own).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}
