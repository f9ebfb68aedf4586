//! The OpenAPI document (`/api/openapi.json`) against the route table it describes, and the
//! page that renders it (`/api/docs`). Schemathesis fuzzes the API from it (`fuzzed.rs`).

use std::collections::BTreeSet;

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::spawn_app;
use portcullis_testkit::Browser;

const METHODS: [&str; 4] = ["get", "post", "put", "delete"];

/// Every `(method, path)` the JSON API routes, read from its route table, the one place
/// routes are registered: `api!(apps, "/x"…)…​.post(handler)` under `/api`.
fn routed_operations() -> BTreeSet<(String, String)> {
    let table = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/routes/api/mod.rs"))
        .expect("the API route table");
    let mut routes = BTreeSet::new();
    // A resource's handlers run up to the next `.service(`, over as many lines as rustfmt gives them.
    // `api!(apps, "/x"…)` and `open_api!("/x")` alike.
    for chunk in table.split("api!(").skip(1) {
        let chunk = chunk.strip_prefix("apps, ").unwrap_or(chunk);
        let Some(chunk) = chunk.strip_prefix('"') else { continue };
        let Some((path, rest)) = chunk.split_once('"') else { continue };
        let handlers = rest.split(".service(").next().unwrap_or_default();
        for method in METHODS {
            if handlers.contains(&format!(".{method}(")) {
                routes.insert((method.to_owned(), format!("/api{path}")));
            }
        }
    }
    assert!(routes.len() > 25, "the route table was not read: {routes:?}");
    routes
}

fn documented_operations(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS.iter().filter(|m| item.get(**m).is_some()).map(|m| ((*m).to_owned(), path.clone()))
        })
        .collect()
}

/// A response given by reference, resolved.
fn resolve<'a>(doc: &'a Value, r: &'a Value) -> &'a Value {
    match r["$ref"].as_str().and_then(|p| p.strip_prefix('#')) {
        Some(pointer) => doc.pointer(pointer).expect("a reference that resolves"),
        None => r,
    }
}

async fn document() -> Value {
    let app = spawn_app().await;
    let res = app.get("/api/openapi.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    res.json().await.expect("the document is JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_lists_exactly_the_routes_of_the_api() {
    let doc = document().await;
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    let routed = routed_operations();
    let documented = documented_operations(&doc);
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routes missing from the document: {undocumented:?}");
    assert!(unrouted.is_empty(), "documented operations no route serves: {unrouted:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_documents_its_answers_and_errors_in_the_error_shape() {
    let doc = document().await;
    for (method, path) in documented_operations(&doc) {
        let op = &doc["paths"][&path][&method];
        let name = format!("{} {path}", method.to_uppercase());
        assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{name}: no summary");
        assert!(op["tags"].as_array().is_some_and(|t| t.len() == 1), "{name}: one tag");
        let responses = op["responses"].as_object().expect("responses");
        assert!(responses.keys().any(|s| s.starts_with('2')), "{name}: no success answer");

        let mut expected = vec!["503"];
        if op.get("requestBody").is_some() {
            expected.extend(["400", "413", "415", "422"]);
        }
        let signed_in = op["security"].as_array().is_some_and(|alternatives| {
            !alternatives.is_empty()
                && alternatives.iter().all(|a| a.as_object().is_some_and(|a| !a.is_empty()))
        });
        if signed_in {
            expected.push("401");
        }
        if method != "get" || path.starts_with("/api/admin/") {
            expected.push("403");
        }
        for status in expected {
            assert!(responses.contains_key(status), "{name}: {status} is not documented");
        }

        for (status, response) in responses {
            if status.starts_with('2') {
                continue;
            }
            let response = resolve(&doc, response);
            assert!(
                response["description"].as_str().is_some_and(|d| d.contains('`')),
                "{name} {status}: name the code"
            );
            let schema = &response["content"]["application/json"]["schema"]["$ref"];
            let allowed = [
                "#/components/schemas/ErrorBody",
                "#/components/schemas/OAuthError",
                "#/components/schemas/MfaRequiredBody",
            ];
            assert!(
                allowed.contains(&schema.as_str().unwrap_or("")),
                "{name} {status}: error body is {schema}"
            );
        }
    }
    let body = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(body["required"], serde_json::json!(["error", "message"]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_security_schemes_are_the_bearer_token_the_cookies_and_the_csrf_header() {
    let doc = document().await;
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["bearer"]["bearerFormat"], "JWT");
    for (name, key, place) in [
        ("access_cookie", "access_token", "cookie"),
        ("refresh_cookie", "refresh_token", "cookie"),
        ("csrf_header", "X-CSRF-Token", "header"),
    ] {
        assert_eq!(schemes[name]["type"], "apiKey", "{name}");
        assert_eq!(schemes[name]["name"], key, "{name}");
        assert_eq!(schemes[name]["in"], place, "{name}");
    }
    // A cookie session's unsafe request needs the header; a Bearer one does not.
    let delete = &doc["paths"]["/api/sessions/{id}"]["delete"]["security"];
    assert!(delete.as_array().unwrap().contains(&serde_json::json!({"bearer": []})));
    assert!(
        delete.as_array().unwrap().contains(&serde_json::json!({"access_cookie": [], "csrf_header": []}))
    );
    // The sign-in itself takes no credential.
    assert!(doc["paths"]["/api/auth/login"]["post"].get("security").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docs_page_shows_every_operation_and_needs_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let doc: Value = app.get("/api/openapi.json").await.json().await.unwrap();
    let res = app.get("/api/docs").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let csp = res.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    let page = res.text().await.unwrap();
    for (method, path) in documented_operations(&doc) {
        let shown = format!("<code>{} {path}</code>", method.to_uppercase());
        assert!(page.contains(&shown), "{shown} is not on the page");
    }
    for schema in doc["components"]["schemas"].as_object().unwrap().keys() {
        assert!(page.contains(&format!("id=\"schema-{schema}\"")), "schema {schema} is not on the page");
    }
    assert!(!page.contains("<script"), "the page runs no script");
    assert!(
        !page.contains("src=\"http") && !page.contains("href=\"http"),
        "nothing is loaded from elsewhere"
    );
    assert!(page.contains("/static/css/app.css"));
}

/// The page as a person sees it: styled by Portcullis's own stylesheet under the unchanged
/// CSP, each operation reachable from the index.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_a_browser_the_docs_page_is_styled_and_its_index_links_work() {
    let Some(browser) = Browser::start().await else { return };
    let app = spawn_app().await;
    browser.goto(&app.url("/api/docs")).await;
    browser.wait_for_text("POST /api/auth/login").await;
    let style =
        browser.run("return getComputedStyle(document.querySelector('.method-post')).backgroundColor").await;
    assert_ne!(style.as_str(), Some("rgba(0, 0, 0, 0)"), "the stylesheet did not apply");
    browser.click("a[href='#post-api-auth-login']").await;
    let target = browser.run("return location.hash").await;
    assert_eq!(target.as_str(), Some("#post-api-auth-login"));
    let heading = browser.run("return document.getElementById('post-api-auth-login').innerText").await;
    assert!(heading.as_str().unwrap_or("").contains("Sign in with email and password"), "{heading}");
    browser.quit().await;
}
