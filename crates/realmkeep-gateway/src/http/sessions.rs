//! `POST /v1/sessions` (login), `POST /v1/sessions/refresh`, `DELETE /v1/sessions` (logout).

use super::auth::Authed;
use super::{rate_limit, AppState, Body};
use crate::error::ApiFailure;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use realmkeep_cache::token::SESSION_TOKEN_LIFETIME;
use realmkeep_cache::{IssuedSession, RateAction};
use realmkeep_domain::{AccountId, Password};
use realmkeep_protocol::http::{Credentials, SessionIssued};
use realmkeep_protocol::{CloseCode, Reason};
use realmkeep_store::StoreError;
use std::net::SocketAddr;

fn issued(account: AccountId, s: IssuedSession) -> Json<SessionIssued> {
    Json(SessionIssued {
        account: account.0,
        token: s.token.as_str().to_string(),
        expires_in_secs: SESSION_TOKEN_LIFETIME.as_secs(),
        session_ends_unix_s: s.claims.ends_unix_s(),
    })
}

/// Checks the password (Argon2id, bounded in flight), bans on the account and the address, and
/// the account's backoff after failed logins; then a new session.
pub(crate) async fn login(
    State(app): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    Body(c): Body<Credentials>,
) -> Result<Json<SessionIssued>, ApiFailure> {
    rate_limit(&app, peer, RateAction::Login).await?;
    let bad = || ApiFailure::new(Reason::BadCredentials, "wrong name or password");
    let password = Password::parse(&c.password).map_err(|_| bad())?;
    let backoff = app.cache().login_backoff();
    let known = app.store().account_id_by_name(&c.name).await?;
    if let Some(account) = known {
        let wait = backoff.wait(account).await;
        if !wait.is_zero() {
            return Err(ApiFailure::new(
                Reason::LoginBackoff,
                "too many failed logins for this account: wait before trying again",
            )
            .retry_after(wait));
        }
    }
    match app
        .store()
        .login(&c.name, &password, Some(peer.0.ip()))
        .await
    {
        Ok(ok) => {
            backoff.succeeded(ok.account).await;
            let s = app.cache().sessions().issue(ok.account).await;
            tracing::info!(account = %ok.account, session = %s.claims.session, "logged in");
            Ok(issued(ok.account, s))
        }
        Err(StoreError::Refused(realmkeep_domain::records::Refusal::BadCredentials)) => {
            if let Some(account) = known {
                backoff.failed(account).await;
            }
            Err(bad())
        }
        Err(e) => Err(e.into()),
    }
}

/// A fresh token for the same session; the old token stops working. The session still ends
/// at its absolute lifetime.
pub(crate) async fn refresh(
    State(app): State<AppState>,
    who: Authed,
) -> Result<Json<SessionIssued>, ApiFailure> {
    match app.cache().sessions().renew(&who.token).await {
        Ok(s) => Ok(issued(who.account, s)),
        Err(_) => Err(ApiFailure::unauthorized()),
    }
}

/// Ends this session: its token is revoked, and its WebSocket (if any) closed (4005): at once
/// on this node, by its node's sweep on another (`session_ended:{session}`). The character
/// stays for the disconnect grace like any dropped connection.
pub(crate) async fn logout(State(app): State<AppState>, who: Authed) -> StatusCode {
    app.cache().sessions().end(&who.token).await;
    app.close_live(
        who.account,
        Some(who.claims.session),
        CloseCode::SessionRevoked,
    );
    StatusCode::NO_CONTENT
}
