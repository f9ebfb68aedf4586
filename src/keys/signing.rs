//! The asymmetric algorithms a generated key can use, and one loaded key pair: what signs,
//! what verifies, and what the JWKS publishes.

use anyhow::Context;
use ed25519_dalek::pkcs8::{EncodePrivateKey, KeypairBytes};
use jsonwebtoken::jwk::{Jwk, PublicKeyUse, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use secrecy::{ExposeSecret, SecretSlice};
use serde::{Deserialize, Serialize};

/// `PORTCULLIS_JWT_ALG`: EdDSA (Ed25519) by default; ES256 and RS256 for consumers that
/// cannot verify Ed25519.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Alg {
    EdDSA,
    ES256,
    RS256,
}

/// RSA keys of 2048 bits: NIST SP 800-57's minimum through 2030, and what RS256 consumers expect.
const RSA_BITS: aws_lc_rs::rsa::KeySize = aws_lc_rs::rsa::KeySize::Rsa2048;

impl Alg {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim() {
            "EdDSA" => Some(Self::EdDSA),
            "ES256" => Some(Self::ES256),
            "RS256" => Some(Self::RS256),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
            Self::RS256 => "RS256",
        }
    }

    pub fn jwt(self) -> Algorithm {
        match self {
            Self::EdDSA => Algorithm::EdDSA,
            Self::ES256 => Algorithm::ES256,
            Self::RS256 => Algorithm::RS256,
        }
    }

    /// A new private key, DER-encoded as jsonwebtoken reads it (PKCS#8 for EdDSA and ES256,
    /// PKCS#1 for RS256).
    pub fn generate(self) -> anyhow::Result<SecretSlice<u8>> {
        let der = match self {
            Self::EdDSA => {
                let mut seed = [0u8; 32];
                rand::fill(&mut seed);
                // PKCS#8 v1 (RFC 8410), without the public key: the form jsonwebtoken's JWK
                // export expects.
                KeypairBytes { secret_key: seed, public_key: None }.to_pkcs8_der()?.as_bytes().to_vec()
            }
            Self::ES256 => loop {
                // A random 256-bit string is a valid P-256 scalar unless it is zero or at least
                // the group order (a chance of about 2^-32); draw again then.
                let mut bytes = [0u8; 32];
                rand::fill(&mut bytes);
                if let Ok(key) = p256::SecretKey::from_slice(&bytes) {
                    break key.to_pkcs8_der()?.as_bytes().to_vec();
                }
            },
            Self::RS256 => {
                // AWS-LC makes the key (PKCS#8); the key file and jsonwebtoken take the
                // PKCS#1 RSAPrivateKey inside it.
                let pair = aws_lc_rs::rsa::KeyPair::generate(RSA_BITS)
                    .map_err(|_| anyhow::anyhow!("cannot generate an RSA key"))?;
                let pkcs8 = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair)
                    .map_err(|_| anyhow::anyhow!("cannot encode the RSA key"))?;
                pkcs8::PrivateKeyInfo::try_from(pkcs8.as_ref())
                    .context("cannot read the RSA key's PKCS#8 form")?
                    .private_key
                    .to_vec()
            }
        };
        Ok(SecretSlice::from(der))
    }
}

/// A signing key loaded from the ring: its `kid` (the RFC 7638 thumbprint of its public
/// half, so every instance names it alike), the private half that signs and the public
/// half that verifies and is published.
pub struct SigningPair {
    pub kid: String,
    pub alg: Alg,
    pub encoding: EncodingKey,
    pub decoding: DecodingKey,
    /// The public key as published in the JWKS, with `kid`, `alg` and `use: sig`.
    pub jwk: Jwk,
}

impl SigningPair {
    pub fn from_der(alg: Alg, der: &SecretSlice<u8>) -> anyhow::Result<Self> {
        let bytes = der.expose_secret();
        let encoding = match alg {
            Alg::EdDSA => EncodingKey::from_ed_der(bytes),
            Alg::ES256 => EncodingKey::from_ec_der(bytes),
            Alg::RS256 => EncodingKey::from_rsa_der(bytes),
        };
        let mut jwk = Jwk::from_encoding_key(&encoding, alg.jwt())
            .with_context(|| format!("the key file holds an invalid {} key", alg.as_str()))?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let decoding = DecodingKey::from_jwk(&jwk)?;
        Ok(Self { kid, alg, encoding, decoding, jwk })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_generates_a_key_that_signs_what_its_public_half_verifies() {
        for alg in [Alg::EdDSA, Alg::ES256, Alg::RS256] {
            let pair = SigningPair::from_der(alg, &alg.generate().unwrap()).unwrap();
            let mut header = jsonwebtoken::Header::new(alg.jwt());
            header.kid = Some(pair.kid.clone());
            let token =
                jsonwebtoken::encode(&header, &serde_json::json!({"sub": "x"}), &pair.encoding).unwrap();
            let mut validation = jsonwebtoken::Validation::new(alg.jwt());
            validation.required_spec_claims.clear();
            validation.validate_exp = false;
            let decoded =
                jsonwebtoken::decode::<serde_json::Value>(&token, &pair.decoding, &validation).unwrap();
            assert_eq!(decoded.claims["sub"], "x");
            assert_eq!(pair.jwk.common.key_id.as_deref(), Some(pair.kid.as_str()));
            assert_eq!(Alg::parse(alg.as_str()), Some(alg));
        }
    }

    #[test]
    fn the_kid_is_the_same_for_the_same_key() {
        let der = Alg::EdDSA.generate().unwrap();
        let a = SigningPair::from_der(Alg::EdDSA, &der).unwrap();
        let b = SigningPair::from_der(Alg::EdDSA, &der).unwrap();
        assert_eq!(a.kid, b.kid);
        let other = SigningPair::from_der(Alg::EdDSA, &Alg::EdDSA.generate().unwrap()).unwrap();
        assert_ne!(a.kid, other.kid);
    }
}
