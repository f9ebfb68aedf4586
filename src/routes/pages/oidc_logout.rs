//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0, SPEC §11): an app sends the
//! person here to end their Portcullis session too. With a valid `id_token_hint` (this issuer,
//! its client, the signed-in person; expired is fine) a GET is enough; without one the person
//! confirms with a POST form carrying `csrf_token`. The person goes back to the app only to a
//! `post_logout_redirect_uri` registered exactly for it; otherwise they see the signed-out page.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::{Deserialize, Serialize};

use crate::auth::MaybeUser;
use crate::auth::client::ClientInfo;
use crate::auth::provider::authorize::origin_of;
use crate::auth::session::sign_in;
use crate::auth::web::extract::ActingSession;
use crate::db::{self, clients};
use crate::domain::UserId;
use crate::errors::PageError;
use crate::routes::headers::with_form_action;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct LogoutQuery {
    id_token_hint: Option<String>,
    post_logout_redirect_uri: Option<String>,
    state: Option<String>,
    client_id: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/oauth_logout.html")]
struct LogoutPage {
    layout: Layout,
    confirm: bool,
    app: Option<String>,
    fields: Vec<(String, String)>,
}

/// What the request says once checked: whose hint, and where to go afterwards.
struct Checked {
    /// The hint is valid for the signed-in person (or nobody is signed in).
    hinted: bool,
    app: Option<String>,
    /// The registered post-logout URI with `state`, if any.
    back_to: Option<String>,
}

/// `GET /oauth/logout`.
pub async fn logout_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    session: ActingSession,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    let query: LogoutQuery = serde_urlencoded::from_str(req.query_string()).unwrap_or_default();
    let checked = check(&state, &query, session.0.as_ref().map(|s| &s.user_id)).await?;
    if session.0.is_none() || checked.hinted {
        return sign_out(&state, session, &client, checked.back_to.as_deref()).await;
    }
    let (layout, csrf_cookie) = layout(&req, &state, user.0.as_ref());
    let encoded = serde_urlencoded::to_string(&query).unwrap_or_default();
    let fields = serde_urlencoded::from_str(&encoded).unwrap_or_default();
    let page = LogoutPage { layout, confirm: true, app: checked.app, fields };
    let origin = checked.back_to.as_deref().and_then(origin_of);
    render(StatusCode::OK, &page, csrf_cookie).map(|res| with_form_action(res, origin.as_deref()))
}

/// `POST /oauth/logout`: the person confirmed.
pub async fn logout(
    state: web::Data<AppState>,
    session: ActingSession,
    client: ClientInfo,
    form: web::Form<LogoutQuery>,
) -> Result<HttpResponse, PageError> {
    let checked = check(&state, &form, session.0.as_ref().map(|s| &s.user_id)).await?;
    sign_out(&state, session, &client, checked.back_to.as_deref()).await
}

/// `signed_in`: the account of the session this request acts for (signed in, or named by the
/// refresh cookie once the access token ran out): a hint counts only for that account.
async fn check(state: &AppState, q: &LogoutQuery, signed_in: Option<&UserId>) -> Result<Checked, PageError> {
    let keys = &state.sessions.keys;
    let hint = q.id_token_hint.as_deref().and_then(|t| keys.decode_id_token_hint(t).ok());
    let hint = hint.filter(|h| q.client_id.as_deref().is_none_or(|c| c == h.aud));
    let hinted = hint.as_ref().is_some_and(|h| signed_in.is_none_or(|u| u.as_str() == h.sub));
    let Some(client_id) = hint.map(|h| h.aud).or_else(|| q.client_id.clone()) else {
        return Ok(Checked { hinted: false, app: None, back_to: None });
    };
    let found = db::query(&state.pool, move |conn| clients::find(conn, &client_id)).await?;
    let Some(found) = found else { return Ok(Checked { hinted: false, app: None, back_to: None }) };
    let back_to =
        q.post_logout_redirect_uri.as_deref().filter(|uri| found.post_logout_redirect_uris.contains(uri));
    let back_to = back_to.map(|uri| match &q.state {
        Some(s) => {
            let joiner = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{joiner}{}", serde_urlencoded::to_string([("state", s)]).unwrap_or_default())
        }
        None => uri.to_owned(),
    });
    Ok(Checked { hinted, app: Some(found.name), back_to })
}

async fn sign_out(
    state: &AppState,
    session: ActingSession,
    client: &ClientInfo,
    back_to: Option<&str>,
) -> Result<HttpResponse, PageError> {
    if let Some(session) = session.0 {
        sign_in::sign_out(&state.pool, &session, client).await?;
    }
    let [access, refresh] = state.cookies.cleared();
    let csrf = state.cookies.csrf_cookie(&state.csrf.issue(""));
    match back_to {
        Some(uri) => Ok(see_other(uri, [access, refresh, csrf])),
        None => {
            let layout = layout_without_user(state);
            let page = LogoutPage { layout, confirm: false, app: None, fields: Vec::new() };
            let mut res = render(StatusCode::OK, &page, None)?;
            for cookie in [access, refresh, csrf] {
                res.add_cookie(&cookie).map_err(anyhow::Error::from)?;
            }
            Ok(res)
        }
    }
}

fn layout_without_user(state: &AppState) -> Layout {
    Layout {
        user_email: None,
        is_admin: false,
        csrf_token: String::new(),
        registration_open: state.registration.is_open(),
        links: Vec::new(),
    }
}
