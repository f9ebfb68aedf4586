//! The authorization request (OpenID Connect Core §3.1.2.1, OAuth 2.1) read and checked, and
//! the answers that go back to the app (RFC 9207: `iss` in every one).
//!
//! An unknown `client_id` or a `redirect_uri` not registered for it is shown to the person as an
//! error page and never redirected (the redirect would be an open redirector); every other
//! error goes back to the app's redirect URI with `error`, `state` and `iss`.

use serde::{Deserialize, Serialize};

use super::pkce;
use super::scope::Scopes;
use crate::db::DbConn;
use crate::db::clients::{self, ClientRow};
use crate::keys::Alg;

/// The parameters Portcullis reads; the rest are ignored (Core §3.1.2.1: unknown ones are).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct AuthorizeQuery {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub scope: Option<String>,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    pub max_age: Option<String>,
    pub login_hint: Option<String>,
    pub response_mode: Option<String>,
    pub request: Option<String>,
    pub request_uri: Option<String>,
    /// Portcullis's own: set when it sent the person to sign in again (`prompt=login`, an
    /// exceeded `max_age`); a sign-in at or after this time (Unix seconds) satisfies it.
    pub signed_in_after: Option<String>,
}

/// A checked request.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub client: ClientRow,
    pub redirect_uri: String,
    pub scopes: Scopes,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub signed_in_after: Option<i64>,
}

impl AuthRequest {
    /// The algorithm the client's ID tokens are signed with.
    pub fn id_token_alg(&self) -> Alg {
        Alg::parse(&self.client.id_token_alg).unwrap_or(Alg::RS256)
    }

    /// An error answer for this request, as an error.
    pub fn error(&self, error: &'static str, description: impl Into<String>) -> AuthorizeError {
        AuthorizeError::Redirect(self.error_answer(error, description))
    }

    /// An error answer for this request (RFC 6749 §4.1.2.1).
    pub fn error_answer(&self, error: &'static str, description: impl Into<String>) -> Answer {
        Answer {
            redirect_uri: self.redirect_uri.clone(),
            params: vec![("error", error.to_owned()), ("error_description", description.into())],
            state: self.state.clone(),
        }
    }

    /// The success answer: the code.
    pub fn code_answer(&self, code: String) -> Answer {
        Answer {
            redirect_uri: self.redirect_uri.clone(),
            params: vec![("code", code)],
            state: self.state.clone(),
        }
    }
}

/// `prompt` (Core §3.1.2.1): at most one of `none`, `login`, `consent` matters here.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// Why an authorization request is not answered with a code.
#[derive(Debug)]
pub enum AuthorizeError {
    /// Shown to the person (400): the app or its redirect URI cannot be trusted.
    Page(String),
    /// Sent back to the app.
    Redirect(Answer),
}

/// A redirect to the app: its registered URI with the answer's parameters, `state` and `iss`.
#[derive(Debug, Clone)]
pub struct Answer {
    pub redirect_uri: String,
    pub params: Vec<(&'static str, String)>,
    pub state: Option<String>,
}

impl Answer {
    /// The URL to send the browser to (the registered URI may have a query of its own).
    pub fn location(&self, issuer: &str) -> String {
        let mut pairs: Vec<(&str, &str)> = self.params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        if let Some(state) = &self.state {
            pairs.push(("state", state));
        }
        pairs.push(("iss", issuer));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        let joiner = if self.redirect_uri.contains('?') { '&' } else { '?' };
        format!("{}{joiner}{query}", self.redirect_uri)
    }
}

/// The origin of the redirect URI an authorization request at `target` (a `next` path such as
/// `/oauth/authorize?…`) would end at, if its client registered it: the sign-in and consent
/// forms must allow it in their CSP's `form-action`, which Chromium applies to the redirects
/// that follow a form's POST.
pub fn redirect_origin(conn: &mut DbConn, target: &str) -> Option<String> {
    let query = target.strip_prefix(AUTHORIZE_PATH)?.strip_prefix('?')?;
    let q: AuthorizeQuery = serde_urlencoded::from_str(query).ok()?;
    let client = clients::find(conn, q.client_id.as_deref()?).ok()??;
    let uri = q.redirect_uri.filter(|uri| client.redirect_uris.contains(uri))?;
    origin_of(&uri)
}

/// `scheme://host[:port]` of an absolute URL.
pub fn origin_of(uri: &str) -> Option<String> {
    url::Url::parse(uri).ok().map(|u| u.origin().ascii_serialization()).filter(|o| o != "null")
}

/// Where the authorization endpoint is (a page: the person signs in and consents there).
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
/// Where apps send people to sign out (OpenID RP-Initiated Logout 1.0).
pub const LOGOUT_PATH: &str = "/oauth/logout";

/// Reads the request against the registered client.
pub fn check(conn: &mut DbConn, q: &AuthorizeQuery) -> Result<AuthRequest, AuthorizeError> {
    let page = |m: &str| Err(AuthorizeError::Page(m.to_owned()));
    let Some(client_id) = q.client_id.as_deref().filter(|s| !s.is_empty()) else {
        return page("The app did not say who it is (client_id is missing).");
    };
    let client = match clients::find(conn, client_id) {
        Ok(Some(client)) => client,
        Ok(None) => return page("This app is not registered here (unknown client_id)."),
        Err(e) => return Err(AuthorizeError::Page(format!("The request could not be read now: {e}"))),
    };
    let Some(redirect_uri) = q.redirect_uri.as_deref() else {
        return page("The app did not say where to send you back (redirect_uri is missing).");
    };
    if !client.redirect_uris.contains(redirect_uri) {
        return page("The app asked to send you to an address it has not registered (redirect_uri).");
    }
    let mut request = AuthRequest {
        redirect_uri: redirect_uri.to_owned(),
        scopes: Scopes::default(),
        state: q.state.clone(),
        nonce: q.nonce.clone(),
        challenge: None,
        prompt: Prompt::default(),
        max_age: None,
        login_hint: q.login_hint.clone(),
        signed_in_after: q.signed_in_after.as_deref().and_then(|t| t.parse().ok()),
        client,
    };
    if q.request.is_some() {
        return Err(request.error("request_not_supported", "Request objects are not supported."));
    }
    if q.request_uri.is_some() {
        return Err(request.error("request_uri_not_supported", "request_uri is not supported."));
    }
    match q.response_type.as_deref() {
        Some("code") => {}
        None => return Err(request.error("invalid_request", "response_type is missing.")),
        Some(_) => {
            return Err(request.error("unsupported_response_type", "Only the code flow is supported."));
        }
    }
    if q.response_mode.as_deref().is_some_and(|m| m != "query") {
        return Err(request.error("invalid_request", "Only response_mode=query is supported."));
    }
    request.scopes = match Scopes::parse(q.scope.as_deref().unwrap_or_default()) {
        Ok(scopes) if scopes.has("openid") => scopes,
        Ok(_) => return Err(request.error("invalid_scope", "The openid scope is required.")),
        Err(unknown) => return Err(request.error("invalid_scope", format!("Unknown scope: {unknown}."))),
    };
    request.challenge =
        pkce::parse_challenge(q.code_challenge.as_deref(), q.code_challenge_method.as_deref())
            .map_err(|e| request.error("invalid_request", e.to_string()))?;
    if request.challenge.is_none() && request.client.secret_hash.is_none() {
        return Err(request.error("invalid_request", "A public client must use PKCE (code_challenge, S256)."));
    }
    request.prompt = parse_prompt(q.prompt.as_deref()).map_err(|m| request.error("invalid_request", m))?;
    request.max_age = match q.max_age.as_deref() {
        None => None,
        Some(raw) => match raw.parse::<i64>() {
            Ok(secs) if secs >= 0 => Some(secs),
            _ => return Err(request.error("invalid_request", "max_age must be a number of seconds.")),
        },
    };
    Ok(request)
}

fn parse_prompt(raw: Option<&str>) -> Result<Prompt, &'static str> {
    let mut prompt = Prompt::default();
    for value in raw.unwrap_or_default().split(' ').filter(|s| !s.is_empty()) {
        match value {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            _ => return Err("prompt: unknown value."),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err("prompt=none cannot be combined with another value.");
    }
    Ok(prompt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_keep_the_registered_query_and_carry_state_and_iss() {
        let answer = Answer {
            redirect_uri: "https://app.example/cb?tenant=1".to_owned(),
            params: vec![("code", "abc".to_owned())],
            state: Some("s p&".to_owned()),
        };
        assert_eq!(
            answer.location("https://id.example"),
            "https://app.example/cb?tenant=1&code=abc&state=s+p%26&iss=https%3A%2F%2Fid.example"
        );
    }

    #[test]
    fn prompt_none_stands_alone() {
        assert_eq!(parse_prompt(Some("none")).map(|p| p.none), Ok(true));
        assert!(parse_prompt(Some("none login")).is_err());
        assert!(parse_prompt(Some("login consent")).is_ok_and(|p| p.login && p.consent));
        assert!(parse_prompt(Some("bogus")).is_err());
    }
}
