//! Client authentication at the token and revocation endpoints (RFC 6749 §2.3):
//! `client_secret_basic`, `client_secret_post`, or `none` for a public client (which proves
//! PKCE instead). Failures are throttled per client and network, so a stranger guessing cannot
//! lock the real app out.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::clients;
use crate::auth::client::ClientInfo;
use crate::auth::throttle::{self, Key};
use crate::db::clients::ClientRow;
use crate::db::{self, Pool, StoreError};

/// Failed authentications of one client from one network before the pauses begin.
const FREE_FAILURES: i64 = 10;

/// How the client presented itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub client_id: String,
    pub secret: Option<String>,
    /// The credentials came in `Authorization: Basic` (a failure then answers with a
    /// `WWW-Authenticate: Basic` challenge, RFC 6749 §5.2).
    pub basic: bool,
}

/// Why a client is not let in.
#[derive(Debug, thiserror::Error)]
pub enum ClientAuthError {
    /// The request is malformed: the message says how.
    #[error("{0}")]
    Malformed(&'static str),
    /// Unknown client, wrong or missing secret (RFC 6749 `invalid_client`).
    #[error("Client authentication failed.")]
    Failed { basic: bool },
    #[error("Too many failed client authentications; try again in {retry_after_secs} seconds.")]
    Throttled { retry_after_secs: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads the client's credentials from the `Authorization` header or the form. `Ok(None)`: the
/// request names no client at all (a first-party token request).
pub fn presented(
    authorization: Option<&str>,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Option<Presented>, ClientAuthError> {
    let basic = authorization.and_then(|value| {
        let (scheme, rest) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("basic").then(|| rest.trim())
    });
    match (basic, form_id, form_secret) {
        (Some(_), _, Some(_)) => {
            Err(ClientAuthError::Malformed("Use one client authentication method, not two."))
        }
        (Some(encoded), form_id, None) => {
            let decoded = STANDARD
                .decode(encoded)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(ClientAuthError::Malformed("The Basic credentials are not valid base64."))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or(ClientAuthError::Malformed("The Basic credentials lack a ':'."))?;
            // RFC 6749 §2.3.1: form-encoded before base64 (our ids and secrets need no encoding).
            let (id, secret) = (form_decode(id)?, form_decode(secret)?);
            if form_id.is_some_and(|f| f != id) {
                return Err(ClientAuthError::Malformed("client_id differs from the Basic credentials."));
            }
            Ok(Some(Presented { client_id: id, secret: Some(secret), basic: true }))
        }
        (None, Some(id), secret) => {
            Ok(Some(Presented { client_id: id.to_owned(), secret: secret.map(str::to_owned), basic: false }))
        }
        (None, None, Some(_)) => Err(ClientAuthError::Malformed("client_secret without client_id.")),
        (None, None, None) => Ok(None),
    }
}

fn form_decode(part: &str) -> Result<String, ClientAuthError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={part}"))
        .map_err(|_| ClientAuthError::Malformed("The Basic credentials are not form-encoded."))?;
    Ok(pairs.into_iter().next().map(|(_, v)| v).unwrap_or_default())
}

/// The registered client these credentials prove: a confidential client by its secret, a
/// public one by its id alone (it sent no secret).
pub async fn authenticate(
    pool: &Pool,
    presented: &Presented,
    client: &ClientInfo,
) -> Result<ClientRow, ClientAuthError> {
    let key = Key::client(&presented.client_id, client);
    let basic = presented.basic;
    if throttle::any_locked(pool, std::slice::from_ref(&key)).await? {
        let until = throttle::attempt(pool, &key, FREE_FAILURES).await?;
        let retry_after_secs = until.err().map_or(1, |t| t.retry_after_secs);
        return Err(ClientAuthError::Throttled { retry_after_secs });
    }
    let (id, secret) = (presented.client_id.clone(), presented.secret.clone());
    let found = db::query(pool, move |conn| {
        Ok(match secret {
            Some(secret) => clients::authenticate(conn, &id, &secret).ok().flatten(),
            None => crate::db::clients::find(conn, &id)?.filter(|row| row.secret_hash.is_none()),
        })
    })
    .await?;
    match found {
        Some(row) => Ok(row),
        None => match throttle::attempt(pool, &key, FREE_FAILURES).await? {
            Ok(_) => Err(ClientAuthError::Failed { basic }),
            Err(t) => Err(ClientAuthError::Throttled { retry_after_secs: t.retry_after_secs }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_post_and_none_are_read_and_mixing_them_is_refused() {
        let basic = format!("Basic {}", STANDARD.encode("app:s3cret"));
        let p = presented(Some(&basic), None, None).expect("well formed").expect("a client");
        assert_eq!((p.client_id.as_str(), p.secret.as_deref(), p.basic), ("app", Some("s3cret"), true));
        let p = presented(None, Some("app"), Some("s3cret")).expect("well formed").expect("a client");
        assert!(!p.basic && p.secret.as_deref() == Some("s3cret"));
        let p = presented(None, Some("spa"), None).expect("well formed").expect("a client");
        assert_eq!(p.secret, None);
        assert!(presented(Some(&basic), None, Some("x")).is_err());
        assert!(presented(Some(&basic), Some("other"), None).is_err());
        assert!(presented(Some("Basic %%%"), None, None).is_err());
        assert!(presented(None, None, None).expect("nothing").is_none());
        let encoded = format!("Basic {}", STANDARD.encode("a%3Ab:c%2Bd"));
        let p = presented(Some(&encoded), None, None).expect("well formed").expect("a client");
        assert_eq!((p.client_id.as_str(), p.secret.as_deref()), ("a:b", Some("c+d")));
    }
}
