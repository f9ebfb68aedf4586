//! `/account/2fa`: the caller's second factors — an authenticator app (TOTP) with its recovery
//! codes, and passkeys.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use secrecy::SecretString;
use serde::Deserialize;

use crate::auth::account::lifecycle::AccountError;
use crate::auth::client::ClientInfo;
use crate::auth::factors::enrolment;
use crate::auth::factors::passkeys;
use crate::auth::factors::two_factor::{self, FactorError, Factors};
use crate::auth::factors::webauthn::{NEEDS_A_HOST_NAME, PasskeyError};
use crate::auth::{CurrentUser, Identity};
use crate::db::StoreError;
use crate::db::passkeys::PasskeyRow;
use crate::domain::UserId;
use crate::errors::{ApiError, PageError};
use crate::routes::format;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

/// A pending authenticator app, as the page shows it.
pub struct Pending {
    pub secret: String,
    /// Drawn by Portcullis from the otpauth URL (no image service sees the secret).
    pub qr_svg: String,
}

#[derive(Template)]
#[template(path = "pages/two_factor.html")]
pub struct TwoFactorPage {
    layout: Layout,
    factors: Factors,
    pending: Option<Pending>,
    /// Just after the confirmation: the recovery codes, shown this once.
    recovery_codes: Vec<String>,
    /// On, or the one-line reason passkeys are not offered here.
    passkeys_on: Result<(), &'static str>,
    passkeys: Vec<PasskeyView>,
    /// Where adding or removing a passkey comes back to.
    passkeys_return: &'static str,
    notice: Option<&'static str>,
    error: Option<String>,
}

pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub added: String,
    pub last_used: String,
}

#[derive(Deserialize)]
pub struct TwoFactorQuery {
    done: Option<String>,
}

pub async fn two_factor_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<TwoFactorQuery>,
) -> Result<HttpResponse, PageError> {
    let notice = match query.done.as_deref() {
        Some("totp-off") => Some("Two-factor sign-in with an authenticator app is off."),
        Some("passkey-added") => Some("The passkey is added: use it on the sign-in page."),
        Some("passkey-removed") => Some("The passkey is removed."),
        _ => None,
    };
    show(&req, &state, &user.0, StatusCode::OK, (notice, None), Vec::new()).await
}

#[derive(Deserialize)]
pub struct StartForm {
    password: SecretString,
}

/// "Set up an authenticator app": the password first (SPEC §9), then the page shows the
/// pending secret to this session only.
pub async fn start_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<StartForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let password = Some(form.into_inner().password);
    match enrolment::start_totp(state.password_check(), &state.two_factor, &identity, password, &client).await
    {
        Ok(_) => Ok(see_other("/account/2fa", [])),
        Err(FactorError::Account(AccountError::WrongPassword)) => {
            let error = Some("That is not your password: no authenticator app was set up.".to_owned());
            show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, (None, error), Vec::new()).await
        }
        Err(FactorError::AlreadyOn) => Ok(see_other("/account/2fa", [])),
        Err(e) => Err(ApiError::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    code: SecretString,
}

pub async fn confirm_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<ConfirmForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let tf = &state.two_factor;
    match enrolment::confirm_totp(&state.pool, tf, &state.throttle, &identity, &form.code, &client).await {
        Ok(codes) => {
            let notice = Some("Two-factor sign-in is on. Save your recovery codes now.");
            show(&req, &state, &identity, StatusCode::OK, (notice, None), codes).await
        }
        Err(FactorError::WrongCode) => {
            let error = "That is not the current code of your authenticator app. Check the time on your phone and try the newest code.";
            show(
                &req,
                &state,
                &identity,
                StatusCode::UNPROCESSABLE_ENTITY,
                (None, Some(error.to_owned())),
                Vec::new(),
            )
            .await
        }
        Err(FactorError::AlreadyOn | FactorError::NotPending) => Ok(see_other("/account/2fa", [])),
        Err(e) => Err(ApiError::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct DisableForm {
    password: SecretString,
}

pub async fn disable_totp(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<DisableForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let checks = state.password_check();
    let password = form.into_inner().password;
    match two_factor::disable_totp(checks, &state.mail, &identity.user_id, password, &client).await {
        Ok(()) => Ok(see_other("/account/2fa?done=totp-off", [])),
        Err(FactorError::Account(AccountError::WrongPassword)) => {
            let error = Some("That is not your password: two-factor sign-in is still on.".to_owned());
            show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, (None, error), Vec::new()).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct RemoveForm {
    /// The page the button was on: `/account` or `/account/2fa`.
    return_to: Option<String>,
}

/// Removes a passkey (a plain form: this works without JavaScript).
pub async fn remove_passkey(
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    id: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let back = if form.return_to.as_deref() == Some("/account") { "/account" } else { "/account/2fa" };
    match passkeys::remove(state.mailer(), &identity, &id, &client).await {
        Ok(()) => Ok(see_other(&format!("{back}?done=passkey-removed"), [])),
        Err(PasskeyError::NotFound) => Err(PageError::not_found()),
        Err(e) => Err(ApiError::from(e).into()),
    }
}

#[derive(Deserialize)]
pub struct RenewForm {
    password: SecretString,
}

/// Ten new recovery codes, shown on the page this once; the old ones stop working.
pub async fn renew_recovery_codes(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: CurrentUser,
    client: ClientInfo,
    form: web::Form<RenewForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let checks = state.password_check();
    let password = form.into_inner().password;
    match two_factor::renew_recovery_codes(checks, &identity.user_id, password, &client).await {
        Ok(codes) => {
            let notice = Some("New recovery codes are made: the old ones no longer work. Save these now.");
            show(&req, &state, &identity, StatusCode::OK, (notice, None), codes).await
        }
        Err(FactorError::Account(AccountError::WrongPassword)) => {
            let error = Some("That is not your password: your recovery codes are unchanged.".to_owned());
            show(&req, &state, &identity, StatusCode::UNPROCESSABLE_ENTITY, (None, error), Vec::new()).await
        }
        Err(FactorError::NotOn) => Ok(see_other("/account/2fa", [])),
        Err(e) => Err(ApiError::from(e).into()),
    }
}

async fn show(
    req: &HttpRequest,
    state: &AppState,
    identity: &Identity,
    status: StatusCode,
    (notice, error): (Option<&'static str>, Option<String>),
    recovery_codes: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let factors = two_factor::factors_of(&state.pool, &identity.user_id).await?;
    // No secret before the password (SPEC §9); once given, a second visit from this session
    // shows the same pending secret until it is confirmed.
    let pending = if factors.totp {
        None
    } else {
        enrolment::pending_enrolment(&state.pool, &state.two_factor, identity)
            .await
            .map_err(|e| PageError::from(ApiError::from(e)))?
            .map(|e| Pending { secret: e.secret, qr_svg: e.qr_svg })
    };
    let passkeys = passkey_views(state, &identity.user_id).await?;
    let passkeys_on = passkeys_on(state);
    let (layout, csrf_cookie) = layout(req, state, Some(identity));
    let passkeys_return = "/account/2fa";
    let page = TwoFactorPage {
        layout,
        factors,
        pending,
        recovery_codes,
        passkeys_on,
        passkeys,
        passkeys_return,
        notice,
        error,
    };
    let mut res = render(status, &page, csrf_cookie)?;
    // The page may hold a secret or recovery codes: never from a cache.
    res.headers_mut().insert(
        actix_web::http::header::CACHE_CONTROL,
        actix_web::http::header::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// The account's passkeys as the pages list them.
pub(super) async fn passkey_views(
    state: &AppState,
    user_id: &UserId,
) -> Result<Vec<PasskeyView>, StoreError> {
    Ok(passkeys::list(&state.pool, user_id).await?.into_iter().map(PasskeyView::from).collect())
}

impl From<PasskeyRow> for PasskeyView {
    fn from(p: PasskeyRow) -> Self {
        Self {
            id: p.id,
            name: p.name,
            added: format::human_time(p.created_at),
            last_used: p.last_used_at.map_or_else(|| "Never".to_owned(), format::human_time),
        }
    }
}

/// Passkeys on, or the one-line reason they are not offered here.
pub(super) fn passkeys_on(state: &AppState) -> Result<(), &'static str> {
    state.two_factor.passkeys.as_ref().map(drop).ok_or(NEEDS_A_HOST_NAME)
}
