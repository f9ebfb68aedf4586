//! Another service verifying Portcullis tokens from the JWKS alone, with a JWT library that
//! is not jsonwebtoken: PyJWT's `PyJWKClient`, run as a Python service would run it.

use std::time::Duration;

use portcullis::domain::Role;
use portcullis::keys::{Alg, KeyFile};

use crate::helpers::{TestApp, spawn_app_with};
use crate::helpers::{kid_of, wait_for_new_kid};

const PYTHON: &str = "/usr/bin/python3";

/// PyJWT with `cryptography` (Debian: python3-jwt, python3-cryptography); required with CI=true.
async fn pyjwt_available() -> bool {
    let probe = tokio::process::Command::new(PYTHON).args(["-c", "import jwt, cryptography"]).output().await;
    let ok = probe.is_ok_and(|out| out.status.success());
    if !ok {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true but PyJWT (python3-jwt) is missing");
        eprintln!("skipping: PyJWT is not installed (apt-get install python3-jwt python3-cryptography)");
    }
    ok
}

/// Runs `tests/jwks_verify.py` on `tokens`: whether it accepted them all, and what it said.
async fn pyjwt_verifies(app: &TestApp, tokens: &[&str]) -> (bool, String) {
    let out = tokio::process::Command::new(PYTHON)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/jwks_verify.py"))
        .arg(app.url("/.well-known/jwks.json"))
        .arg(&app.address)
        .arg(format!("{}/api", app.address))
        .args(tokens)
        .output()
        .await
        .expect("python runs");
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), said)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyjwt_verifies_tokens_of_every_algorithm_from_the_jwks_before_and_after_a_rotation() {
    if !pyjwt_available().await {
        return;
    }
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
        let app = spawn_app_with(|s| {
            s.jwt_alg = alg;
            s.key_reload = Duration::from_millis(200);
        })
        .await;
        let user = app.add_user(Role::Admin);
        let before = app.bearer_for(&user).await;
        let (ok, said) = pyjwt_verifies(&app, &[&before]).await;
        assert!(ok, "{alg:?}: {said}");
        assert!(said.contains(&format!("ok {} admin", user.id)), "{said}");

        KeyFile::rotate_file(&app.settings.key_file, &[alg, Alg::RS256], portcullis::db::now(), 990).unwrap();
        let after = wait_for_new_kid(&app.address, &user, &kid_of(&before)).await;
        let (ok, said) = pyjwt_verifies(&app, &[&before, &after]).await;
        assert!(ok, "{alg:?} after the rotation: {said}");

        // The verifier really checks: a token with another subject under the same signature fails.
        let mut segments: Vec<String> = after.split('.').map(str::to_owned).collect();
        let claims =
            String::from_utf8(base64_decode(&segments[1])).unwrap().replace(&user.id, "someone-else");
        segments[1] = base64_encode(claims.as_bytes());
        let (ok, said) = pyjwt_verifies(&app, &[&segments.join(".")]).await;
        assert!(!ok && said.contains("refused"), "{alg:?}: a tampered token passed: {said}");
    }
}

fn base64_decode(segment: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(segment).unwrap()
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
