use actix_web::{HttpResponse, web};

use crate::auth::client::ClientInfo;
use crate::auth::session::sign_in;
use crate::auth::web::extract::ActingSession;
use crate::errors::PageError;
use crate::routes::view::render::see_other;
use crate::state::AppState;

/// Revokes the session server-side (so a copied token dies too) and clears the cookies. The
/// session is the signed-in one, or the one the refresh cookie names once the access token
/// has run out: signing out always ends it.
pub async fn logout(
    state: web::Data<AppState>,
    session: ActingSession,
    client: ClientInfo,
) -> Result<HttpResponse, PageError> {
    if let Some(session) = session.0 {
        sign_in::sign_out(&state.pool, &session, &client).await?;
    }
    let [access, refresh] = state.cookies.cleared();
    let csrf = state.cookies.csrf_cookie(&state.csrf.issue(""));
    Ok(see_other("/login", [access, refresh, csrf]))
}
