//! The token endpoint's app grants (SPEC §11): `authorization_code` (single use, 60 s, PKCE,
//! reuse revokes what the first use issued), `refresh_token` (rotation with reuse detection as
//! for sessions, bound to its client, only with `offline_access`) and `client_credentials`.

use super::pkce;
use super::scope::Scopes;
pub use super::tokens::ExchangeError;
use super::tokens::{self, TokenSet};
use crate::auth::session::sign_in::Sessions;
use crate::auth::tokens::{random_id, stored_hash};
use crate::db::clients::ClientRow;
use crate::db::oauth::{self, TokenRow};
use crate::db::{self, StoreError};

fn invalid_grant(why: impl Into<String>) -> ExchangeError {
    ExchangeError::Refused("invalid_grant", why.into())
}

/// The parameters of an `authorization_code` request.
pub struct CodeRequest<'a> {
    pub code: &'a str,
    pub redirect_uri: Option<&'a str>,
    pub code_verifier: Option<&'a str>,
}

/// Redeems a code for `client`.
pub async fn redeem_code(
    s: &Sessions,
    client: &ClientRow,
    request: CodeRequest<'_>,
) -> Result<TokenSet, ExchangeError> {
    let now = db::now();
    let hash = stored_hash(request.code);
    let lookup = hash.clone();
    let found = db::query(&s.pool, move |conn| oauth::find_code(conn, &lookup)).await?;
    let Some(found) = found else { return Err(invalid_grant("The code is not valid.")) };
    if found.code.used_at.is_some() {
        revoke_what_it_issued(s, found.code.token_id.as_deref()).await?;
        return Err(invalid_grant("The code was already used; what it issued is revoked."));
    }
    if found.grant.client_id != client.id {
        return Err(invalid_grant("The code was issued to another client."));
    }
    if found.code.expires_at <= now || !found.grant_live {
        return Err(invalid_grant("The code has expired."));
    }
    if request.redirect_uri != Some(found.code.redirect_uri.as_str()) {
        return Err(invalid_grant("redirect_uri differs from the authorization request's."));
    }
    pkce::check(found.code.code_challenge.as_deref(), request.code_verifier)
        .map_err(|e| invalid_grant(e.to_string()))?;
    let scopes = Scopes::stored(&found.code.scope);
    let jti = scopes.has("offline_access").then(random_id);
    let row = TokenRow {
        id: random_id(),
        grant_id: found.grant.id.clone(),
        scope: found.code.scope.clone(),
        auth_time: found.code.auth_time,
        amr: found.code.amr.clone(),
        refresh_jti_hash: jti.as_deref().map(stored_hash),
        previous_jti_hash: None,
        rotated_at: None,
        created_at: now,
        last_used_at: now,
        expires_at: now + s.lifetimes.absolute_secs(true),
        revoked_at: None,
    };
    let (stored, grant_id) = (row.clone(), found.grant.id.clone());
    let first = db::query(&s.pool, move |conn| {
        db::write_transaction(conn, |conn| {
            if !oauth::use_code(conn, &hash, now)? {
                return Ok(false);
            }
            oauth::insert_token(conn, &stored)?;
            oauth::set_code_token(conn, &hash, &stored.id)?;
            oauth::touch_grant(conn, &grant_id, now)?;
            Ok(true)
        })
    })
    .await?;
    if !first {
        // Another request redeemed it a moment ago: this one is the second use.
        let lookup = stored_hash(request.code);
        let again = db::query(&s.pool, move |conn| oauth::find_code(conn, &lookup)).await?;
        revoke_what_it_issued(s, again.as_ref().and_then(|f| f.code.token_id.as_deref())).await?;
        return Err(invalid_grant("The code was already used; what it issued is revoked."));
    }
    let issued = tokens::Issue {
        client,
        user_id: &found.grant.user_id,
        token: &row,
        nonce: found.code.nonce.as_deref(),
        session_id: Some(found.code.session_id.as_str()),
        refresh_jti: jti.as_deref(),
        now,
    };
    tokens::issue(s, issued).await
}

async fn revoke_what_it_issued(s: &Sessions, token_id: Option<&str>) -> Result<(), StoreError> {
    if let Some(id) = token_id.map(str::to_owned)
        && db::query(&s.pool, move |conn| oauth::revoke_token(conn, &id, db::now())).await?
    {
        log::warn!("authorization code reuse: what its first use issued is revoked");
        s.metrics.refresh_reused();
    }
    Ok(())
}

/// Rotates an app's refresh token (`{token id}.{jti}`).
pub async fn refresh(
    s: &Sessions,
    client: &ClientRow,
    refresh_token: &str,
    scope: Option<&str>,
) -> Result<TokenSet, ExchangeError> {
    let now = db::now();
    let Some((id, jti)) = refresh_token.split_once('.') else {
        return Err(invalid_grant("The refresh token is not valid."));
    };
    let lookup = id.to_owned();
    let found = db::query(&s.pool, move |conn| oauth::live_token(conn, &lookup)).await?;
    let Some((mut row, grant)) = found.filter(|(row, _)| row.expires_at > now) else {
        return Err(invalid_grant("The refresh token is not valid."));
    };
    if grant.client_id != client.id {
        return Err(invalid_grant("The refresh token was issued to another client."));
    }
    if let Some(asked) = scope {
        match Scopes::parse(asked) {
            Ok(asked) if Scopes::stored(&row.scope).covers(asked) => {}
            _ => return Err(ExchangeError::Refused("invalid_scope", "More scope than was granted.".into())),
        }
    }
    let (presented, successor) = (stored_hash(jti), s.keys.successor_jti(jti));
    let successor_hash = stored_hash(&successor);
    if row.refresh_jti_hash.as_deref() == Some(presented.as_str()) {
        let (tid, p, n, gid) = (row.id.clone(), presented.clone(), successor_hash.clone(), grant.id.clone());
        let rotated = db::query(&s.pool, move |conn| {
            let rotated = oauth::rotate_token_refresh(conn, &tid, &p, &n, now)?;
            if rotated {
                oauth::touch_grant(conn, &gid, now)?;
            }
            Ok(rotated)
        })
        .await?;
        if rotated {
            row.previous_jti_hash = Some(presented);
            row.refresh_jti_hash = Some(successor_hash);
            row.rotated_at = Some(now);
            s.metrics.refreshed();
            return reissue(s, client, &grant.user_id, &row, &successor, now).await;
        }
        let lookup = row.id.clone();
        match db::query(&s.pool, move |conn| oauth::live_token(conn, &lookup)).await? {
            Some((again, _)) => row = again,
            None => return Err(invalid_grant("The refresh token is not valid.")),
        }
    }
    let within_grace = row.rotated_at.is_some_and(|t| now <= t + s.lifetimes.grace_secs());
    if row.previous_jti_hash.as_deref() == Some(presented.as_str())
        && row.refresh_jti_hash.as_deref() == Some(successor_hash.as_str())
        && within_grace
    {
        let issued_at = row.rotated_at.unwrap_or(now);
        return reissue(s, client, &grant.user_id, &row, &successor, issued_at).await;
    }
    s.metrics.refresh_reused();
    let id = row.id.clone();
    db::query(&s.pool, move |conn| oauth::revoke_token(conn, &id, db::now())).await?;
    log::warn!("app refresh token reuse detected: its chain is revoked");
    Err(invalid_grant("The refresh token was already used; it is revoked."))
}

async fn reissue(
    s: &Sessions,
    client: &ClientRow,
    user_id: &str,
    row: &TokenRow,
    jti: &str,
    now: i64,
) -> Result<TokenSet, ExchangeError> {
    let issued = tokens::Issue {
        client,
        user_id,
        token: row,
        nonce: None,
        session_id: None,
        refresh_jti: Some(jti),
        now,
    };
    tokens::issue(s, issued).await
}

/// `client_credentials`: a confidential client acting for itself; its token names no user.
pub async fn client_credentials(
    s: &Sessions,
    client: &ClientRow,
    scope: Option<&str>,
) -> Result<TokenSet, ExchangeError> {
    if client.secret_hash.is_none() {
        return Err(ExchangeError::Refused(
            "unauthorized_client",
            "A public client cannot use client_credentials.".into(),
        ));
    }
    if scope.is_some_and(|s| !s.trim().is_empty()) {
        return Err(ExchangeError::Refused(
            "invalid_scope",
            "client_credentials tokens carry no user scopes.".into(),
        ));
    }
    tokens::for_client(s, client, db::now())
}
