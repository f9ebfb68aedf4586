//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies"): a browser
//! that signed in to an account carries a signed cookie naming that account. Its sign-ins
//! are throttled on their own counter, so failures from elsewhere — an attacker guessing
//! — cannot lock the owner out, while its own failures still count.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretSlice};

use crate::domain::UserId;
use crate::keys::{constant_time_eq, hmac_sha256};

/// How long a browser stays known without signing in again.
pub const DEVICE_COOKIE_DAYS: i64 = 180;

/// Signs and checks device cookies with a server-only key.
pub struct DeviceKey(SecretSlice<u8>);

/// A verified device cookie: the account it was issued for, and its own throttle name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub user_id: UserId,
    pub nonce: String,
}

impl DeviceKey {
    pub fn new(key: SecretSlice<u8>) -> Self {
        Self(key)
    }

    /// A new cookie value for `user_id`: `user.nonce.mac`.
    pub fn issue(&self, user_id: &UserId) -> String {
        let mut nonce = [0u8; 16];
        rand::fill(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = self.mac(user_id.as_str(), &nonce);
        format!("{user_id}.{nonce}.{mac}")
    }

    /// The device a cookie value names, if this server signed it.
    pub fn verify(&self, value: &str) -> Option<Device> {
        let mut parts = value.splitn(3, '.');
        let (user, nonce, mac) = (parts.next()?, parts.next()?, parts.next()?);
        if user.len() > 64 || nonce.len() > 64 {
            return None;
        }
        let expected = self.mac(user, nonce);
        constant_time_eq(mac.as_bytes(), expected.as_bytes())
            .then(|| Device { user_id: UserId::from(user), nonce: nonce.to_owned() })
    }

    fn mac(&self, user: &str, nonce: &str) -> String {
        let message = format!("device|{user}|{nonce}");
        URL_SAFE_NO_PAD.encode(hmac_sha256(self.0.expose_secret(), message.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> DeviceKey {
        DeviceKey::new(SecretSlice::from(vec![byte; 32]))
    }

    #[test]
    fn a_device_cookie_verifies_only_with_its_key_and_unaltered() {
        let user = UserId::from("u1");
        let value = key(1).issue(&user);
        let device = key(1).verify(&value).expect("valid");
        assert_eq!(device.user_id, user);
        assert!(key(2).verify(&value).is_none());
        let forged = value.replacen("u1", "u2", 1);
        assert!(key(1).verify(&forged).is_none());
        assert!(key(1).verify("garbage").is_none());
    }
}
