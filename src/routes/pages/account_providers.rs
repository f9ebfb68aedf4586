//! Sign-in providers on the account page (SPEC §13): connect one (with the password, as for any
//! new credential, SPEC §9; the provider is asked to see the person again, `prompt=login`) and
//! disconnect one (never the last way left to sign in). Both are mailed and security events.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::auth::account::lifecycle::AccountError;
use crate::auth::account::reauth::reauthenticate;
use crate::auth::client::ClientInfo;
use crate::auth::notice;
use crate::auth::upstream::flow::{self, Connecting, FlowError};
use crate::auth::upstream::linking::{self, Disconnect};
use crate::errors::{ApiError, PageError};
use crate::mail::compose;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/provider_continue.html")]
struct ContinuePage {
    layout: Layout,
    provider: String,
    location: String,
}

#[derive(Deserialize)]
pub struct ConnectForm {
    password: SecretString,
}

/// `POST /account/providers/{name}/connect`: the password, then on to the provider. The way
/// there is a link on a page of its own: a form's redirect to another site would meet this
/// site's CSP (`form-action 'self'`).
pub async fn connect(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    name: web::Path<String>,
    form: web::Form<ConnectForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let checked = match reauthenticate(
        state.password_check(),
        &identity.user_id,
        Some(form.into_inner().password),
        &client,
    )
    .await
    {
        Ok(user) => user,
        Err(AccountError::WrongPassword) => {
            return Err(PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Not connected",
                "That is not your password: nothing was connected. Go back and try again.",
            ));
        }
        Err(e) => return Err(ApiError::from(e).into()),
    };
    let connecting =
        Connecting { user_id: checked.id.to_string(), credential_version: checked.credential_version };
    let public_url = state.public_url.as_str();
    let started = flow::start(&state.pool, &state.providers, public_url, &name, "/account", Some(connecting))
        .await
        .map_err(|e| match e {
            FlowError::UnknownProvider(_) => PageError::not_found(),
            other => PageError::new(
                StatusCode::BAD_GATEWAY,
                "The provider could not be reached",
                other.to_string(),
            ),
        })?;
    let (layout, csrf_cookie) = layout(&req, &state, Some(&identity));
    let page = ContinuePage { layout, provider: name.into_inner(), location: started.location };
    let mut res = render(StatusCode::OK, &page, csrf_cookie)?;
    res.add_cookie(&state.cookies.upstream_cookie(started.browser_secret)).map_err(anyhow::Error::from)?;
    Ok(res)
}

#[derive(Deserialize)]
pub struct DisconnectForm {
    issuer: String,
    subject: String,
}

/// `POST /account/providers/disconnect`.
pub async fn disconnect(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<DisconnectForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    match linking::disconnect(&state.pool, &identity.user_id, &form.issuer, &form.subject, &client).await? {
        Disconnect::Done(provider) => {
            let what = format!("{provider} was disconnected: it no longer signs you in to this account.");
            notice::notify(
                &state.pool,
                &state.mail,
                compose::factor_changed(&state.mail, &identity.email, &what),
            )
            .await;
            Ok(see_other("/account?done=provider-disconnected", []))
        }
        Disconnect::LastWay => Err(PageError::new(
            StatusCode::CONFLICT,
            "Not disconnected",
            "This provider is the only way left to sign in to your account. Set a password first (with \"Forgot your \
             password?\" on the sign-in page) or add a passkey, then disconnect it.",
        )),
        Disconnect::NotFound => Err(PageError::not_found()),
    }
}
