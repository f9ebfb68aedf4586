//! GitHub as a provider (SPEC §13): OAuth 2 (GitHub has no ID token) and its REST API — the
//! user (whose numeric `id` is the `sub` of the link) and their email addresses, of which only
//! the primary one, and only if GitHub verified it, counts. The web and API base URLs are the
//! provider's (`https://github.com`, `https://api.github.com`, or a GitHub Enterprise's).

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::discovery::{Providers, read_json};
use super::error::FlowError;
use crate::db::providers::ProviderRow;

/// Where GitHub asks the person; `state` and PKCE as for any provider.
pub fn authorize_url(provider: &ProviderRow, callback: &str, state: &str, challenge: &str) -> String {
    let query = serde_urlencoded::to_string([
        ("client_id", provider.client_id.as_str()),
        ("redirect_uri", callback),
        ("scope", "read:user user:email"),
        ("state", state),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("allow_signup", "false"),
    ])
    .unwrap_or_default();
    format!("{}/login/oauth/authorize?{query}", provider.issuer)
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct GitHubUser {
    id: u64,
}

#[derive(Deserialize)]
struct GitHubEmail {
    email: String,
    primary: bool,
    verified: bool,
}

/// Who GitHub says signed in: the numeric user id, and the primary address with whether GitHub
/// verified it.
pub struct GitHubIdentity {
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

/// Redeems the code and reads the user and their primary address.
pub async fn identity(
    providers: &Providers,
    provider: &ProviderRow,
    secret: &SecretString,
    code: &str,
    verifier: &str,
    callback: &str,
) -> Result<GitHubIdentity, FlowError> {
    let token_url = format!("{}/login/oauth/access_token", provider.issuer);
    let form = [
        ("client_id", provider.client_id.as_str()),
        ("client_secret", secret.expose_secret()),
        ("code", code),
        ("redirect_uri", callback),
        ("code_verifier", verifier),
    ];
    let res = providers
        .http()
        .post(&token_url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&form)
        .send()
        .await
        .map_err(|e| FlowError::Untrusted(format!("GitHub's token endpoint did not answer: {e}")))?;
    let answer: TokenAnswer = read_json(res, &token_url).await?;
    // GitHub answers a bad code with 200 and an `error`.
    let Some(token) = answer.access_token else {
        let error = answer.error.unwrap_or_else(|| "no access token".into());
        let said = answer.error_description.unwrap_or_default();
        return Err(FlowError::Refused(format!("{error} {said}").trim().to_owned()));
    };
    let api = provider.api_url.as_deref().unwrap_or(super::providers::GITHUB_API);
    let user: GitHubUser = get(providers, &format!("{api}/user"), &token).await?;
    let emails: Vec<GitHubEmail> = get(providers, &format!("{api}/user/emails"), &token).await?;
    let primary = emails.into_iter().find(|e| e.primary);
    Ok(GitHubIdentity {
        subject: user.id.to_string(),
        email_verified: primary.as_ref().is_some_and(|e| e.verified),
        email: primary.map(|e| e.email),
    })
}

async fn get<T: serde::de::DeserializeOwned>(
    providers: &Providers,
    url: &str,
    token: &str,
) -> Result<T, FlowError> {
    let res = providers
        .http()
        .get(url)
        .bearer_auth(token)
        .header(reqwest::header::ACCEPT, "application/vnd.github+json")
        .header("X-GitHub-Api-Version", "2022-11-28")
        .send()
        .await
        .map_err(|e| FlowError::Untrusted(format!("{url} did not answer: {e}")))?;
    Ok(read_json(res, url).await?)
}
