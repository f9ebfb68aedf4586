//! TOTP (RFC 6238: 6 digits, 30 s steps, ±1 step) and recovery codes: the secret is sealed
//! with a key derived from the server secret, the codes are stored only as hashes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use secrecy::{ExposeSecret, SecretSlice, SecretString};
use sha2::{Digest, Sha256};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::domain::UserId;
use crate::keys::Sealer;

/// 160 bits, the size RFC 4226 §4 recommends.
const SECRET_BYTES: usize = 20;
pub const RECOVERY_CODES: usize = 10;
/// Letters of a recovery code: 16 of 32 symbols (80 bits), so a fast hash is enough.
/// No `i`, `l`, `o` or `1`, which read alike; a typed `o` is taken for `0`.
const CODE_ALPHABET: &[u8; 32] = b"abcdefghjkmnpqrstuvwxyz023456789";
const CODE_CHARS: usize = 16;

/// Seals TOTP secrets with the user id as the row, so a sealed secret copied to another
/// account's row does not open.
pub struct TotpSealer(Sealer);

impl TotpSealer {
    pub fn new(key: SecretSlice<u8>) -> Self {
        Self(Sealer::new(key))
    }

    pub fn seal(&self, user_id: &UserId, secret: &[u8]) -> anyhow::Result<String> {
        self.0.seal(user_id.as_str().as_bytes(), secret)
    }

    /// Fails when the server secret changed since the secret was sealed (or the row was moved).
    pub fn open(&self, user_id: &UserId, sealed: &str) -> anyhow::Result<SecretSlice<u8>> {
        self.0.open(user_id.as_str().as_bytes(), sealed)
    }
}

pub fn new_secret() -> SecretSlice<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::fill(&mut bytes[..]);
    SecretSlice::from(bytes)
}

/// The generator for a secret; `issuer` and `account` only name it in authenticator apps.
pub fn generator(secret: &SecretSlice<u8>, issuer: &str, account: &str) -> anyhow::Result<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(Secret::from(secret.expose_secret().to_vec()))
        .with_issuer(Some(issuer.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build a TOTP generator: {e}"))
}

/// The secret as people type it into an app (RFC 4648 base32, no padding).
pub fn secret_text(secret: &SecretSlice<u8>) -> String {
    Secret::from(secret.expose_secret().to_vec()).to_base32()
}

/// The QR code of an `otpauth://` URL, as an SVG drawn here (no image service sees the secret).
pub fn qr_svg(url: &str) -> anyhow::Result<String> {
    let code = qrcode::QrCode::new(url.as_bytes())?;
    Ok(code.render::<qrcode::render::svg::Color<'_>>().min_dimensions(220, 220).quiet_zone(true).build())
}

/// What a person typed where a code is asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Code {
    /// Six digits from the app.
    Totp(String),
    /// A recovery code, as its hash.
    Recovery(String),
    /// Neither: no code can match it.
    Malformed,
}

impl Code {
    /// Spaces and dashes are ignored, letters are not case-sensitive.
    pub fn parse(raw: &SecretString) -> Self {
        let cleaned: String = raw
            .expose_secret()
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| match c.to_ascii_lowercase() {
                'o' => '0',
                c => c,
            })
            .collect();
        if cleaned.len() == 6 && cleaned.bytes().all(|b| b.is_ascii_digit()) {
            Self::Totp(cleaned)
        } else if cleaned.len() == CODE_CHARS && cleaned.bytes().all(|b| CODE_ALPHABET.contains(&b)) {
            Self::Recovery(hash_recovery_code(&cleaned))
        } else {
            Self::Malformed
        }
    }
}

/// The time step (`unix time / 30`) whose code this is, within ±1 step of `now`.
pub fn matching_step(generator: &Totp, code: &str, now: i64) -> Option<i64> {
    let now = u64::try_from(now).ok()?;
    generator.check(code, now).and_then(|step| i64::try_from(step).ok())
}

/// Ten new codes to show once, and the hashes to store.
pub fn new_recovery_codes() -> (Vec<String>, Vec<String>) {
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut raw = [0u8; CODE_CHARS];
            rand::fill(&mut raw);
            let code: String = raw.iter().map(|b| char::from(CODE_ALPHABET[usize::from(b % 32)])).collect();
            let hash = hash_recovery_code(&code);
            let shown = code
                .as_bytes()
                .chunks(4)
                .map(|c| String::from_utf8_lossy(c).into_owned())
                .collect::<Vec<_>>();
            (shown.join("-"), hash)
        })
        .unzip()
}

/// SHA-256 is enough for 80 random bits (no dictionary to try); no server key, so the codes
/// still work if the server secret is ever replaced.
fn hash_recovery_code(cleaned: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("portcullis recovery code v1:{cleaned}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_user_and_key() {
        let sealer = TotpSealer::new(SecretSlice::from(vec![7u8; 32]));
        let (alice, bob) = (UserId::from("alice".to_owned()), UserId::from("bob".to_owned()));
        let secret = new_secret();
        let sealed = sealer.seal(&alice, secret.expose_secret()).unwrap();
        assert_eq!(sealer.open(&alice, &sealed).unwrap().expose_secret(), secret.expose_secret());
        assert!(sealer.open(&bob, &sealed).is_err(), "moved to another account");
        let other = TotpSealer::new(SecretSlice::from(vec![8u8; 32]));
        assert!(other.open(&alice, &sealed).is_err(), "another server secret");
    }

    #[test]
    fn codes_match_their_step_and_its_neighbours_only() {
        let secret = new_secret();
        let totp = generator(&secret, "Portcullis", "a@example.com").unwrap();
        let now = 1_800_000_015;
        let code = totp.generate(u64::try_from(now).unwrap()).to_string();
        assert_eq!(matching_step(&totp, &code, now), Some(now / 30));
        assert_eq!(matching_step(&totp, &code, now + 30), Some(now / 30));
        assert_eq!(matching_step(&totp, &code, now + 61), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_parse_back_to_their_hash() {
        let (codes, hashes) = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), RECOVERY_CODES);
        let typed = SecretString::from(format!(" {} ", codes[3].to_uppercase()));
        assert_eq!(Code::parse(&typed), Code::Recovery(hashes[3].clone()));
        assert_eq!(Code::parse(&SecretString::from("123 456")), Code::Totp("123456".into()));
        assert_eq!(Code::parse(&SecretString::from("12345")), Code::Malformed);
    }
}
