//! The notes as JSON, for the same session (cookie) or a Bearer token: `GET /api/notes` and
//! `POST /api/notes`. The API policy answers 401 JSON without a session and 403 to a cookie
//! session's POST without `X-CSRF-Token`; a Bearer request needs none. An app a person signed
//! in to through Portcullis (OpenID Connect) may read them at `GET /api/app/notes`, the one
//! handler that opts in to app tokens; everywhere else its token gets 403.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError, web};
use portcullis::database::{self, StoreError};
use portcullis::{AppToken, CurrentUser};
use serde::{Deserialize, Serialize};

use crate::Db;
use crate::store::{self, Note};

/// A note, as the API gives it.
#[derive(Serialize)]
pub struct NoteJson {
    id: String,
    text: String,
    /// RFC 3339, UTC.
    created_at: String,
}

impl From<Note> for NoteJson {
    fn from(note: Note) -> Self {
        Self { id: note.id, text: note.text, created_at: rfc3339(note.created_at) }
    }
}

/// `GET /api/notes`: the caller's notes, newest first.
pub async fn list(db: Db, user: CurrentUser) -> Result<web::Json<Vec<NoteJson>>, StoreError> {
    let user_id = user.0.user_id.to_string();
    let notes = database::query(&db, move |conn| store::list(conn, &user_id)).await?;
    Ok(web::Json(notes.into_iter().map(NoteJson::from).collect()))
}

/// `GET /api/app/notes`: the notes of the person an app acts for, read by that app with its
/// own access token (never writable by it).
pub async fn list_for_app(db: Db, app: AppToken) -> Result<HttpResponse, StoreError> {
    let Some(user_id) = app.user_id().map(ToString::to_string) else {
        let body = serde_json_shape("insufficient_scope", "This token acts for no person.");
        return Ok(HttpResponse::Forbidden().json(body));
    };
    let notes = database::query(&db, move |conn| store::list(conn, &user_id)).await?;
    Ok(HttpResponse::Ok().json(notes.into_iter().map(NoteJson::from).collect::<Vec<_>>()))
}

#[derive(Deserialize)]
pub struct NewNote {
    text: String,
}

/// `POST /api/notes` (`{"text"}`) → 201 with the note.
pub async fn add(db: Db, user: CurrentUser, body: web::Json<NewNote>) -> Result<HttpResponse, NoteError> {
    let text = store::parse_text(&body.text).map_err(NoteError::Invalid)?.to_owned();
    let user_id = user.0.user_id.to_string();
    let note = database::query(&db, move |conn| store::add(conn, &user_id, &text, database::now())).await?;
    Ok(HttpResponse::Created().json(NoteJson::from(note)))
}

/// Why a note was not taken, in Portcullis's error shape (`{"error","message"}`).
#[derive(Debug)]
pub enum NoteError {
    /// The text is empty or too long (422).
    Invalid(&'static str),
    /// The database did not answer.
    Store(StoreError),
}

impl From<StoreError> for NoteError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

impl std::fmt::Display for NoteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Invalid(why) => write!(f, "text: {why}"),
            Self::Store(e) => write!(f, "{e}"),
        }
    }
}

impl ResponseError for NoteError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Store(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::Invalid(_) => {
                HttpResponse::UnprocessableEntity().json(serde_json_shape("invalid_text", &self.to_string()))
            }
            Self::Store(e) => e.error_response(),
        }
    }
}

#[derive(Serialize)]
struct ErrorJson<'a> {
    error: &'a str,
    message: &'a str,
}

fn serde_json_shape<'a>(error: &'a str, message: &'a str) -> ErrorJson<'a> {
    ErrorJson { error, message }
}

/// RFC 3339, UTC, to the second.
pub fn rfc3339(unix: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}
