use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::{csrf_ok, see_other};
use crate::auth::client::ClientInfo;
use crate::auth::{MaybeUser, sessions};
use crate::errors::{ApiError, PageError};
use crate::startup::AppState;

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

/// Revokes the session server-side (so a copied token dies too) and clears the cookies.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<LogoutForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0.as_ref();
    if !csrf_ok(&req, &state, identity, &form.csrf_token) {
        return Err(
            ApiError::Forbidden("This form has expired. Go back, reload the page and try again.").into()
        );
    }
    if let Some(identity) = identity {
        sessions::sign_out(&state, &identity.session, &client).await?;
    }
    let [access, refresh] = state.cookies.cleared();
    let csrf = state.cookies.csrf_cookie(&state.csrf.issue(""));
    Ok(see_other("/login", [access, refresh, csrf]))
}
