//! The admin role (SPEC §4), its one home: the pages (the list, disabling and enabling, the
//! tools for one account — role, end every session, lift the sign-in lock, delete — and the same
//! tools in a real browser) in `pages.rs`, the JSON twins with the same rules and the same
//! security events in `api.rs`.

use reqwest::StatusCode;

use crate::helpers::{TestApp, TestUser, spawn_app_with};

mod api;
mod pages;

async fn app_with_a_low_lock() -> TestApp {
    spawn_app_with(|s| s.throttle_account = 2).await
}

/// The account page of `user`, read in a browser of their own.
async fn account_page_of(app: &TestApp, user: &TestUser) -> String {
    let theirs = crate::helpers::client_with(std::sync::Arc::new(reqwest::cookie::Jar::default()));
    let csrf_page = theirs.get(app.url("/login")).send().await.unwrap();
    assert_eq!(csrf_page.status(), StatusCode::OK);
    let csrf = csrf_page.headers().get_all("set-cookie").iter().find_map(|c| {
        let c = c.to_str().ok()?;
        c.strip_prefix("csrf_token=").map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
    });
    let form = [
        ("email", user.email.as_str()),
        ("password", user.password.as_str()),
        ("csrf_token", csrf.as_deref().unwrap_or_default()),
    ];
    let signed_in = theirs.post(app.url("/login")).form(&form).send().await.unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    theirs.get(app.url("/account")).send().await.unwrap().text().await.unwrap()
}
