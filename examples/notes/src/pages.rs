//! The app's pages, in Portcullis's layout ([`PageShell`]): the landing page and the notes.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use portcullis::database::{self, StoreError};
use portcullis::{CurrentUser, MaybeUser, PageShell};
use serde::Deserialize;

use crate::Db;
use crate::store::{self, Note};

#[derive(Template)]
#[template(path = "home.html")]
struct HomeBody {
    signed_in: bool,
}

#[derive(Template)]
#[template(path = "notes.html")]
struct NotesBody<'a> {
    csrf_token: &'a str,
    notes: Vec<NoteView>,
    error: Option<&'static str>,
    text: &'a str,
}

struct NoteView {
    text: String,
    when: String,
}

impl From<Note> for NoteView {
    fn from(note: Note) -> Self {
        Self { text: note.text, when: crate::api::rfc3339(note.created_at) }
    }
}

fn shell(req: &HttpRequest) -> PageShell {
    PageShell::new(req).link("Notes", "/notes")
}

/// `GET /`: public.
pub async fn home(req: HttpRequest, user: MaybeUser) -> HttpResponse {
    let body = HomeBody { signed_in: user.0.is_some() };
    render(shell(&req), StatusCode::OK, "Notes", &body)
}

/// `GET /notes`: the signed-in person's notes and a form for a new one.
pub async fn list(req: HttpRequest, db: Db, user: CurrentUser) -> Result<HttpResponse, StoreError> {
    let user_id = user.0.user_id.to_string();
    let notes = database::query(&db, move |conn| store::list(conn, &user_id)).await?;
    Ok(show(&req, StatusCode::OK, notes, None, ""))
}

#[derive(Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    text: String,
}

/// `POST /notes` (form fields `text`, `csrf_token`: the page policy checks the token).
pub async fn add(
    req: HttpRequest,
    db: Db,
    user: CurrentUser,
    form: web::Form<NoteForm>,
) -> Result<HttpResponse, StoreError> {
    let user_id = user.0.user_id.to_string();
    let text = match store::parse_text(&form.text) {
        Ok(text) => text.to_owned(),
        Err(error) => {
            let notes = database::query(&db, move |conn| store::list(conn, &user_id)).await?;
            return Ok(show(&req, StatusCode::UNPROCESSABLE_ENTITY, notes, Some(error), &form.text));
        }
    };
    database::query(&db, move |conn| store::add(conn, &user_id, &text, database::now())).await?;
    Ok(HttpResponse::SeeOther().insert_header((LOCATION, "/notes")).finish())
}

fn show(
    req: &HttpRequest,
    status: StatusCode,
    notes: Vec<Note>,
    error: Option<&'static str>,
    text: &str,
) -> HttpResponse {
    let shell = shell(req);
    let notes = notes.into_iter().map(NoteView::from).collect();
    let body = NotesBody { csrf_token: shell.csrf_token(), notes, error, text };
    let html = body.render();
    match html {
        Ok(html) => shell.render(status, "Your notes", &html),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}

fn render(shell: PageShell, status: StatusCode, title: &str, body: &impl Template) -> HttpResponse {
    match body.render() {
        Ok(html) => shell.render(status, title, &html),
        Err(_) => HttpResponse::InternalServerError().finish(),
    }
}
