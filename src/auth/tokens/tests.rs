use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};

use super::*;

const SECRET: &str = "0123456789abcdef0123456789abcdef";
const ISS: &str = "http://127.0.0.1:8080";
const NOW: i64 = 1_800_000_000;

fn ring() -> KeyRing {
    KeyRing::new(&MasterKey::from_secret(&SecretString::from(SECRET)), ISS, MAX_LEEWAY_SECS)
}

fn kid() -> String {
    let token = ring().issue(TokenKind::Access, &"u1".into(), &"s1".into(), None, NOW, 60).unwrap();
    jsonwebtoken::decode_header(token.token.expose_secret()).unwrap().kid.unwrap()
}

fn claims(now: i64) -> Value {
    json!({"iss": ISS, "aud": format!("{ISS}/api"), "sub": "u1", "exp": now + 600, "nbf": now, "iat": now, "jti": "j", "sid": "s1"})
}

/// Signs arbitrary header and claims with the server's real secret.
fn forge(header: Value, claims: &Value, secret: &[u8]) -> String {
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = crate::keys::hmac_sha256(secret, signing_input.as_bytes());
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn good_header() -> Value {
    json!({"alg": "HS256", "typ": "at+jwt", "kid": kid()})
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[test]
fn an_issued_access_token_decodes_with_every_claim() {
    let issued = ring().issue(TokenKind::Access, &"u1".into(), &"s1".into(), None, now(), 60).unwrap();
    let header = jsonwebtoken::decode_header(issued.token.expose_secret()).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    let c = ring().decode(issued.token.expose_secret(), TokenKind::Access, now()).unwrap();
    assert_eq!((c.sub.as_str(), c.sid.as_str(), c.iss.as_str()), ("u1", "s1", ISS));
    assert_eq!(c.jti, issued.jti);
}

#[test]
fn a_hand_forged_token_with_the_right_secret_is_accepted() {
    // Proves the forging helper is faithful, so the rejections below are real.
    let token = forge(good_header(), &claims(now()), SECRET.as_bytes());
    assert!(ring().decode(&token, TokenKind::Access, now()).is_ok());
}

#[test]
fn access_and_refresh_tokens_are_not_interchangeable() {
    let r = ring();
    let access = r.issue(TokenKind::Access, &"u1".into(), &"s1".into(), None, now(), 60).unwrap();
    let refresh = r.issue(TokenKind::Refresh, &"u1".into(), &"s1".into(), None, now(), 60).unwrap();
    assert_eq!(
        r.decode(access.token.expose_secret(), TokenKind::Refresh, now()).unwrap_err(),
        TokenError::WrongType
    );
    assert_eq!(
        r.decode(refresh.token.expose_secret(), TokenKind::Access, now()).unwrap_err(),
        TokenError::WrongType
    );
}

#[test]
fn alg_none_is_refused() {
    let header = json!({"alg": "none", "typ": "at+jwt", "kid": kid()});
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims(now()).to_string())
    );
    assert!(ring().decode(&unsigned, TokenKind::Access, now()).is_err());
}

#[test]
fn a_wrong_signature_is_refused() {
    let token = forge(good_header(), &claims(now()), b"another-secret-another-secret-xx");
    assert_eq!(ring().decode(&token, TokenKind::Access, now()).unwrap_err(), TokenError::BadSignature);
}

#[test]
fn an_expired_token_is_refused_beyond_the_leeway() {
    let mut c = claims(now() - 1000);
    c["exp"] = json!(now() - MAX_LEEWAY_SECS - 5);
    let token = forge(good_header(), &c, SECRET.as_bytes());
    assert_eq!(ring().decode(&token, TokenKind::Access, now()).unwrap_err(), TokenError::Expired);
}

#[test]
fn wrong_issuer_audience_or_future_times_are_refused() {
    for (field, value) in [
        ("iss", json!("https://evil.example")),
        ("aud", json!("someone-else")),
        ("nbf", json!(now() + 600)),
        ("iat", json!(now() + 600)),
    ] {
        let mut c = claims(now());
        c[field] = value;
        let token = forge(good_header(), &c, SECRET.as_bytes());
        assert!(ring().decode(&token, TokenKind::Access, now()).is_err(), "{field} was not checked");
    }
}

#[test]
fn missing_claims_are_refused() {
    for field in ["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "sid"] {
        let mut c = claims(now());
        c.as_object_mut().unwrap().remove(field);
        let token = forge(good_header(), &c, SECRET.as_bytes());
        assert!(ring().decode(&token, TokenKind::Access, now()).is_err(), "missing {field} accepted");
    }
}

#[test]
fn unknown_kids_other_algorithms_and_header_keys_are_refused() {
    let headers = [
        json!({"alg": "HS256", "typ": "at+jwt", "kid": "someone-elses"}),
        json!({"alg": "HS256", "typ": "at+jwt"}),
        json!({"alg": "HS512", "typ": "at+jwt", "kid": kid()}),
        json!({"alg": "HS256", "typ": "JWT", "kid": kid()}),
        json!({"alg": "HS256", "typ": "at+jwt", "kid": kid(), "jku": "https://evil.example/keys"}),
        json!({"alg": "HS256", "typ": "at+jwt", "kid": kid(), "x5u": "https://evil.example/cert"}),
        json!({"alg": "HS256", "typ": "at+jwt", "kid": kid(), "jwk": {"kty": "oct", "k": "AAAA"}}),
    ];
    for header in headers {
        let token = forge(header.clone(), &claims(now()), SECRET.as_bytes());
        assert!(ring().decode(&token, TokenKind::Access, now()).is_err(), "{header} accepted");
    }
}

#[test]
fn garbage_and_oversized_tokens_are_malformed() {
    for junk in ["", "abc", "a.b.c", "....", "\u{0}", &"a".repeat(MAX_TOKEN_LEN + 1)] {
        assert!(ring().decode(junk, TokenKind::Access, now()).is_err());
    }
    let _ = NOW;
}

#[test]
fn a_signed_token_with_invalid_utf8_in_its_claims_is_refused() {
    let mut claims_json = claims(now()).to_string().into_bytes();
    // An extra field whose string holds the bytes 0xff 0xfe: JSON-shaped, not UTF-8.
    claims_json.pop();
    claims_json.extend_from_slice(b",\"x\":\"\xff\xfe\"}");
    let header = URL_SAFE_NO_PAD.encode(good_header().to_string());
    let signing_input = format!("{header}.{}", URL_SAFE_NO_PAD.encode(&claims_json));
    let sig = crate::keys::hmac_sha256(SECRET.as_bytes(), signing_input.as_bytes());
    let token = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig));
    assert_eq!(ring().decode(&token, TokenKind::Access, now()).err(), Some(TokenError::Malformed));
    let clean = forge(good_header(), &claims(now()), SECRET.as_bytes());
    assert!(ring().decode(&clean, TokenKind::Access, now()).is_ok(), "the same token, valid UTF-8, decodes");
}

/// The verified-token cache skips the signature check, never the expiry.
#[test]
fn a_remembered_token_still_expires() {
    let ring = ring();
    let issued = ring.issue(TokenKind::Access, &"u1".into(), &"s1".into(), Some("user"), now(), 60).unwrap();
    let token = issued.token.expose_secret();
    assert!(ring.decode(token, TokenKind::Access, now()).is_ok());
    assert!(ring.decode(token, TokenKind::Access, now()).is_ok(), "from the cache");
    let later = now() + 60 + MAX_LEEWAY_SECS + 1;
    assert_eq!(ring.decode(token, TokenKind::Access, later).err(), Some(TokenError::Expired));
    // The cache holds access tokens only: the same string as a refresh token is checked anew.
    assert_eq!(ring.decode(token, TokenKind::Refresh, now()).err(), Some(TokenError::WrongType));
}

/// With a key file: access tokens are signed by the active asymmetric key and published;
/// refresh tokens keep HS256 with the server secret, which never appears in the JWKS.
#[test]
fn a_ring_from_the_key_file_signs_access_tokens_asymmetrically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let file = KeyFile::open(&path, &[crate::keys::Alg::EdDSA], now(), 990, true).unwrap();
    let ring = KeyRing::from_file(&file, crate::keys::Alg::EdDSA, &path, 990, ISS, MAX_LEEWAY_SECS).unwrap();
    let access = ring.issue(TokenKind::Access, &"u1".into(), &"s1".into(), Some("admin"), now(), 60).unwrap();
    let refresh = ring.issue(TokenKind::Refresh, &"u1".into(), &"s1".into(), None, now(), 60).unwrap();
    let header = jsonwebtoken::decode_header(access.token.expose_secret()).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let jwks = ring.jwks(now());
    assert_eq!(jwks.keys.len(), 1);
    assert_eq!(jwks.keys[0].common.key_id, header.kid);
    let decoded = ring.decode(access.token.expose_secret(), TokenKind::Access, now()).unwrap();
    assert_eq!(decoded.role.as_deref(), Some("admin"));
    let header = jsonwebtoken::decode_header(refresh.token.expose_secret()).unwrap();
    assert_eq!((header.alg, header.kid), (Algorithm::HS256, Some(file.master.hs256_kid())));
    assert!(ring.decode(refresh.token.expose_secret(), TokenKind::Refresh, now()).is_ok());
    // A fresh install has no tokens of an earlier version: HS256 access tokens are refused.
    let forged = forge(
        json!({"alg": "HS256", "typ": "at+jwt", "kid": file.master.hs256_kid()}),
        &claims(now()),
        file.master.signing_bytes(),
    );
    assert_eq!(ring.decode(&forged, TokenKind::Access, now()).err(), Some(TokenError::UnknownKey));
}

/// After a rotation both keys are published; once the retired one can have signed no live
/// token, it leaves the JWKS by itself, with no further write to the file.
#[test]
fn a_retired_key_leaves_the_jwks_after_its_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k");
    let start = now();
    let file = KeyFile::open(&path, &[crate::keys::Alg::EdDSA], start, 990, true).unwrap();
    let ring = KeyRing::from_file(&file, crate::keys::Alg::EdDSA, &path, 990, ISS, MAX_LEEWAY_SECS).unwrap();
    KeyFile::rotate_file(&path, &[crate::keys::Alg::EdDSA], start, 990).unwrap();
    assert!(ring.reload().unwrap(), "the rotation is seen");
    assert!(!ring.reload().unwrap(), "an unchanged file is not rebuilt");
    assert_eq!(ring.jwks(start).keys.len(), 2);
    assert_eq!(ring.jwks(start + 990).keys.len(), 2);
    assert_eq!(ring.jwks(start + 991).keys.len(), 1);
}
