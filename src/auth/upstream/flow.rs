//! A sign-in through another provider (SPEC §13), as a relying party: `start` sends the browser
//! to the provider with `state`, `nonce` and PKCE (S256), remembering them bound to that
//! browser; `finish` takes the callback once, redeems the code and verifies the ID token
//! (signature from the provider's keys, issuer, audience, expiry, nonce) — or, for GitHub,
//! reads the user and their primary address from its API (`github.rs`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, Validation};
use secrecy::ExposeSecret;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::discovery::{Providers, read_json};
pub use super::error::FlowError;
use super::github;
use super::providers::{ProviderSealer, redirect_uri};
use crate::auth::tokens::stored_hash;
use crate::db::providers::{self as stored, ProviderRow};
use crate::db::upstream::{self, LoginRow};
use crate::db::{self, Pool};

/// The `kind` of a GitHub provider (the others are OpenID Connect).
const GITHUB: &str = "github";

/// How long a person has at the provider before the sign-in is forgotten.
const LOGIN_TTL_SECS: i64 = 600;

/// A sign-in that has begun: where to send the browser, and the value of the cookie that
/// binds the callback to it.
pub struct Started {
    pub location: String,
    pub browser_secret: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone)]
pub struct Verified {
    pub provider: String,
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub login: LoginRow,
}

/// For a connection from the account page: the account and the credential version it had.
pub struct Connecting {
    pub user_id: String,
    pub credential_version: i64,
}

/// Begins a sign-in (or, with `connecting`, a connection) through the provider `name`.
pub async fn start(
    pool: &Pool,
    providers: &Providers,
    public_url: &str,
    name: &str,
    next: &str,
    connecting: Option<Connecting>,
) -> Result<Started, FlowError> {
    let provider = find(pool, name).await?;
    let (state, nonce, verifier, browser_secret) = (random(), random(), random(), random());
    let now = db::now();
    let row = LoginRow {
        state_hash: stored_hash(&state),
        provider: provider.name.clone(),
        browser_hash: stored_hash(&browser_secret),
        nonce: nonce.clone(),
        code_verifier: verifier.clone(),
        next: next.to_owned(),
        user_id: connecting.as_ref().map(|c| c.user_id.clone()),
        credential_version: connecting.as_ref().map(|c| c.credential_version),
        created_at: now,
        expires_at: now + LOGIN_TTL_SECS,
        used_at: None,
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let callback = redirect_uri(public_url, &provider.name);
    let location = if provider.kind == GITHUB {
        github::authorize_url(&provider, &callback, &state, &challenge)
    } else {
        let metadata = providers.metadata(&provider.issuer).await?;
        let mut params = vec![
            ("response_type", "code"),
            ("client_id", provider.client_id.as_str()),
            ("scope", "openid email profile"),
            ("state", state.as_str()),
            ("nonce", nonce.as_str()),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
            ("redirect_uri", callback.as_str()),
        ];
        // Connecting a provider adds a credential: the provider must see the person now.
        if connecting.is_some() {
            params.push(("prompt", "login"));
        }
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        let joiner = if metadata.authorization_endpoint.contains('?') { '&' } else { '?' };
        format!("{}{joiner}{query}", metadata.authorization_endpoint)
    };
    db::query(pool, move |conn| upstream::insert_login(conn, &row)).await?;
    Ok(Started { location, browser_secret })
}

/// The callback's parameters.
#[derive(Debug, Default, Deserialize)]
pub struct Callback {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

/// What Portcullis reads of a provider's ID token.
#[derive(Deserialize)]
struct IdClaims {
    sub: String,
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    azp: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
}

/// Finishes the sign-in the callback belongs to, once.
pub async fn finish(
    pool: &Pool,
    providers: &Providers,
    sealer: &ProviderSealer,
    public_url: &str,
    name: &str,
    callback: Callback,
    browser_secret: Option<&str>,
) -> Result<Verified, FlowError> {
    let state = callback.state.as_deref().filter(|s| !s.is_empty()).ok_or(FlowError::InvalidState)?;
    let hash = stored_hash(state);
    let login = db::query(pool, move |conn| upstream::take_login(conn, &hash, db::now())).await?;
    let login = login.ok_or(FlowError::InvalidState)?;
    let same_browser = browser_secret.is_some_and(|b| stored_hash(b) == login.browser_hash);
    if login.provider != name || !same_browser {
        return Err(FlowError::InvalidState);
    }
    if let Some(error) = callback.error {
        let said = callback.error_description.unwrap_or_default();
        return Err(FlowError::Refused(format!("{error} {said}").trim().to_owned()));
    }
    let code = callback.code.filter(|c| !c.is_empty()).ok_or(FlowError::Refused("no code".into()))?;
    let provider = find(pool, name).await?;
    let secret = sealer.open(&provider).map_err(|e| FlowError::Untrusted(format!("{e:#}")))?;
    let callback_uri = redirect_uri(public_url, &provider.name);
    if provider.kind == GITHUB {
        let who = github::identity(providers, &provider, &secret, &code, &login.code_verifier, &callback_uri)
            .await?;
        return Ok(Verified {
            provider: provider.name,
            issuer: provider.issuer,
            subject: who.subject,
            email: who.email,
            email_verified: who.email_verified,
            login,
        });
    }
    let metadata = providers.metadata(&provider.issuer).await?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", callback_uri.as_str()),
        ("code_verifier", login.code_verifier.as_str()),
    ];
    let encode = |v: &str| serde_urlencoded::to_string([("v", v)]).unwrap_or_default().split_off(2);
    let res = providers
        .http()
        .post(&metadata.token_endpoint)
        .basic_auth(encode(&provider.client_id), Some(encode(secret.expose_secret())))
        .form(&form)
        .send()
        .await
        .map_err(|e| FlowError::Untrusted(format!("the token endpoint did not answer: {e}")))?;
    let answer: TokenAnswer = read_json(res, &metadata.token_endpoint).await?;
    let id_token = answer.id_token.ok_or_else(|| FlowError::Untrusted("no ID token".into()))?;
    let claims = verify_id_token(providers, &provider, &id_token).await?;
    if claims.nonce.as_deref() != Some(login.nonce.as_str()) {
        return Err(FlowError::Untrusted("the ID token's nonce is not this sign-in's".into()));
    }
    if claims.azp.as_deref().is_some_and(|azp| azp != provider.client_id) {
        return Err(FlowError::Untrusted("the ID token was issued to another party (azp)".into()));
    }
    let email_verified = matches!(claims.email_verified, Some(serde_json::Value::Bool(true)))
        || matches!(&claims.email_verified, Some(serde_json::Value::String(s)) if s == "true");
    Ok(Verified {
        provider: provider.name,
        issuer: provider.issuer,
        subject: claims.sub,
        email: claims.email,
        email_verified,
        login,
    })
}

async fn verify_id_token(
    providers: &Providers,
    provider: &ProviderRow,
    token: &str,
) -> Result<IdClaims, FlowError> {
    let header = jsonwebtoken::decode_header(token)
        .map_err(|_| FlowError::Untrusted("the ID token is malformed".into()))?;
    if header.jwk.is_some() || header.jku.is_some() || header.x5u.is_some() || header.x5c.is_some() {
        return Err(FlowError::Untrusted("the ID token names its own key".into()));
    }
    let kid =
        header.kid.as_deref().ok_or_else(|| FlowError::Untrusted("the ID token names no key".into()))?;
    let jwk = providers.key(&provider.issuer, kid).await?;
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|_| FlowError::Untrusted("the provider's key is unusable".into()))?;
    if jwk.common.key_algorithm.is_some_and(|a| format!("{a:?}") != format!("{:?}", header.alg)) {
        return Err(FlowError::Untrusted("the ID token's algorithm is not its key's".into()));
    }
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[&provider.issuer]);
    validation.set_audience(&[&provider.client_id]);
    validation.leeway = 30;
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<IdClaims>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| FlowError::Untrusted(format!("the ID token does not verify ({e})")))
        .and_then(|c| {
            if c.sub.is_empty() {
                Err(FlowError::Untrusted("the ID token names nobody".into()))
            } else {
                Ok(c)
            }
        })
}

async fn find(pool: &Pool, name: &str) -> Result<ProviderRow, FlowError> {
    let key = name.to_owned();
    db::query(pool, move |conn| stored::find(conn, &key))
        .await?
        .ok_or_else(|| FlowError::UnknownProvider(name.to_owned()))
}

/// 256 random bits, base64url (also a valid PKCE verifier: 43 unreserved characters).
fn random() -> String {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
