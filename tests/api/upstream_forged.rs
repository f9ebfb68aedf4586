//! ID tokens a provider should never send, and Portcullis must never take (SPEC §13): a
//! provider started here signs what each case asks — a wrong nonce, another audience, another
//! issuer, an expired token, a signature by another key, a token naming its own key — and
//! every one ends on an error page with nobody signed in and no account made. The same provider
//! sending a proper token signs the person in, so each refusal is the token's doing.

use std::sync::{Arc, Mutex};

use actix_web::{HttpRequest, HttpResponse, web};
use reqwest::StatusCode;
use reqwest::cookie::Jar;
use serde_json::json;

use portcullis::keys::{Alg, SigningPair};

use crate::helpers::{TestApp, backend_tests, client_with, provider_add, serve, spawn_app};

backend_tests!(forged_id_tokens_sign_nobody_in);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    Proper,
    WrongNonce,
    OtherAudience,
    OtherIssuer,
    Expired,
    OtherKey,
    EmbeddedKey,
}

struct Provider {
    base: Mutex<String>,
    key: SigningPair,
    stranger: SigningPair,
    case: Mutex<Case>,
    /// The nonce of the last authorization request.
    nonce: Mutex<String>,
}

impl Provider {
    fn base(&self) -> String {
        self.base.lock().expect("lock").clone()
    }
}

fn pair() -> SigningPair {
    SigningPair::from_der(Alg::RS256, &Alg::RS256.generate().expect("key")).expect("pair")
}

fn start_provider() -> Arc<Provider> {
    // The base URL is known only once it listens; the handlers read it from the shared state.
    let provider = Arc::new(Provider {
        base: Mutex::new(String::new()),
        key: pair(),
        stranger: pair(),
        case: Mutex::new(Case::Proper),
        nonce: Mutex::new(String::new()),
    });
    let shared = provider.clone();
    let base = serve(move |cfg| {
        cfg.app_data(web::Data::from(shared.clone()))
            .route("/.well-known/openid-configuration", web::get().to(discovery))
            .route("/jwks", web::get().to(jwks))
            .route("/authorize", web::get().to(authorize))
            .route("/token", web::post().to(token));
    });
    *provider.base.lock().expect("lock") = base;
    provider
}

async fn discovery(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "issuer": p.base(),
        "authorization_endpoint": format!("{}/authorize", p.base()),
        "token_endpoint": format!("{}/token", p.base()),
        "jwks_uri": format!("{}/jwks", p.base()),
    }))
}

async fn jwks(p: web::Data<Provider>) -> HttpResponse {
    HttpResponse::Ok().json(json!({"keys": [p.key.jwk]}))
}

async fn authorize(p: web::Data<Provider>, query: web::Query<Vec<(String, String)>>) -> HttpResponse {
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    *p.nonce.lock().expect("lock") = get("nonce");
    let back = serde_urlencoded::to_string([("code", "c0de"), ("state", &get("state"))]).expect("q");
    HttpResponse::Found().insert_header(("location", format!("{}?{back}", get("redirect_uri")))).finish()
}

async fn token(p: web::Data<Provider>, req: HttpRequest) -> HttpResponse {
    assert!(req.headers().contains_key("authorization"), "client_secret_basic");
    let case = *p.case.lock().expect("lock");
    let now = portcullis::db::now();
    let nonce = p.nonce.lock().expect("lock").clone();
    let claims = json!({
        "iss": if case == Case::OtherIssuer { "http://127.0.0.1:1".to_owned() } else { p.base() },
        "sub": "u-1",
        "aud": if case == Case::OtherAudience { "someone-else" } else { "portcullis" },
        "exp": if case == Case::Expired { now - 600 } else { now + 300 },
        "iat": now - 5,
        "nonce": if case == Case::WrongNonce { "not-the-nonce".to_owned() } else { nonce },
        "email": "forged@example.org",
        "email_verified": true,
    });
    let signer = if case == Case::OtherKey { &p.stranger } else { &p.key };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(p.key.kid.clone());
    if case == Case::EmbeddedKey {
        header.jwk = Some(p.stranger.jwk.clone());
    }
    let id_token = jsonwebtoken::encode(&header, &claims, &signer.encoding).expect("signed");
    HttpResponse::Ok().json(json!({"access_token": "at", "token_type": "Bearer", "id_token": id_token}))
}

async fn callback_status(down: &TestApp) -> (StatusCode, String) {
    let browser = client_with(Arc::new(Jar::default()));
    let res = browser.get(down.url("/login/provider/stub?next=%2Faccount")).send().await.expect("start");
    let to_provider = res.headers()["location"].to_str().expect("ascii").to_owned();
    let res = browser.get(&to_provider).send().await.expect("authorize");
    let callback = res.headers()["location"].to_str().expect("ascii").to_owned();
    let res = browser.get(&callback).send().await.expect("callback");
    let status = res.status();
    let me = browser.get(down.url("/api/me")).send().await.expect("me").status();
    let body = res.text().await.expect("body");
    if status != StatusCode::SEE_OTHER {
        assert_eq!(me, StatusCode::UNAUTHORIZED, "nobody is signed in after a refusal");
    }
    (status, body)
}

async fn forged_id_tokens_sign_nobody_in() {
    let down = spawn_app().await;
    let provider = start_provider();
    let issuer = provider.base();
    provider_add(&down, &["stub", "--issuer", &issuer, "--client-id", "portcullis"], "stub-secret");
    for case in [
        Case::WrongNonce,
        Case::OtherAudience,
        Case::OtherIssuer,
        Case::Expired,
        Case::OtherKey,
        Case::EmbeddedKey,
    ] {
        *provider.case.lock().expect("lock") = case;
        let (status, page) = callback_status(&down).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY, "{case:?}: {page}");
        assert!(page.contains("could not be used"), "{case:?}: {page}");
    }
    let accounts = {
        use diesel::{QueryDsl, RunQueryDsl};
        let mut conn = down.pool.get().expect("conn");
        portcullis::db::schema::users::table.count().get_result::<i64>(&mut **conn).expect("count")
    };
    assert_eq!(accounts, 0, "no account was made from a forged token");
    *provider.case.lock().expect("lock") = Case::Proper;
    let (status, _) = callback_status(&down).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "the same provider's proper token signs in");
}
