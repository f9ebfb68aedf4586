//! Registered clients (SPEC §11): adding one (a confidential client gets a secret of 256 random
//! bits, shown once and stored as its SHA-256; a public client gets none), listing, removing,
//! rotating the secret, changing the redirect URIs, and authenticating a client by its secret in
//! constant time. The same functions serve the CLI, the admin page and the admin API; every
//! read goes to the database, so a change applies at the next request of every instance.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::tokens::stored_hash;
use crate::db::clients::{self, ClientRow, UriList};
use crate::db::{self, DbConn};
use crate::errors::ApiError;
use crate::keys::{Alg, constant_time_eq};

/// What an operator asks for when registering a client.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    /// Shown to people on the consent page and in "Apps with access".
    pub name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    /// A public client (an SPA, a native app) has no secret and must prove PKCE.
    pub public: bool,
    /// A first-party app whose users are never asked for consent.
    pub skip_consent: bool,
    /// The ID token's algorithm: RS256 unless the client asks for ES256 or EdDSA.
    pub id_token_alg: Alg,
}

/// What the operator is shown once: the client id, and the secret of a confidential client.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Credentials {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// A client as listed: everything but the secret.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    pub client_id: String,
    pub name: String,
    pub public: bool,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub skip_consent: bool,
    pub id_token_alg: String,
    /// Unix seconds.
    pub created_at: i64,
}

impl From<ClientRow> for ClientView {
    fn from(row: ClientRow) -> Self {
        Self {
            client_id: row.id,
            name: row.name,
            public: row.secret_hash.is_none(),
            redirect_uris: row.redirect_uris.0,
            post_logout_redirect_uris: row.post_logout_redirect_uris.0,
            skip_consent: row.skip_consent,
            id_token_alg: row.id_token_alg,
            created_at: row.created_at,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request itself is wrong; the message says how, naming the field.
    #[error("{0}")]
    Invalid(String),
    #[error("there is no client with the id {0}")]
    NotFound(String),
    #[error("{0} is a public client: it has no secret to rotate")]
    Public(String),
    #[error(transparent)]
    Store(#[from] diesel::result::Error),
}

/// The one place a client registration's failure becomes an HTTP answer (pages translate it).
impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid(message) => Self::unprocessable("invalid_client_metadata", message),
            ClientError::NotFound(_) => Self::NotFound,
            ClientError::Public(_) => {
                Self::Conflict { code: "public_client", message: "A public client has no secret to rotate." }
            }
            ClientError::Store(e) => crate::db::StoreError::from(e).into(),
        }
    }
}

/// The longest name and the most URIs a client may register: enough for any real app, and a
/// bound on what a page has to show.
const NAME_MAX: usize = 100;
const URIS_MAX: usize = 20;
const URI_MAX: usize = 2000;

/// A redirect URI a client may register (SPEC §11, RFC 6749 §3.1.2, RFC 8252 §7.3): absolute,
/// `https://`, or `http://` on a loopback host; no fragment, no user name or password, no
/// spaces or control characters. Kept exactly as given: requests must repeat it exactly.
pub fn check_redirect_uri(raw: &str) -> Result<String, String> {
    if raw.is_empty() || raw.len() > URI_MAX || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{raw:?} is not a redirect URI: it must be an absolute URL of at most {URI_MAX} characters, without spaces"
        ));
    }
    let url = url::Url::parse(raw).map_err(|e| format!("{raw:?} is not an absolute URL ({e})"))?;
    if url.fragment().is_some() {
        return Err(format!("{raw:?} has a fragment (#…), which a redirect URI may not have"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{raw:?} carries a user name or password"));
    }
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" if url.host().is_some() => Ok(raw.to_owned()),
        "http" if loopback => Ok(raw.to_owned()),
        "http" => Err(format!("{raw:?} uses http:// on a host other than a loopback one: use https://")),
        _ => Err(format!("{raw:?} must be an https:// URL (or http:// on a loopback host)")),
    }
}

fn check_uris(raw: &[String], what: &str) -> Result<Vec<String>, ClientError> {
    if raw.len() > URIS_MAX {
        return Err(ClientError::Invalid(format!("at most {URIS_MAX} {what}s")));
    }
    let mut uris = Vec::with_capacity(raw.len());
    for uri in raw {
        let uri = check_redirect_uri(uri.trim()).map_err(|e| ClientError::Invalid(format!("{what}: {e}")))?;
        if !uris.contains(&uri) {
            uris.push(uri);
        }
    }
    Ok(uris)
}

fn check_name(raw: &str) -> Result<String, ClientError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(ClientError::Invalid(format!("name: 1 to {NAME_MAX} characters, no control characters")));
    }
    Ok(name.to_owned())
}

/// A new secret: 256 random bits in URL-safe base64 (43 characters; no character that Basic
/// authentication would need to form-encode, which some clients skip).
fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A new client id: 128 random bits in lowercase hex — nothing a command line could take for an
/// option (base64url may begin with `-`), nothing a URL or Basic authentication must escape.
fn new_client_id() -> String {
    let mut bytes = [0u8; 16];
    rand::fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Registers a client; returns its id and, for a confidential client, its secret (shown once).
pub fn add(conn: &mut DbConn, spec: &ClientSpec) -> Result<Credentials, ClientError> {
    let name = check_name(&spec.name)?;
    let redirect_uris = check_uris(&spec.redirect_uris, "redirect URI")?;
    if redirect_uris.is_empty() {
        return Err(ClientError::Invalid("a client needs at least one redirect URI".into()));
    }
    let post_logout_redirect_uris = check_uris(&spec.post_logout_redirect_uris, "post-logout redirect URI")?;
    let secret = (!spec.public).then(new_secret);
    let now = db::now();
    let row = ClientRow {
        id: new_client_id(),
        name,
        secret_hash: secret.as_deref().map(stored_hash),
        redirect_uris: UriList(redirect_uris),
        post_logout_redirect_uris: UriList(post_logout_redirect_uris),
        skip_consent: spec.skip_consent,
        id_token_alg: spec.id_token_alg.as_str().to_owned(),
        created_at: now,
        updated_at: now,
    };
    clients::insert(conn, &row)?;
    Ok(Credentials { client_id: row.id, client_secret: secret })
}

/// Every client, oldest first, without secrets.
pub fn list(conn: &mut DbConn) -> Result<Vec<ClientView>, ClientError> {
    Ok(clients::list(conn)?.into_iter().map(ClientView::from).collect())
}

/// One client, without its secret.
pub fn get(conn: &mut DbConn, client_id: &str) -> Result<ClientView, ClientError> {
    clients::find(conn, client_id)?
        .map(ClientView::from)
        .ok_or_else(|| ClientError::NotFound(client_id.to_owned()))
}

/// Removes a client.
pub fn remove(conn: &mut DbConn, client_id: &str) -> Result<(), ClientError> {
    if clients::delete(conn, client_id)? { Ok(()) } else { Err(ClientError::NotFound(client_id.to_owned())) }
}

/// Gives a confidential client a new secret (shown once); the old one stops working at once.
pub fn rotate_secret(conn: &mut DbConn, client_id: &str) -> Result<Credentials, ClientError> {
    let secret = new_secret();
    if clients::set_secret_hash(conn, client_id, &stored_hash(&secret), db::now())? {
        return Ok(Credentials { client_id: client_id.to_owned(), client_secret: Some(secret) });
    }
    match clients::find(conn, client_id)? {
        Some(_) => Err(ClientError::Public(client_id.to_owned())),
        None => Err(ClientError::NotFound(client_id.to_owned())),
    }
}

/// Replaces a client's redirect URIs (each checked as when it was added).
pub fn set_redirect_uris(
    conn: &mut DbConn,
    client_id: &str,
    redirect_uris: &[String],
    post_logout_redirect_uris: &[String],
) -> Result<(), ClientError> {
    let redirect = check_uris(redirect_uris, "redirect URI")?;
    if redirect.is_empty() {
        return Err(ClientError::Invalid("a client needs at least one redirect URI".into()));
    }
    let post_logout = check_uris(post_logout_redirect_uris, "post-logout redirect URI")?;
    if clients::set_redirect_uris(conn, client_id, &redirect, &post_logout, db::now())? {
        Ok(())
    } else {
        Err(ClientError::NotFound(client_id.to_owned()))
    }
}

/// The confidential client `client_id` when `secret` is its secret, compared in constant time
/// over the stored hashes. `None` for an unknown client, a public one, or a wrong secret.
pub fn authenticate(
    conn: &mut DbConn,
    client_id: &str,
    secret: &str,
) -> Result<Option<ClientRow>, ClientError> {
    let Some(row) = clients::find(conn, client_id)? else { return Ok(None) };
    let presented = stored_hash(secret);
    let matches =
        row.secret_hash.as_deref().is_some_and(|h| constant_time_eq(h.as_bytes(), presented.as_bytes()));
    Ok(matches.then_some(row))
}

#[cfg(test)]
mod tests {
    use super::check_redirect_uri;

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragments_or_credentials() {
        for good in [
            "https://grafana.example.com/login/generic_oauth",
            "https://app.example.com/cb?tenant=1",
            "http://127.0.0.1:8080/callback",
            "http://localhost/cb",
            "http://[::1]:3000/cb",
        ] {
            assert_eq!(check_redirect_uri(good).as_deref(), Ok(good), "{good}");
        }
        for bad in [
            "",
            "/relative/path",
            "http://app.example.com/cb",
            "https://app.example.com/cb#frag",
            "https://user:pass@app.example.com/cb",
            "javascript:alert(1)",
            "https://app.example.com/c b",
            "ftp://files.example.com/",
            "http://127.0.0.1.example.com/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(check_redirect_uri(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
