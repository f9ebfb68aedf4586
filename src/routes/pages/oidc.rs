//! The OpenID Connect provider's pages (SPEC §11): the authorization endpoint with its consent
//! page, and RP-initiated logout. Both are pages: the person signs in, consents and confirms
//! here, under the page policy (CSRF token on every form).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::MaybeUser;
use crate::auth::client::ClientInfo;
use crate::auth::provider::authorize::{self, AUTHORIZE_PATH, AuthRequest, AuthorizeError, AuthorizeQuery};
use crate::auth::provider::grants::{self, Step};
use crate::auth::web::extract::login_url;
use crate::db;
use crate::errors::PageError;
use crate::routes::headers::with_form_action;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/consent.html")]
struct ConsentPage {
    layout: Layout,
    app: String,
    scopes: Vec<&'static str>,
    /// The authorization request, carried through the form as hidden fields.
    fields: Vec<(String, String)>,
}

/// `GET /oauth/authorize`: the authorization endpoint.
pub async fn authorize(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let query = read_query(&state, req.query_string())?;
    let request = match check(&state, query.clone()).await? {
        Ok(request) => request,
        Err(back) => return Ok(back),
    };
    match grants::decide(&state.pool, state.mailer(), &request, user.0.as_ref(), &client).await? {
        Step::SignIn { fresh } => {
            let mut again = query;
            // Any sign-in from here on is fresh: mark it, so the request is satisfied after it
            // (`prompt=login` and `max_age` ask for no second one).
            if fresh || request.prompt.login || request.max_age.is_some() {
                again.prompt = again
                    .prompt
                    .map(|p| p.split(' ').filter(|v| *v != "login").collect::<Vec<_>>().join(" "));
                again.signed_in_after = Some(db::now().to_string());
            }
            let mut login = login_url(&authorize_url(&again));
            if let Some(hint) = &request.login_hint {
                login.push('&');
                login.push_str(&serde_urlencoded::to_string([("email", hint)]).unwrap_or_default());
            }
            if fresh {
                login.push_str("&fresh=1");
            }
            Ok(see_other(&login, []))
        }
        Step::Consent => consent_page(&req, &state, user.0.as_ref(), &request, &query),
        Step::Answer(answer) => Ok(see_other(&answer.location(state.sessions.keys.issuer()), [])),
    }
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    decision: String,
    #[serde(flatten)]
    query: AuthorizeQuery,
}

/// `POST /oauth/authorize`: the consent page's answer (`decision=allow|deny`).
pub async fn decide(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<ConsentForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    provider_on(&state)?;
    let request = match check(&state, form.query.clone()).await? {
        Ok(request) => request,
        Err(back) => return Ok(back),
    };
    let Some(identity) = user.0 else {
        return Ok(see_other(&login_url(&authorize_url(&form.query)), []));
    };
    let answer = match form.decision.as_str() {
        "allow" => {
            grants::issue_code(&state.pool, state.mailer(), &request, &identity, &client, true).await?
        }
        "deny" => request.error_answer("access_denied", "The person did not allow it."),
        _ => return consent_page(&req, &state, Some(&identity), &request, &form.query),
    };
    Ok(see_other(&answer.location(state.sessions.keys.issuer()), []))
}

fn provider_on(state: &AppState) -> Result<(), PageError> {
    if state.sessions.keys.provider_on() { Ok(()) } else { Err(PageError::not_found()) }
}

fn read_query(state: &AppState, raw: &str) -> Result<AuthorizeQuery, PageError> {
    provider_on(state)?;
    serde_urlencoded::from_str(raw).map_err(|_| bad_request("The sign-in link's parameters cannot be read."))
}

fn bad_request(message: impl Into<String>) -> PageError {
    PageError::new(StatusCode::BAD_REQUEST, "This sign-in link is not valid", message)
}

/// The request checked against its client; an untrustworthy one is a 400 page, the others an
/// error answer to the app (`Ok(Err(redirect))`).
async fn check(
    state: &AppState,
    query: AuthorizeQuery,
) -> Result<Result<AuthRequest, HttpResponse>, PageError> {
    let checked = db::query(&state.pool, move |conn| Ok(authorize::check(conn, &query))).await?;
    match checked {
        Ok(request) => Ok(Ok(request)),
        Err(AuthorizeError::Page(message)) => Err(bad_request(message)),
        Err(AuthorizeError::Redirect(answer)) => {
            Ok(Err(see_other(&answer.location(state.sessions.keys.issuer()), [])))
        }
    }
}

fn authorize_url(query: &AuthorizeQuery) -> String {
    format!("{AUTHORIZE_PATH}?{}", serde_urlencoded::to_string(query).unwrap_or_default())
}

fn consent_page(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&crate::auth::Identity>,
    request: &AuthRequest,
    query: &AuthorizeQuery,
) -> Result<HttpResponse, PageError> {
    let (layout, csrf_cookie) = layout(req, state, identity);
    let encoded = serde_urlencoded::to_string(query).unwrap_or_default();
    let fields = serde_urlencoded::from_str(&encoded).unwrap_or_default();
    let page =
        ConsentPage { layout, app: request.client.name.clone(), scopes: request.scopes.described(), fields };
    let origin = authorize::origin_of(&request.redirect_uri);
    render(StatusCode::OK, &page, csrf_cookie).map(|res| with_form_action(res, origin.as_deref()))
}
