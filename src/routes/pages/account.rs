use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::{Layout, human_date, layout, render};
use crate::auth::CurrentUser;
use crate::errors::PageError;
use crate::startup::AppState;

#[derive(Template)]
#[template(path = "pages/account.html")]
pub struct AccountPage {
    layout: Layout,
    email: String,
    role: String,
    member_since: String,
}

pub async fn account_page(req: HttpRequest, state: web::Data<AppState>, user: CurrentUser) -> Result<HttpResponse, PageError> {
    let identity = user.0;
    let (layout, csrf_cookie) = layout(&req, &state, Some(&identity));
    let page = AccountPage {
        layout,
        email: identity.user.email.clone(),
        role: identity.role().to_string(),
        member_since: human_date(identity.user.created_at),
    };
    render(StatusCode::OK, &page, csrf_cookie)
}
