//! `/admin/clients`: the apps that sign people in through Portcullis (SPEC §11) — list and
//! register; `/admin/clients/{id}`: one app, its redirect URIs (edited as a whole), a new
//! secret, removal. Admins only. A secret is shown once, on the page that answers the POST
//! that made it — never in a URL, never again. Every action goes through
//! `auth::provider::clients`, like the CLI and the admin API.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::provider::clients::{self, ClientError, ClientSpec, ClientView, Credentials};
use crate::auth::web::extract::RequireAdmin;
use crate::db;
use crate::errors::{ApiError, PageError};
use crate::keys::Alg;
use crate::routes::format;
use crate::routes::pages::admin_users::Done;
use crate::routes::view::layout::{Layout, layout};
use crate::routes::view::render::{render, see_other};
use crate::state::AppState;

/// A client as a page shows it: what the register says, and its date in words.
pub struct ClientRow {
    pub client: ClientView,
    pub created: String,
}

impl From<ClientView> for ClientRow {
    fn from(client: ClientView) -> Self {
        Self { created: format::human_date(client.created_at), client }
    }
}

/// The registration form, as typed (shown again with the error when it is refused).
#[derive(Deserialize, Default)]
pub struct NewClientForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    public: Option<String>,
    #[serde(default)]
    skip_consent: Option<String>,
    #[serde(default)]
    id_token_alg: String,
}

#[derive(Template)]
#[template(path = "pages/admin_clients.html")]
pub struct AdminClientsPage {
    layout: Layout,
    clients: Vec<ClientRow>,
    form: NewClientForm,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/admin_client.html")]
pub struct AdminClientPage {
    layout: Layout,
    client: ClientRow,
    /// The secret just made: shown this once.
    issued: Option<Credentials>,
    notice: Option<&'static str>,
    error: Option<String>,
    redirect_uris: String,
    post_logout_redirect_uris: String,
}

/// One URI per line; blank lines dropped.
fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

pub async fn admin_clients_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
) -> Result<HttpResponse, PageError> {
    list_page(&req, &state, &admin, StatusCode::OK, NewClientForm::default(), None).await
}

async fn list_page(
    req: &HttpRequest,
    state: &AppState,
    admin: &RequireAdmin,
    status: StatusCode,
    form: NewClientForm,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let all = db::query(&state.pool, |conn| Ok(clients::list(conn))).await?.map_err(ApiError::from)?;
    let (layout, csrf_cookie) = layout(req, state, Some(&admin.0));
    let page =
        AdminClientsPage { layout, clients: all.into_iter().map(ClientRow::from).collect(), form, error };
    render(status, &page, csrf_cookie)
}

pub async fn add_client(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    form: web::Form<NewClientForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    let Some(id_token_alg) =
        Alg::parse(if form.id_token_alg.is_empty() { "RS256" } else { &form.id_token_alg })
    else {
        let error = Some("ID token algorithm: one of RS256, ES256, EdDSA.".to_owned());
        return list_page(&req, &state, &admin, StatusCode::UNPROCESSABLE_ENTITY, form, error).await;
    };
    let spec = ClientSpec {
        name: form.name.clone(),
        redirect_uris: lines(&form.redirect_uris),
        post_logout_redirect_uris: lines(&form.post_logout_redirect_uris),
        public: form.public.is_some(),
        skip_consent: form.skip_consent.is_some(),
        id_token_alg,
    };
    match db::query(&state.pool, move |conn| Ok(clients::add(conn, &spec))).await? {
        Ok(issued) => {
            client_page(&req, &state, &admin, &issued.client_id.clone(), Some(issued), None, None).await
        }
        Err(ClientError::Invalid(message)) => {
            list_page(&req, &state, &admin, StatusCode::UNPROCESSABLE_ENTITY, form, Some(message)).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

async fn client_page(
    req: &HttpRequest,
    state: &AppState,
    admin: &RequireAdmin,
    id: &str,
    issued: Option<Credentials>,
    notice: Option<&'static str>,
    error: Option<(String, String, String)>,
) -> Result<HttpResponse, PageError> {
    let target = id.to_owned();
    let client = db::query(&state.pool, move |conn| Ok(clients::get(conn, &target))).await?;
    let client = ClientRow::from(client.map_err(ApiError::from)?);
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let (error, redirect_uris, post_logout_redirect_uris) = match error {
        Some((message, typed, typed_post)) => (Some(message), typed, typed_post),
        None => {
            (None, client.client.redirect_uris.join("\n"), client.client.post_logout_redirect_uris.join("\n"))
        }
    };
    let (layout, csrf_cookie) = layout(req, state, Some(&admin.0));
    let page =
        AdminClientPage { layout, client, issued, notice, error, redirect_uris, post_logout_redirect_uris };
    render(status, &page, csrf_cookie)
}

pub async fn admin_client_page(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    id: web::Path<String>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let notice = match done.done.as_deref() {
        Some("uris") => Some("The redirect URIs are saved."),
        _ => None,
    };
    client_page(&req, &state, &admin, &id, None, notice, None).await
}

#[derive(Deserialize)]
pub struct UrisForm {
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
}

pub async fn set_redirect_uris(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    id: web::Path<String>,
    form: web::Form<UrisForm>,
) -> Result<HttpResponse, PageError> {
    let (id, form) = (id.into_inner(), form.into_inner());
    let (redirect, post_logout) = (lines(&form.redirect_uris), lines(&form.post_logout_redirect_uris));
    let target = id.clone();
    match db::query(&state.pool, move |conn| {
        Ok(clients::set_redirect_uris(conn, &target, &redirect, &post_logout))
    })
    .await?
    {
        Ok(()) => Ok(see_other(&format!("/admin/clients/{id}?done=uris"), [])),
        Err(ClientError::Invalid(message)) => {
            let typed = Some((message, form.redirect_uris, form.post_logout_redirect_uris));
            client_page(&req, &state, &admin, &id, None, None, typed).await
        }
        Err(e) => Err(ApiError::from(e).into()),
    }
}

pub async fn rotate_secret(
    req: HttpRequest,
    state: web::Data<AppState>,
    admin: RequireAdmin,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = id.into_inner();
    let target = id.clone();
    let issued = db::query(&state.pool, move |conn| Ok(clients::rotate_secret(conn, &target)))
        .await?
        .map_err(ApiError::from)?;
    client_page(&req, &state, &admin, &id, Some(issued), None, None).await
}

#[derive(Deserialize)]
pub struct RemoveForm {
    /// The "yes, remove this app" box: without it nothing happens.
    confirm: Option<String>,
}

pub async fn remove_client(
    state: web::Data<AppState>,
    _admin: RequireAdmin,
    id: web::Path<String>,
    form: web::Form<RemoveForm>,
) -> Result<HttpResponse, PageError> {
    if form.confirm.as_deref() != Some("yes") {
        return Err(PageError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Not removed",
            "Tick the box to confirm that this app should be removed, then press Remove again.",
        ));
    }
    let id = id.into_inner();
    db::query(&state.pool, move |conn| Ok(clients::remove(conn, &id))).await?.map_err(ApiError::from)?;
    Ok(see_other("/admin/clients", []))
}
