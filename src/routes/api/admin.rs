use actix_web::web;
use serde::Serialize;

use super::me::UserResponse;
use crate::auth::RequireAdmin;
use crate::db::{self, users};
use crate::errors::ApiError;
use crate::state::AppState;

#[derive(Serialize)]
pub struct AdminUserResponse {
    #[serde(flatten)]
    user: UserResponse,
    disabled: bool,
}

/// Every account, for administrators.
pub async fn list_users(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
) -> Result<web::Json<Vec<AdminUserResponse>>, ApiError> {
    let all = db::query(&state.pool, users::list_users).await?;
    Ok(web::Json(
        all.iter().map(|u| AdminUserResponse { user: UserResponse::from(u), disabled: u.disabled }).collect(),
    ))
}
