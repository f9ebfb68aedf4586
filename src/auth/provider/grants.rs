//! What happens to a checked authorization request (SPEC §11): sign in first, sign in again
//! (`prompt=login`, an exceeded `max_age`), ask for consent, or hand the app a code; and the
//! grants a person controls from the account page.

use super::authorize::{Answer, AuthRequest};
use super::scope::Scopes;
use crate::auth::client::ClientInfo;
use crate::auth::events::{self, EventKind};
use crate::auth::identity::Identity;
use crate::auth::notice::{self, Mailer};
use crate::auth::tokens::{random_id, stored_hash};
use crate::db::oauth::{self, CodeRow, GrantRow};
use crate::db::{self, Pool, StoreError, sessions, users};
use crate::mail::compose;

/// How long a code lives (SPEC §11).
pub const CODE_TTL_SECS: i64 = 60;

/// The next step of an authorization.
#[derive(Debug)]
pub enum Step {
    /// Nobody is signed in (`fresh: false`), or the sign-in is too old for the request.
    SignIn { fresh: bool },
    /// The person has not yet let this app have these scopes.
    Consent,
    /// Back to the app, with a code or an error.
    Answer(Answer),
}

/// The sign-in an authorization is made from.
struct SignedIn {
    auth_time: i64,
    amr: String,
}

/// Decides the next step for `request` and the signed-in person, if any; issues the code when
/// nothing is left to ask.
pub async fn decide(
    pool: &Pool,
    mailer: Mailer<'_>,
    request: &AuthRequest,
    identity: Option<&Identity>,
    client: &ClientInfo,
) -> Result<Step, StoreError> {
    let Some(identity) = identity else {
        return Ok(if request.prompt.none {
            Step::Answer(request.error_answer("login_required", "Nobody is signed in."))
        } else {
            Step::SignIn { fresh: false }
        });
    };
    let Some(signed) = signed_in(pool, identity).await? else {
        return Ok(Step::SignIn { fresh: false });
    };
    let now = db::now();
    let satisfied = request.signed_in_after.is_some_and(|after| signed.auth_time >= after);
    let too_old = request.max_age.is_some_and(|max| now - signed.auth_time > max);
    if (request.prompt.login || too_old) && !satisfied {
        return Ok(if request.prompt.none {
            Step::Answer(request.error_answer("login_required", "The sign-in is older than max_age."))
        } else {
            Step::SignIn { fresh: true }
        });
    }
    if needs_consent(pool, request, identity).await? {
        return Ok(if request.prompt.none {
            Step::Answer(request.error_answer("consent_required", "The app needs your consent."))
        } else {
            Step::Consent
        });
    }
    let answer = issue_code(pool, mailer, request, identity, client, false).await?;
    Ok(Step::Answer(answer))
}

async fn signed_in(pool: &Pool, identity: &Identity) -> Result<Option<SignedIn>, StoreError> {
    let sid = identity.session_id.clone();
    let found = db::query(pool, move |conn| sessions::find_session(conn, &sid)).await?;
    Ok(found.map(|(session, _)| SignedIn { auth_time: session.created_at, amr: session.amr }))
}

async fn needs_consent(pool: &Pool, request: &AuthRequest, identity: &Identity) -> Result<bool, StoreError> {
    if request.client.skip_consent {
        return Ok(false);
    }
    if request.prompt.consent {
        return Ok(true);
    }
    let (uid, cid) = (identity.user_id.to_string(), request.client.id.clone());
    let grant = db::query(pool, move |conn| oauth::live_grant(conn, &uid, &cid)).await?;
    Ok(!grant.is_some_and(|g| Scopes::stored(&g.scope).covers(request.scopes)))
}

/// Records the person's consent (widening a live grant, or a new one) and issues a code, in
/// one transaction. `consented`: the person just said "allow" on the consent page.
pub async fn issue_code(
    pool: &Pool,
    mailer: Mailer<'_>,
    request: &AuthRequest,
    identity: &Identity,
    client: &ClientInfo,
    consented: bool,
) -> Result<Answer, StoreError> {
    let Some(signed) = signed_in(pool, identity).await? else {
        return Ok(request.error_answer("login_required", "The session has ended."));
    };
    let now = db::now();
    let code = random_code();
    let (uid, req, hash) = (identity.user_id.to_string(), request.clone(), stored_hash(&code));
    let sid = identity.session_id.to_string();
    let new_grant = db::query(pool, move |conn| {
        db::write_transaction(conn, |conn| {
            let Some(version) = users::live_credential_version(conn, &uid.clone().into())? else {
                return Ok(None);
            };
            let (grant_id, new) = match oauth::live_grant(conn, &uid, &req.client.id)? {
                Some(grant) => {
                    let scopes = Scopes::stored(&grant.scope).union(req.scopes);
                    oauth::set_grant_scope(conn, &grant.id, &scopes.to_param())?;
                    (grant.id, false)
                }
                None => {
                    let grant = GrantRow {
                        id: random_id(),
                        user_id: uid.clone(),
                        client_id: req.client.id.clone(),
                        scope: req.scopes.to_param(),
                        credential_version: version,
                        created_at: now,
                        last_used_at: now,
                        revoked_at: None,
                    };
                    oauth::insert_grant(conn, &grant)?;
                    (grant.id, true)
                }
            };
            let row = CodeRow {
                code_hash: hash,
                grant_id,
                redirect_uri: req.redirect_uri.clone(),
                scope: req.scopes.to_param(),
                code_challenge: req.challenge.clone(),
                nonce: req.nonce.clone(),
                auth_time: signed.auth_time,
                amr: signed.amr,
                session_id: sid,
                created_at: now,
                expires_at: now + CODE_TTL_SECS,
                used_at: None,
                token_id: None,
            };
            oauth::insert_code(conn, &row)?;
            Ok(Some(new))
        })
    })
    .await?;
    match new_grant {
        None => Ok(request.error_answer("access_denied", "The account is disabled.")),
        Some(new) => {
            if new {
                let detail = format!("app {}", request.client.name);
                let user = &identity.user_id;
                events::record_detailed(pool, user, EventKind::AppAuthorized, detail, client).await;
                if consented {
                    let mail = compose::app_authorized(mailer.mail, &identity.email, &request.client.name);
                    notice::notify(mailer.pool, mailer.mail, mail).await;
                }
            }
            Ok(request.code_answer(code))
        }
    }
}

/// 256 random bits, base64url.
fn random_code() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// One of the person's "Apps with access".
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct AppAccess {
    /// The grant's id (revoke it with this).
    pub id: String,
    pub client_id: String,
    /// The app's name, as registered.
    pub name: String,
    /// The scopes the person let it have.
    pub scopes: Vec<&'static str>,
    /// Unix seconds.
    pub since: i64,
    /// Unix seconds: the last code or refresh.
    pub last_used: i64,
}

/// The apps that can sign the person in now, most recently used first.
pub async fn apps_with_access(pool: &Pool, identity: &Identity) -> Result<Vec<AppAccess>, StoreError> {
    let uid = identity.user_id.to_string();
    let grants = db::query_read(pool, move |conn| oauth::grants_of(conn, &uid)).await?;
    Ok(grants
        .into_iter()
        .map(|(grant, name)| AppAccess {
            scopes: Scopes::stored(&grant.scope).names().collect(),
            id: grant.id,
            client_id: grant.client_id,
            name,
            since: grant.created_at,
            last_used: grant.last_used_at,
        })
        .collect())
}

/// Revokes one of the person's grants: every token it issued stops working at once. False
/// when it is not theirs or already ended.
pub async fn revoke(
    pool: &Pool,
    identity: &Identity,
    grant_id: &str,
    client: &ClientInfo,
) -> Result<bool, StoreError> {
    let (uid, gid) = (identity.user_id.to_string(), grant_id.to_owned());
    let names = db::query(pool, move |conn| {
        let name = oauth::grants_of(conn, &uid)?.into_iter().find(|(g, _)| g.id == gid).map(|(_, n)| n);
        Ok(if oauth::revoke_grant(conn, &uid, &gid, db::now())? { name } else { None })
    })
    .await?;
    match names {
        Some(name) => {
            let detail = format!("app {name}");
            events::record_detailed(pool, &identity.user_id, EventKind::AppRevoked, detail, client).await;
            Ok(true)
        }
        None => Ok(false),
    }
}
