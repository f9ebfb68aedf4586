use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::MaybeUser;
use crate::errors::PageError;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::render;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/home.html")]
pub struct HomePage {
    layout: Layout,
    registration_open: bool,
}

pub async fn home_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    user: MaybeUser,
) -> Result<HttpResponse, PageError> {
    let (layout, csrf_cookie) = layout(&req, &state, user.0.as_ref());
    let page = HomePage { layout, registration_open: state.registration.is_open() };
    render(StatusCode::OK, &page, csrf_cookie)
}
