//! The key ring (SPEC §2, §6): generated asymmetric keys, the JWKS and metadata, rotation
//! without sign-outs (across a restart and between running instances), the upgrade from a
//! key file of the previous version, and key-confusion tokens.

use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use portcullis::config::{PublicUrl, Settings};
use portcullis::domain::Role;
use portcullis::keys::{Alg, KeyFile};
use portcullis::startup::Application;
use reqwest::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::helpers::{
    TestApp, backend_tests, jwks, keys_command, kid_of, parts, spawn_app_with, token_pair_at,
    wait_for_new_kid,
};

pub const PUBLIC_URL: &str = "http://auth.test.internal";

fn kids(set: &Value) -> Vec<String> {
    set["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// The published keys of one algorithm (the ring keeps an RS256 key for ID tokens beside the
/// access tokens' key, SPEC §11).
fn kids_of(set: &Value, alg: &str) -> Vec<String> {
    let keys = set["keys"].as_array().unwrap().iter().filter(|k| k["alg"] == alg);
    keys.map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

/// An app with one public URL, so that other apps on the same database and key file accept
/// its tokens (the issuer is the public URL).
async fn spawn_shared(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(|s| {
        s.public_url = Some(PublicUrl::parse(PUBLIC_URL).unwrap());
        tweak(s);
    })
    .await
}

/// Another instance on `app`'s database and key file: a restart, or a second host.
async fn start_beside(app: &TestApp, tweak: impl FnOnce(&mut Settings)) -> String {
    let mut settings = app.settings.clone();
    tweak(&mut settings);
    let built = Application::build(settings).expect("the second instance builds");
    let port = built.port();
    tokio::spawn(built.run_until_stopped());
    format!("http://127.0.0.1:{port}")
}

async fn me(base: &str, token: &str) -> StatusCode {
    let res = reqwest::Client::new().get(format!("{base}/api/me")).bearer_auth(token).send().await;
    res.expect("request").status()
}

async fn refreshed(base: &str, refresh_token: &str) -> (String, String) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    let res = reqwest::Client::new().post(format!("{base}/api/auth/token")).form(&form).send().await;
    let res = res.expect("request");
    assert_eq!(res.status(), StatusCode::OK, "the refresh token still works");
    let body: Value = res.json().await.expect("json");
    (body["access_token"].as_str().unwrap().to_owned(), body["refresh_token"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_algorithm_publishes_the_public_half_of_the_key_that_signed_the_token() {
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
        let app = spawn_app_with(|s| s.jwt_alg = alg).await;
        let user = app.add_user(Role::Admin);
        let (access, refresh) = token_pair_at(&app.address, &user).await;
        let (header, claims) = parts(&access);
        assert_eq!(header["alg"], alg.as_str());
        assert_eq!(claims["role"], "admin");
        assert_eq!(parts(&refresh).0["alg"], "HS256", "refresh tokens are for Portcullis alone");
        let res = app.get("/.well-known/jwks.json").await;
        let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
        let max_age: i64 = cache.strip_prefix("public, max-age=").expect(&cache).parse().unwrap();
        assert!(max_age > 0 && max_age < 900 + 90, "{cache}: shorter than a retired key's overlap");
        let set: Value = res.json().await.unwrap();
        assert_eq!(kids_of(&set, alg.as_str()), vec![kid_of(&access)]);
        let id_token_keys = kids_of(&set, "RS256").len();
        assert_eq!(kids(&set).len(), 3, "one key per algorithm an access or ID token may be signed with");
        assert_eq!(id_token_keys, 1);
        let key = set["keys"].as_array().unwrap().iter().find(|k| k["alg"] == alg.as_str()).unwrap();
        assert_eq!((key["alg"].as_str(), key["use"].as_str()), (Some(alg.as_str()), Some("sig")));
        for private in ["d", "p", "q", "dp", "dq", "qi", "k"] {
            assert!(key.get(private).is_none(), "{alg:?} publishes {private}");
        }
        assert_eq!(me(&app.address, &access).await, StatusCode::OK);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_names_the_endpoints_and_with_a_jwt_secret_nothing_is_published() {
    let app =
        spawn_app_with(|s| s.jwt_secret = Some(SecretString::from("a-shared-secret-of-at-least-32-bytes!")))
            .await;
    let meta: Value = app.get("/.well-known/oauth-authorization-server").await.json().await.unwrap();
    let issuer = app.address.as_str();
    assert_eq!(meta["issuer"], issuer);
    assert_eq!(meta["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(meta["token_endpoint"], format!("{issuer}/api/auth/token"));
    assert_eq!(meta["revocation_endpoint"], format!("{issuer}/api/auth/revoke"));
    assert_eq!(meta["grant_types_supported"], json!(["password", "refresh_token"]));
    assert_eq!(jwks(&app.address).await, json!({"keys": []}));
    let user = app.add_user(Role::User);
    let (access, _) = token_pair_at(&app.address, &user).await;
    assert_eq!(parts(&access).0["alg"], "HS256");
    assert_eq!(me(&app.address, &access).await, StatusCode::OK);
}

/// RFC 8725 §2.1: a token whose header says HS256 and whose "secret" is the public key
/// (as PEM, DER, raw bytes or the JWK itself) must not verify. And `none`, or another
/// algorithm than the key's, never does either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_confusion_tokens_are_refused_for_every_algorithm() {
    for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
        let app = spawn_app_with(|s| s.jwt_alg = alg).await;
        let user = app.add_user(Role::User);
        let (access, _) = token_pair_at(&app.address, &user).await;
        assert_eq!(me(&app.address, &access).await, StatusCode::OK, "the real token works");
        let (_, claims) = parts(&access);
        let jwk = jwks(&app.address).await["keys"][0].clone();
        let kid = jwk["kid"].as_str().unwrap().to_owned();
        for (encoding, secret) in public_encodings(&jwk) {
            let forged = forge_hs256(&kid, &claims, &secret);
            assert_eq!(me(&app.address, &forged).await, StatusCode::UNAUTHORIZED, "{alg:?} {encoding}");
        }
        let unsigned = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none", "typ": "at+jwt", "kid": kid}).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        assert_eq!(me(&app.address, &unsigned).await, StatusCode::UNAUTHORIZED, "{alg:?} none");
        let signature = access.rsplit('.').next().unwrap();
        let other_alg = if alg == Alg::ES256 { "EdDSA" } else { "ES256" };
        let relabelled = format!(
            "{}.{}.{signature}",
            URL_SAFE_NO_PAD.encode(json!({"alg": other_alg, "typ": "at+jwt", "kid": kid}).to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        assert_eq!(me(&app.address, &relabelled).await, StatusCode::UNAUTHORIZED, "{alg:?} relabelled");
    }
}

fn forge_hs256(kid: &str, claims: &Value, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json!({"alg": "HS256", "typ": "at+jwt", "kid": kid}).to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = portcullis::keys::hmac_sha256(secret, input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// The public key as an attacker would try it as an HMAC secret.
fn public_encodings(jwk: &Value) -> Vec<(&'static str, Vec<u8>)> {
    use ed25519_dalek::pkcs8::EncodePublicKey;
    let b64 = |field: &str| URL_SAFE_NO_PAD.decode(jwk[field].as_str().unwrap()).unwrap();
    let (raw, der) = match jwk["kty"].as_str().unwrap() {
        "OKP" => {
            let x = b64("x");
            let key = ed25519_dalek::VerifyingKey::from_bytes(&x.clone().try_into().unwrap()).unwrap();
            (x, key.to_public_key_der().unwrap().into_vec())
        }
        "EC" => {
            let point = [vec![4u8], b64("x"), b64("y")].concat();
            let key = p256::PublicKey::from_sec1_bytes(&point).unwrap();
            (point, p256::pkcs8::EncodePublicKey::to_public_key_der(&key).unwrap().into_vec())
        }
        _ => {
            let key = rsa::RsaPublicKey::new(
                rsa::BigUint::from_bytes_be(&b64("n")),
                rsa::BigUint::from_bytes_be(&b64("e")),
            )
            .unwrap();
            (b64("n"), rsa::pkcs8::EncodePublicKey::to_public_key_der(&key).unwrap().into_vec())
        }
    };
    let body: Vec<String> = STANDARD
        .encode(&der)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    let pem = format!("-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n", body.join("\n"));
    vec![
        ("raw", raw),
        ("DER", der),
        ("PEM", pem.clone().into_bytes()),
        ("PEM without the final newline", pem.trim_end().as_bytes().to_vec()),
        ("JWK", jwk.to_string().into_bytes()),
    ]
}

backend_tests!(
    a_rotation_signs_nobody_out_across_a_restart,
    a_rotation_on_one_host_reaches_a_running_instance_without_a_restart,
    a_key_file_of_the_previous_version_signs_nobody_out,
    a_retired_key_stops_verifying_on_a_running_instance_without_a_restart,
);

/// A token for `like`'s session, valid for an hour, signed with the key file's active key as it
/// is now — what someone who copied the file can make at will.
fn forged_with_the_active_key(app: &TestApp, like: &str) -> String {
    let text = std::fs::read_to_string(&app.settings.key_file).unwrap();
    let file = KeyFile::parse(&text, &app.settings.key_file).unwrap().unwrap();
    let key = file.active(app.settings.jwt_alg).unwrap();
    let pair = portcullis::keys::SigningPair::from_der(key.alg, &key.private).unwrap();
    let (_, mut claims) = parts(like);
    claims["exp"] = json!(portcullis::db::now() + 3600);
    claims["jti"] = json!(format!("forged-{}", portcullis::db::now()));
    let mut header = jsonwebtoken::Header::new(pair.alg.jwt());
    header.typ = Some("at+jwt".into());
    header.kid = Some(pair.kid.clone());
    jsonwebtoken::encode(&header, &claims, &pair.encoding).unwrap()
}

/// Rotation after a leak: once the overlap is over, the old key verifies nothing on an instance
/// that never restarted — neither a token it checked before (and remembers) nor a new one.
async fn a_retired_key_stops_verifying_on_a_running_instance_without_a_restart() {
    let app = spawn_shared(|s| {
        s.key_reload = Duration::from_millis(200);
        s.access_ttl = Duration::from_secs(2);
        s.clock_leeway = Duration::ZERO;
    })
    .await;
    let overlap = app.settings.key_overlap_secs();
    assert_eq!(overlap, 3, "1 s reload + 2 s access lifetime + no leeway");
    let user = app.add_user(Role::User);
    let (before, _) = token_pair_at(&app.address, &user).await;
    let leaked = forged_with_the_active_key(&app, &before);
    assert_eq!(me(&app.address, &leaked).await, StatusCode::OK, "the active key's signature is good");
    KeyFile::rotate_file(&app.settings.key_file, &[Alg::EdDSA, Alg::RS256], portcullis::db::now(), overlap)
        .unwrap();
    wait_for_new_kid(&app.address, &user, &kid_of(&before)).await;
    assert_eq!(me(&app.address, &leaked).await, StatusCode::OK, "within the overlap: nobody signed out");
    tokio::time::sleep(Duration::from_secs(u64::try_from(overlap).unwrap() + 2)).await;
    assert_eq!(me(&app.address, &leaked).await, StatusCode::UNAUTHORIZED, "remembered, yet refused");
    assert!(!kids(&jwks(&app.address).await).contains(&kid_of(&before)));
    let restarted = start_beside(&app, |_| {}).await;
    assert_eq!(me(&restarted, &leaked).await, StatusCode::UNAUTHORIZED, "the same after a restart");
}

async fn a_rotation_signs_nobody_out_across_a_restart() {
    let app = spawn_shared(|_| {}).await;
    let user = app.add_user(Role::User);
    let (access, refresh) = token_pair_at(&app.address, &user).await;
    app.login_as(&user).await;
    let old_kid = kid_of(&access);
    let said = keys_command(&app, &["rotate"]);
    assert!(said.contains("signs from now on"), "{said}");
    let listed = keys_command(&app, &["list"]);
    assert!(listed.contains("active") && listed.contains(&format!("{old_kid}\tEdDSA")), "{listed}");
    assert!(listed.contains("retiring"), "{listed}");

    let restarted = start_beside(&app, |_| {}).await;
    assert_eq!(me(&restarted, &access).await, StatusCode::OK, "the old key still verifies");
    let (new_access, _) = refreshed(&restarted, &refresh).await;
    assert_ne!(kid_of(&new_access), old_kid, "the new key signs");
    assert_eq!(me(&restarted, &new_access).await, StatusCode::OK);
    let published = kids_of(&jwks(&restarted).await, "EdDSA");
    assert_eq!(published, vec![kid_of(&new_access), old_kid], "both keys, the active one first");
    assert_eq!(kids_of(&jwks(&restarted).await, "RS256").len(), 2, "the ID tokens' key rotated too");
    // The browser session of before the rotation goes on, CSRF tokens included.
    let res = app.client.get(format!("{restarted}/api/me")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

async fn a_rotation_on_one_host_reaches_a_running_instance_without_a_restart() {
    let app = spawn_shared(|s| s.key_reload = Duration::from_millis(200)).await;
    // The other instance rereads the file only every hour: it learns of the new key when a
    // token names it.
    let other = start_beside(&app, |s| s.key_reload = Duration::from_secs(3600)).await;
    let user = app.add_user(Role::User);
    let (before, _) = token_pair_at(&app.address, &user).await;
    KeyFile::rotate_file(&app.settings.key_file, &[Alg::EdDSA, Alg::RS256], portcullis::db::now(), 990)
        .unwrap();
    let after = wait_for_new_kid(&app.address, &user, &kid_of(&before)).await;
    assert_eq!(me(&other, &after).await, StatusCode::OK, "an unknown kid makes it reread the ring");
    assert_eq!(me(&other, &before).await, StatusCode::OK);
    assert_eq!(kids_of(&jwks(&other).await, "EdDSA"), vec![kid_of(&after), kid_of(&before)]);
    let (own, _) = token_pair_at(&other, &user).await;
    assert_eq!(kid_of(&own), kid_of(&after), "and it signs with the new key too");
}

/// The version before the key ring signed every token with HS256 and the bare secret in
/// the key file (the same as `PORTCULLIS_JWT_SECRET` with those bytes): its sessions, access
/// tokens and CSRF tokens outlive the upgrade.
async fn a_key_file_of_the_previous_version_signs_nobody_out() {
    const OLD: &str = "the-secret-an-old-key-file-held-0123456789";
    let old = spawn_shared(|s| s.jwt_secret = Some(SecretString::from(OLD))).await;
    let user = old.add_user(Role::User);
    let (access, refresh) = token_pair_at(&old.address, &user).await;
    old.login_as(&user).await;
    std::fs::write(&old.settings.key_file, URL_SAFE_NO_PAD.encode(OLD)).unwrap();
    let upgraded = start_beside(&old, |s| s.jwt_secret = None).await;

    assert_eq!(me(&upgraded, &access).await, StatusCode::OK, "an access token of the old version");
    let (new_access, _) = refreshed(&upgraded, &refresh).await;
    assert_eq!(parts(&new_access).0["alg"], "EdDSA");
    assert_eq!(me(&upgraded, &new_access).await, StatusCode::OK);
    let csrf = old.cookie("csrf_token").unwrap();
    let res =
        old.client.post(format!("{upgraded}/api/auth/logout")).header("x-csrf-token", csrf).send().await;
    assert_eq!(res.unwrap().status(), StatusCode::NO_CONTENT, "a CSRF token of the old version still passes");

    // The old secret now signs only refresh tokens: an HS256 access token issued after the
    // upgrade is one nobody but an attacker holding the secret could have made.
    let (_, mut claims) = parts(&access);
    claims["iat"] = json!(portcullis::db::now() + 5);
    claims["nbf"] = claims["iat"].clone();
    let forged = forge_hs256(&kid_of(&access), &claims, OLD.as_bytes());
    assert_eq!(me(&upgraded, &forged).await, StatusCode::UNAUTHORIZED);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&old.settings.key_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
}

#[test]
fn with_a_jwt_secret_there_is_no_ring_to_rotate_and_the_list_says_so() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .arg("keys")
            .args(args)
            .env("PORTCULLIS_JWT_SECRET", "a-shared-secret-of-at-least-32-bytes!")
            .env("PORTCULLIS_KEY_FILE", "/nonexistent/portcullis.key")
            .output()
            .expect("portcullis runs")
    };
    let rotate = run(&["rotate"]);
    assert!(!rotate.status.success());
    let said = String::from_utf8_lossy(&rotate.stderr);
    assert!(said.contains("PORTCULLIS_JWT_SECRET is set"), "{said}");
    let list = run(&["list"]);
    assert!(list.status.success());
    assert!(String::from_utf8_lossy(&list.stdout).contains("HS256"));
}
