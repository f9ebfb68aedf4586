use actix_web::web::Json;
use serde::Serialize;

use crate::auth::CurrentUser;
use crate::db::models::User;
use crate::domain::Role;

#[derive(Serialize)]
pub struct UserResponse {
    id: String,
    email: String,
    role: Role,
    /// RFC 3339, UTC.
    created_at: String,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        let created_at = time::OffsetDateTime::from_unix_timestamp(user.created_at)
            .ok()
            .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
            .unwrap_or_default();
        Self { id: user.id.clone(), email: user.email.clone(), role: user.role, created_at }
    }
}

pub async fn me(user: CurrentUser) -> Json<UserResponse> {
    Json(UserResponse::from(&user.0.user))
}
