//! The identity providers people may sign in with (SPEC §13): any OpenID Connect provider by its
//! issuer URL, or GitHub (OAuth 2 and its user API, with base URLs for GitHub Enterprise). An
//! operator adds them (`portcullis provider add`, the admin page); the client secret is sealed
//! with a key derived from the server secret and bound to the provider's name, as TOTP secrets
//! are. A change applies at the next request of every instance: nothing is cached here.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::auth::provider::clients::check_redirect_uri;
use crate::db::providers::{self, ProviderRow};
use crate::db::{self, DbConn, StoreError};
use crate::keys::{MasterKey, Sealer};

/// GitHub.com's web and API base URLs (GitHub Enterprise has its own, given to `provider add`).
pub const GITHUB_WEB: &str = "https://github.com";
pub const GITHUB_API: &str = "https://api.github.com";

const NAME_MAX: usize = 32;

/// What kind of provider, and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Any OpenID Connect provider, found by `{issuer}/.well-known/openid-configuration`.
    Oidc { issuer: String },
    /// GitHub: its web base URL (authorization, token) and its API's (the user, their emails).
    GitHub { web_url: String, api_url: String },
}

/// What an operator gives to add a provider.
#[derive(Debug)]
pub struct ProviderSpec {
    /// In the path `/login/provider/NAME` and on the button "Sign in with NAME".
    pub name: String,
    pub kind: Kind,
    pub client_id: String,
    pub client_secret: SecretString,
}

/// A provider as shown (never its secret), with the redirect URI to register at the provider.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProviderView {
    pub name: String,
    /// `oidc` or `github`.
    pub kind: String,
    /// The OpenID Connect issuer, or GitHub's web base URL.
    pub issuer: String,
    /// GitHub's API base URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_url: Option<String>,
    pub client_id: String,
    /// Register exactly this at the provider: `{public URL}/login/provider/NAME/callback`.
    pub redirect_uri: String,
    /// Unix seconds.
    pub created_at: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The request is wrong; the message names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("there is already a provider named {0:?}")]
    Taken(String),
    #[error("there is no provider named {0:?}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<diesel::result::Error> for ProviderError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

/// Seals and opens provider secrets (its own key, derived from the server secret).
pub struct ProviderSealer(Sealer);

impl ProviderSealer {
    pub fn new(master: &MasterKey) -> Self {
        Self(Sealer::new(master.derive("portcullis upstream client secret v1")))
    }

    fn seal(&self, name: &str, secret: &SecretString) -> anyhow::Result<String> {
        self.0.seal(name.as_bytes(), secret.expose_secret().as_bytes())
    }

    /// The provider's client secret; fails when the server secret changed since it was sealed.
    pub fn open(&self, row: &ProviderRow) -> anyhow::Result<SecretString> {
        let plain = self.0.open(row.name.as_bytes(), &row.secret_sealed)?;
        let text = String::from_utf8(plain.expose_secret().to_vec())
            .map_err(|_| anyhow::anyhow!("the sealed secret of {} is not text", row.name))?;
        Ok(SecretString::from(text))
    }
}

/// Where the provider sends people back: `{public URL}/login/provider/NAME/callback`.
pub fn redirect_uri(public_url: &str, name: &str) -> String {
    format!("{public_url}/login/provider/{name}/callback")
}

fn view(row: ProviderRow, public_url: &str) -> ProviderView {
    ProviderView {
        redirect_uri: redirect_uri(public_url, &row.name),
        name: row.name,
        kind: row.kind,
        issuer: row.issuer,
        api_url: row.api_url,
        client_id: row.client_id,
        created_at: row.created_at,
    }
}

/// Adds a provider.
pub fn add(
    conn: &mut DbConn,
    sealer: &ProviderSealer,
    public_url: &str,
    spec: &ProviderSpec,
) -> Result<ProviderView, ProviderError> {
    let name = check_name(&spec.name)?;
    let client_id = spec.client_id.trim();
    if client_id.is_empty() || client_id.len() > 500 || client_id.chars().any(|c| c.is_control() || c == ' ')
    {
        return Err(ProviderError::Invalid("--client-id: 1 to 500 characters, no spaces".into()));
    }
    let secret = spec.client_secret.expose_secret();
    if secret.trim().is_empty() || secret.len() > 2000 {
        return Err(ProviderError::Invalid("the client secret (on stdin): 1 to 2000 characters".into()));
    }
    let (kind, issuer, api_url) = match &spec.kind {
        Kind::Oidc { issuer } => ("oidc", check_base_url(issuer, "--issuer")?, None),
        Kind::GitHub { web_url, api_url } => {
            ("github", check_base_url(web_url, "--web-url")?, Some(check_base_url(api_url, "--api-url")?))
        }
    };
    let now = db::now();
    let row = ProviderRow {
        secret_sealed: sealer.seal(&name, &spec.client_secret)?,
        name,
        kind: kind.to_owned(),
        issuer,
        api_url,
        client_id: client_id.to_owned(),
        created_at: now,
        updated_at: now,
    };
    if !providers::insert(conn, &row)? {
        return Err(ProviderError::Taken(row.name));
    }
    Ok(view(row, public_url))
}

/// Every provider, by name, without secrets.
pub fn list(conn: &mut DbConn, public_url: &str) -> Result<Vec<ProviderView>, ProviderError> {
    Ok(providers::list(conn)?.into_iter().map(|row| view(row, public_url)).collect())
}

/// Removes a provider.
pub fn remove(conn: &mut DbConn, name: &str) -> Result<(), ProviderError> {
    if providers::delete(conn, name)? { Ok(()) } else { Err(ProviderError::NotFound(name.to_owned())) }
}

/// A name for a URL path and a button: a letter or digit, then letters, digits, `-` or `_`.
fn check_name(raw: &str) -> Result<String, ProviderError> {
    let name = raw.trim();
    let well_formed = name.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= NAME_MAX
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !well_formed {
        return Err(ProviderError::Invalid(format!(
            "name: 1 to {NAME_MAX} letters, digits, '-' or '_', beginning with a letter or digit (it is part of /login/provider/NAME)"
        )));
    }
    Ok(name.to_owned())
}

/// An issuer or base URL: `https://`, or `http://` on a loopback host (SPEC §13); no query, no
/// fragment, no credentials; kept as given (an issuer must match the provider's exactly) but
/// for a trailing `/`, which GitHub's base URLs do not need.
fn check_base_url(raw: &str, field: &str) -> Result<String, ProviderError> {
    let raw = raw.trim();
    let url = check_redirect_uri(raw).map_err(|e| ProviderError::Invalid(format!("{field}: {e}")))?;
    if url.contains('?') {
        return Err(ProviderError::Invalid(format!(
            "{field}: {raw:?} has a query, which an issuer may not have"
        )));
    }
    Ok(if field == "--issuer" { url } else { url.trim_end_matches('/').to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_path_safe_and_issuers_https_or_loopback() {
        for good in ["github", "Google", "corp-sso", "kc_1"] {
            assert_eq!(check_name(good).ok().as_deref(), Some(good));
        }
        for bad in ["", "-x", "a b", "a/b", "é", &"x".repeat(33)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_base_url("https://accounts.google.com", "--issuer").is_ok());
        assert!(check_base_url("http://127.0.0.1:4000/", "--issuer").is_ok_and(|u| u.ends_with('/')));
        assert!(check_base_url("http://sso.example.com", "--issuer").is_err());
        assert!(check_base_url("https://sso.example.com/?x=1", "--issuer").is_err());
        assert_eq!(
            check_base_url("https://ghe.example.com/", "--web-url").ok().as_deref(),
            Some("https://ghe.example.com")
        );
    }

    #[test]
    fn a_sealed_secret_opens_only_for_its_own_provider() {
        let sealer = ProviderSealer(Sealer::new(secrecy::SecretSlice::from(vec![3u8; 32])));
        let secret = SecretString::from("s3cret");
        let sealed = sealer.seal("github", &secret).expect("sealed");
        let row = |name: &str| ProviderRow {
            name: name.into(),
            kind: "github".into(),
            issuer: GITHUB_WEB.into(),
            api_url: Some(GITHUB_API.into()),
            client_id: "id".into(),
            secret_sealed: sealed.clone(),
            created_at: 0,
            updated_at: 0,
        };
        assert!(!sealed.contains("s3cret"));
        assert_eq!(sealer.open(&row("github")).expect("opens").expose_secret(), "s3cret");
        assert!(sealer.open(&row("other")).is_err(), "moved to another provider's row, it does not open");
    }
}
