//! Signed double-submit CSRF tokens (OWASP CSRF cheat sheet): `nonce.mac`, where the mac
//! is HMAC(server key, nonce | session id). The same token sits in a cookie and in the
//! form field or `X-CSRF-Token` header; a cross-site page can neither read the cookie nor
//! mint a token that verifies for the victim's session.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretSlice};

use crate::auth::web::cookies::CookieValue;
use crate::keys::{constant_time_eq, hmac_sha256};

pub struct CsrfKey(SecretSlice<u8>);

impl CsrfKey {
    pub fn new(key: SecretSlice<u8>) -> Self {
        Self(key)
    }

    /// A new token bound to `session_id` (empty before sign-in).
    pub fn issue(&self, session_id: &str) -> String {
        let mut nonce = [0u8; 18];
        rand::fill(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = self.mac(&nonce, session_id);
        format!("{nonce}.{mac}")
    }

    /// Whether `token` was minted by this server for `session_id`.
    pub fn is_valid(&self, token: &str, session_id: &str) -> bool {
        match token.split_once('.') {
            Some((nonce, mac)) if nonce.len() <= 64 => {
                constant_time_eq(mac.as_bytes(), self.mac(nonce, session_id).as_bytes())
            }
            _ => false,
        }
    }

    /// The double-submit check: the submitted token equals the cookie and verifies.
    pub fn accepts(&self, cookie: &CookieValue<'_>, submitted: &str, session_id: &str) -> bool {
        match cookie {
            CookieValue::One(c) => {
                constant_time_eq(c.as_bytes(), submitted.as_bytes()) && self.is_valid(c, session_id)
            }
            _ => false,
        }
    }

    fn mac(&self, nonce: &str, session_id: &str) -> String {
        let message = format!("{nonce}|{session_id}");
        URL_SAFE_NO_PAD.encode(hmac_sha256(self.0.expose_secret(), message.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> CsrfKey {
        CsrfKey::new(SecretSlice::from(vec![byte; 32]))
    }

    #[test]
    fn a_token_verifies_only_for_its_session_and_key() {
        let token = key(1).issue("s1");
        assert!(key(1).is_valid(&token, "s1"));
        assert!(!key(1).is_valid(&token, "s2"));
        assert!(!key(2).is_valid(&token, "s1"));
        assert!(!key(1).is_valid("forged.token", "s1"));
    }

    #[test]
    fn double_submit_needs_cookie_and_field_to_match() {
        let k = key(1);
        let token = k.issue("");
        assert!(k.accepts(&CookieValue::One(&token), &token, ""));
        assert!(!k.accepts(&CookieValue::One(&token), "", ""));
        assert!(!k.accepts(&CookieValue::Absent, &token, ""));
        assert!(!k.accepts(&CookieValue::Ambiguous, &token, ""));
        let other = k.issue("");
        assert!(!k.accepts(&CookieValue::One(&token), &other, ""));
    }
}
