use actix_web::{HttpRequest, HttpResponse, web};

use super::render::see_other;
use crate::auth::client::ClientInfo;
use crate::auth::csrf::{self, CsrfForm};
use crate::auth::{MaybeUser, sessions};
use crate::errors::PageError;
use crate::state::AppState;

/// Revokes the session server-side (so a copied token dies too) and clears the cookies.
pub async fn logout(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
    client: ClientInfo,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let identity = user.0.as_ref();
    csrf::require_form(&req, &state.csrf, &state.cookies, identity, &form.csrf_token)?;
    if let Some(identity) = identity {
        sessions::sign_out(&state.pool, identity, &client).await?;
    }
    let [access, refresh] = state.cookies.cleared();
    let csrf = state.cookies.csrf_cookie(&state.csrf.issue(""));
    Ok(see_other("/login", [access, refresh, csrf]))
}
