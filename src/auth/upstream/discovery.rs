//! What Portcullis knows of an OpenID Connect provider: its discovery document (OpenID Connect
//! Discovery 1.0, whose `issuer` must be the registered one exactly) and its keys, fetched over
//! HTTPS (http only on loopback, as `provider add` allows) and kept for an hour; the keys are
//! fetched again when an ID token names one this instance has not seen (at most once a minute).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{Jwk, JwkSet};
use serde::Deserialize;

/// How long a discovery document and its keys are kept.
const KEEP: Duration = Duration::from_secs(3600);
/// How often an unknown `kid` may make the keys be fetched again.
const REFETCH_KEYS_AFTER: Duration = Duration::from_secs(60);
/// The most a provider's answer may weigh.
const MAX_BODY: usize = 256 * 1024;

/// The endpoints of a provider, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub userinfo_endpoint: Option<String>,
}

struct Known {
    metadata: Arc<Metadata>,
    keys: Arc<JwkSet>,
    fetched: Instant,
    keys_fetched: Instant,
}

/// Why a provider could not be used; the message is for the person's error page.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// The HTTP client to providers and what it has learnt of them.
pub struct Providers {
    http: reqwest::Client,
    known: Mutex<HashMap<String, Known>>,
}

impl Providers {
    pub fn new() -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("portcullis/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, known: Mutex::new(HashMap::new()) })
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The provider's metadata, from the cache or its discovery document.
    pub async fn metadata(&self, issuer: &str) -> Result<Arc<Metadata>, Unreachable> {
        if let Some(known) = self.lookup(issuer).filter(|k| k.fetched.elapsed() < KEEP) {
            return Ok(known.metadata);
        }
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let metadata: Metadata = self.get_json(&url).await?;
        if metadata.issuer != issuer {
            return Err(Unreachable(format!(
                "the provider calls itself {:?}, not {issuer:?} as it was added",
                metadata.issuer
            )));
        }
        let keys: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        let metadata = Arc::new(metadata);
        self.store(issuer, metadata.clone(), Arc::new(keys));
        Ok(metadata)
    }

    /// The key `kid` of the provider, fetching its keys again if it is new here.
    pub async fn key(&self, issuer: &str, kid: &str) -> Result<Jwk, Unreachable> {
        let metadata = self.metadata(issuer).await?;
        let known = self.lookup(issuer);
        if let Some(key) = known.as_ref().and_then(|k| k.keys.find(kid).cloned()) {
            return Ok(key);
        }
        if known.is_some_and(|k| k.keys_fetched.elapsed() < REFETCH_KEYS_AFTER) {
            return Err(Unreachable(format!("the provider's ID token names an unknown key {kid:?}")));
        }
        let keys: JwkSet = self.get_json(&metadata.jwks_uri).await?;
        let key = keys.find(kid).cloned();
        self.store(issuer, metadata, Arc::new(keys));
        key.ok_or_else(|| Unreachable(format!("the provider's ID token names an unknown key {kid:?}")))
    }

    fn lookup(&self, issuer: &str) -> Option<KnownCopy> {
        let known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        known.get(issuer).map(|k| KnownCopy {
            metadata: k.metadata.clone(),
            keys: k.keys.clone(),
            fetched: k.fetched,
            keys_fetched: k.keys_fetched,
        })
    }

    fn store(&self, issuer: &str, metadata: Arc<Metadata>, keys: Arc<JwkSet>) {
        let now = Instant::now();
        let mut known = self.known.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let fetched =
            known.get(issuer).filter(|k| Arc::ptr_eq(&k.metadata, &metadata)).map_or(now, |k| k.fetched);
        known.insert(issuer.to_owned(), Known { metadata, keys, fetched, keys_fetched: now });
    }

    /// GETs `url` as JSON, bounded in size and time.
    pub async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, Unreachable> {
        let res =
            self.http.get(url).send().await.map_err(|e| Unreachable(format!("{url} did not answer: {e}")))?;
        read_json(res, url).await
    }
}

struct KnownCopy {
    metadata: Arc<Metadata>,
    keys: Arc<JwkSet>,
    fetched: Instant,
    keys_fetched: Instant,
}

/// A provider's JSON answer, refused when it is an error or too large.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    res: reqwest::Response,
    url: &str,
) -> Result<T, Unreachable> {
    let status = res.status();
    if res.content_length().is_some_and(|n| n > MAX_BODY as u64) {
        return Err(Unreachable(format!("{url} answered with too much")));
    }
    let body = res.bytes().await.map_err(|e| Unreachable(format!("{url} did not finish its answer: {e}")))?;
    if body.len() > MAX_BODY {
        return Err(Unreachable(format!("{url} answered with too much")));
    }
    if !status.is_success() {
        let said: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let error = said["error"].as_str().unwrap_or("no error code");
        return Err(Unreachable(format!("{url} answered {status} ({error})")));
    }
    serde_json::from_slice(&body)
        .map_err(|e| Unreachable(format!("{url} answered with something unexpected: {e}")))
}
