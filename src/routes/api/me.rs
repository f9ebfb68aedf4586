use actix_web::web::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::CurrentUser;
use crate::db::models::User;
use crate::domain::Role;
use crate::routes::format::rfc3339;

#[derive(Serialize, ToSchema)]
pub struct UserResponse {
    id: String,
    email: String,
    role: Role,
    /// RFC 3339, UTC.
    #[schema(format = DateTime)]
    created_at: String,
    email_verified: bool,
}

impl From<&User> for UserResponse {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.to_string(),
            email: user.email.clone(),
            role: user.role,
            created_at: rfc3339(user.created_at),
            email_verified: user.email_verified,
        }
    }
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/me", tag = "account",
    security(("bearer" = []), ("access_cookie" = [])),
    responses((status = 200, description = "The signed-in user.", body = UserResponse)))]
pub async fn me(user: CurrentUser) -> Json<UserResponse> {
    let identity = user.0;
    Json(UserResponse {
        id: identity.user_id.to_string(),
        email: identity.email,
        role: identity.role,
        created_at: rfc3339(identity.member_since),
        email_verified: identity.email_verified,
    })
}
