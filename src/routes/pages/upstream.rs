//! "Sign in with NAME" (SPEC §13): `GET /login/provider/NAME` (the link on `/login`) sends the
//! browser to the provider;
//! `GET /login/provider/NAME/callback` is where the provider sends it back. What happens then is
//! `auth::upstream::linking`'s decision; every failure is a page, never a 500.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use crate::auth::MaybeUser;
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::identity::Amr;
use crate::auth::notice;
use crate::auth::session::challenge::{MfaFlow, open_mfa_challenge};
use crate::auth::session::sign_in;
use crate::auth::upstream::flow::{self, Callback, FlowError};
use crate::auth::upstream::linking::{self, Outcome};
use crate::auth::web::cookies;
use crate::auth::web::csrf_forms::session_cookies;
use crate::db::models::User;
use crate::db::{self, factors};
use crate::domain::safe_next;
use crate::errors::PageError;
use crate::mail::compose;
use crate::routes::view::render::see_other;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct StartQuery {
    next: Option<String>,
}

/// `GET /login/provider/NAME?next=`: off to the provider (the "Sign in with NAME" link; a GET,
/// so the page's CSP need not name the provider). Safe from another site: the callback only
/// works in the browser that started it.
pub async fn start(
    state: web::Data<AppState>,
    name: web::Path<String>,
    query: web::Query<StartQuery>,
) -> Result<HttpResponse, PageError> {
    let next = safe_next(query.next.as_deref(), &state.cors_origins).to_owned();
    let public_url = state.public_url.as_str();
    let started =
        flow::start(&state.pool, &state.providers, public_url, &name, &next, None).await.map_err(page)?;
    Ok(see_other(&started.location, [state.cookies.upstream_cookie(started.browser_secret)]))
}

/// `GET /login/provider/NAME/callback`: back from the provider.
pub async fn callback(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    name: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let query: Callback = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let browser = cookies::read_owned(&req, state.cookies.upstream);
    let public_url = state.public_url.as_str();
    let sealer = &state.upstream;
    let verified =
        flow::finish(&state.pool, &state.providers, sealer, public_url, &name, query, browser.as_deref())
            .await
            .map_err(page)?;
    let next = verified.login.next.clone();
    match linking::resolve(&state.pool, &verified, state.registration.is_open(), &client).await? {
        Outcome::SignIn { user: signed, new_account } => {
            sign_in(&req, &state, user.0.as_ref(), *signed, &verified.provider, new_account, &next, &client)
                .await
        }
        Outcome::Connected { user_id } => {
            let to = user.0.as_ref().filter(|i| i.user_id.as_str() == user_id).map(|i| i.email.clone());
            if let Some(to) = to {
                let what =
                    format!("{} was connected: it can now sign you in to this account.", verified.provider);
                notice::notify(&state.pool, &state.mail, compose::factor_changed(&state.mail, &to, &what))
                    .await;
            }
            Ok(see_other("/account?done=provider-connected", [state.cookies.upstream_cleared()]))
        }
        Outcome::SignInFirst { email } => Err(PageError::new(
            StatusCode::CONFLICT,
            "Sign in to your account first",
            format!(
                "An account with the address {email} already exists, and {} is not connected to it. Sign in to it with its \
                 password or a passkey, then connect {} from your account page. (Portcullis never links accounts by email \
                 alone: that would let whoever controls the address elsewhere take the account over.)",
                verified.provider, verified.provider
            ),
        )),
        Outcome::RegisterNormally { why } => Err(PageError::new(
            StatusCode::FORBIDDEN,
            "No account to sign in to",
            format!(
                "No account here is connected to this {} identity, and none can be made from it: {why}. Register with an \
                 email address and a password instead, if registration is open.",
                verified.provider
            ),
        )),
        Outcome::LinkedElsewhere => Err(PageError::new(
            StatusCode::CONFLICT,
            "Already connected to another account",
            format!("This {} identity is connected to another account here.", verified.provider),
        )),
        Outcome::Refused => Err(PageError::new(
            StatusCode::FORBIDDEN,
            "Not signed in",
            "This account cannot sign in now (it is disabled, or its credentials changed meanwhile).",
        )),
    }
}

#[allow(clippy::too_many_arguments)]
async fn sign_in(
    req: &HttpRequest,
    state: &AppState,
    identity: Option<&crate::auth::Identity>,
    user: User,
    provider: &str,
    new_account: bool,
    next: &str,
    client: &ClientInfo,
) -> Result<HttpResponse, PageError> {
    let pool = &state.pool;
    let uid = user.id.clone();
    if db::query(pool, move |conn| factors::totp_is_on(conn, &uid)).await? {
        let mfa_token = open_mfa_challenge(pool, &user, MfaFlow::Cookie, false, false).await?;
        events::record(pool, &user.id, EventKind::MfaChallenged, None, client).await;
        let mut res =
            super::login::code_form(req, state, identity, StatusCode::OK, mfa_token, next.to_owned(), None)
                .await?;
        res.add_cookie(&state.cookies.upstream_cleared()).map_err(anyhow::Error::from)?;
        return Ok(res);
    }
    let signed = sign_in::start_session(&state.sessions, user, false, Amr::Provider, client)
        .await
        .map_err(crate::errors::ApiError::from)?;
    let detail = format!("through {provider}");
    events::record_detailed(pool, &signed.user.id, EventKind::ProviderSignIn, detail, client).await;
    if !new_account {
        let mail = compose::new_sign_in(&state.mail, &signed.user.email, &client.ip, &client.user_agent);
        notice::notify(pool, &state.mail, mail).await;
    }
    let mut cookies = session_cookies(&state.cookies, &state.csrf, &signed).to_vec();
    cookies.push(state.cookies.upstream_cleared());
    Ok(see_other(next, cookies))
}

fn page(e: FlowError) -> PageError {
    let message = e.to_string();
    match e {
        FlowError::UnknownProvider(_) => PageError::not_found(),
        FlowError::InvalidState => {
            PageError::new(StatusCode::BAD_REQUEST, "This sign-in has expired", message)
        }
        FlowError::Refused(_) => PageError::new(StatusCode::BAD_REQUEST, "Not signed in", message),
        FlowError::Untrusted(_) => {
            // The provider's own words go in a field, which the logger escapes, never the message.
            log::warn!(reason = message.as_str(); "a sign-in through a provider failed");
            PageError::new(StatusCode::BAD_GATEWAY, "The provider's answer could not be used", message)
        }
        FlowError::Store(e) => e.into(),
    }
}
