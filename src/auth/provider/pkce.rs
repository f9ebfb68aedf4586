//! PKCE (RFC 7636) as SPEC §11 wants it: `S256` only (`plain` is refused), a challenge of
//! 43 base64url characters, a verifier of 43 to 128 unreserved characters; and RFC 9700
//! §4.8.2's rule both ways — a code issued with a challenge needs the verifier, and a verifier
//! sent for a code issued without one is refused.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::keys::constant_time_eq;

/// Why a PKCE parameter or its check fails; the message names the parameter.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum PkceError {
    #[error("code_challenge_method: only S256 is supported")]
    Method,
    #[error("code_challenge: 43 characters of base64url (the SHA-256 of the verifier)")]
    Challenge,
    #[error("code_verifier: 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_', '~'")]
    Verifier,
    #[error("code_verifier: this code was issued with a code_challenge; send its verifier")]
    Missing,
    #[error("code_verifier: this code was issued without a code_challenge")]
    Unexpected,
    #[error("code_verifier: it does not match the code_challenge")]
    Mismatch,
}

/// The challenge of an authorization request: `None` without one; `S256` when the method is
/// left out with a challenge is refused (RFC 7636 would default to `plain`).
pub fn parse_challenge(challenge: Option<&str>, method: Option<&str>) -> Result<Option<String>, PkceError> {
    match (challenge, method) {
        (None, None) => Ok(None),
        (None, Some(_)) => Err(PkceError::Challenge),
        (Some(_), None | Some("plain")) => Err(PkceError::Method),
        (Some(_), Some(m)) if m != "S256" => Err(PkceError::Method),
        (Some(c), Some(_)) => {
            let well_formed = c.len() == 43 && URL_SAFE_NO_PAD.decode(c).is_ok_and(|bytes| bytes.len() == 32);
            if well_formed { Ok(Some(c.to_owned())) } else { Err(PkceError::Challenge) }
        }
    }
}

/// Checks the verifier of a token request against the challenge the code was issued with.
pub fn check(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), PkceError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(PkceError::Unexpected),
        (Some(_), None) => Err(PkceError::Missing),
        (Some(challenge), Some(verifier)) => {
            let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
            if !(43..=128).contains(&verifier.len()) || !verifier.chars().all(unreserved) {
                return Err(PkceError::Verifier);
            }
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if constant_time_eq(computed.as_bytes(), challenge.as_bytes()) {
                Ok(())
            } else {
                Err(PkceError::Mismatch)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_7636_example_verifies_and_nothing_else_does() {
        assert_eq!(parse_challenge(Some(CHALLENGE), Some("S256")), Ok(Some(CHALLENGE.to_owned())));
        assert_eq!(check(Some(CHALLENGE), Some(VERIFIER)), Ok(()));
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl";
        assert_eq!(check(Some(CHALLENGE), Some(other)), Err(PkceError::Mismatch));
    }

    #[test]
    fn plain_a_missing_method_and_malformed_values_are_refused() {
        assert_eq!(parse_challenge(Some(VERIFIER), Some("plain")), Err(PkceError::Method));
        assert_eq!(parse_challenge(Some(CHALLENGE), None), Err(PkceError::Method), "no silent plain");
        assert_eq!(parse_challenge(Some(CHALLENGE), Some("s256")), Err(PkceError::Method));
        assert_eq!(parse_challenge(Some("short"), Some("S256")), Err(PkceError::Challenge));
        assert_eq!(parse_challenge(None, Some("S256")), Err(PkceError::Challenge));
        assert_eq!(parse_challenge(None, None), Ok(None));
        assert_eq!(check(Some(CHALLENGE), Some("too-short")), Err(PkceError::Verifier));
        let spaced = format!("{} ", &VERIFIER[..43]);
        assert_eq!(check(Some(CHALLENGE), Some(&spaced)), Err(PkceError::Verifier));
        assert_eq!(check(Some(CHALLENGE), Some(&"a".repeat(129))), Err(PkceError::Verifier));
    }

    /// RFC 9700 §4.8.2: a verifier is required exactly when the code was issued with a challenge.
    #[test]
    fn a_verifier_goes_with_a_challenge_and_only_with_one() {
        assert_eq!(check(Some(CHALLENGE), None), Err(PkceError::Missing));
        assert_eq!(check(None, Some(VERIFIER)), Err(PkceError::Unexpected));
        assert_eq!(check(None, None), Ok(()));
    }
}
