//! Property tests over the paths that read hostile input: tokens, cookies, CSRF tokens,
//! emails and redirect targets. `cargo test` runs 256 cases each; for a longer run:
//! `PROPTEST_CASES=100000 cargo test --lib prop_`.

use actix_web::test::TestRequest;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;
use secrecy::{SecretSlice, SecretString};

use crate::auth::tokens::{KeyRing, MAX_LEEWAY_SECS, TokenKind};
use crate::auth::web::cookies::{self, CookieValue};
use crate::auth::web::csrf::CsrfKey;
use crate::domain::{Email, safe_next};
use crate::keys::MasterKey;

fn ring() -> KeyRing {
    KeyRing::new(
        &MasterKey::from_secret(&SecretString::from("0123456789abcdef0123456789abcdef")),
        "http://x",
        MAX_LEEWAY_SECS,
    )
}

fn b64_json() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(r#"{"alg":"HS256","typ":"at+jwt","kid":"k"}"#.to_owned()),
        Just(r#"{"alg":"none"}"#.to_owned()),
        ".{0,80}",
    ]
    .prop_map(|s| URL_SAFE_NO_PAD.encode(s))
}

proptest! {
    #[test]
    fn prop_arbitrary_strings_are_never_accepted_as_tokens(token in ".{0,600}") {
        let now = crate::db::now();
        prop_assert!(ring().decode(&token, TokenKind::Access, now).is_err());
        prop_assert!(ring().decode(&token, TokenKind::Refresh, now).is_err());
    }

    #[test]
    fn prop_jwt_shaped_garbage_is_never_accepted(h in b64_json(), c in b64_json(), sig in "[A-Za-z0-9_-]{0,64}") {
        let token = format!("{h}.{c}.{sig}");
        prop_assert!(ring().decode(&token, TokenKind::Access, crate::db::now()).is_err());
    }

    #[test]
    fn prop_cookie_headers_never_panic_and_look_alikes_never_match(header in "[ -~]{0,300}") {
        let req = TestRequest::default().insert_header(("cookie", header.clone())).to_http_request();
        if let CookieValue::One(v) = cookies::read(&req, "access_token") {
            let plain = format!("access_token={v}");
            let quoted = format!("access_token=\"{v}\"");
            let found = header.contains(&plain) || header.contains(&quoted);
            prop_assert!(found);
        }
    }

    #[test]
    fn prop_csrf_tokens_verify_only_when_minted(token in ".{0,200}", sid in "[a-zA-Z0-9]{0,22}") {
        let key = CsrfKey::new(SecretSlice::from(vec![7u8; 32]));
        prop_assert!(!key.is_valid(&token, &sid));
        let minted = key.issue(&sid);
        prop_assert!(key.is_valid(&minted, &sid));
    }

    #[test]
    fn prop_emails_parse_to_one_clean_address_or_an_error(raw in ".{0,300}") {
        if let Ok(email) = Email::try_from(raw.as_str()) {
            let s = email.as_ref();
            prop_assert_eq!(s.matches('@').count(), 1);
            prop_assert!(!s.chars().any(|c| c.is_control() || c.is_whitespace()));
            prop_assert!(s.len() <= 254);
        }
    }

    #[test]
    fn prop_next_is_always_a_same_site_path(next in ".{0,100}") {
        let target = safe_next(Some(&next), &crate::config::Origins::default());
        prop_assert!(target.starts_with('/'));
        prop_assert!(!target.starts_with("//") && !target.contains('\\'));
        prop_assert!(!target.chars().any(|c| c.is_control() || c.is_whitespace()));
    }
}
