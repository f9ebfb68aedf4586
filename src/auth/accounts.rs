//! Creating accounts, shared by the registration page, the API and the CLI.

use crate::db::models::{NewUser, User};
use crate::db::users::{self, CreateUserError};
use crate::db::{self, DbConn};
use crate::domain::{Email, NewPassword, Role};
use crate::startup::AppState;

use super::tokens::random_id;

/// Hashes the password off the workers and inserts the user.
pub async fn register(state: &AppState, email: Email, password: NewPassword, role: Role) -> Result<User, CreateUserError> {
    let hash = state.hasher.hash(password.secret().clone()).await?;
    db::run(&state.pool, move |conn| create_user(conn, &email, &hash, role)).await
}

/// Inserts a user whose password is already hashed.
pub fn create_user(conn: &mut DbConn, email: &Email, password_hash: &str, role: Role) -> Result<User, CreateUserError> {
    let now = db::now();
    let id = random_id();
    let row = NewUser {
        id: &id,
        email: email.as_ref(),
        password_hash,
        role: role.as_str(),
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    users::insert_user(conn, &row)?;
    Ok(User {
        id,
        email: email.to_string(),
        password_hash: password_hash.to_owned(),
        role: role.as_str().to_owned(),
        disabled: false,
        created_at: now,
        updated_at: now,
    })
}
