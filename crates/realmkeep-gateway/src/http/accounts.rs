//! `POST /v1/accounts` (register) and `PUT /v1/accounts/password`.

use super::auth::Authed;
use super::{rate_limit, AppState, Body};
use crate::error::ApiFailure;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::Json;
use realmkeep_cache::RateAction;
use realmkeep_domain::{AccountName, Password};
use realmkeep_protocol::http::{AccountCreated, PasswordChange, Registration};
use realmkeep_protocol::{CloseCode, Reason};
use std::net::SocketAddr;

/// A password the rules accept for `name`: the domain's length, and not the name itself.
fn password_for(name: &str, raw: &str) -> Result<Password, ApiFailure> {
    let weak = |m: String| ApiFailure::new(Reason::WeakPassword, m);
    let p = Password::parse(raw).map_err(|e| weak(e.to_string()))?;
    if raw.trim().eq_ignore_ascii_case(name.trim()) {
        return Err(weak("the password must not be the account name".into()));
    }
    Ok(p)
}

pub(crate) async fn register(
    State(app): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    Body(r): Body<Registration>,
) -> Result<(StatusCode, Json<AccountCreated>), ApiFailure> {
    let name =
        AccountName::parse(&r.name).map_err(|e| ApiFailure::new(Reason::BadName, e.to_string()))?;
    let password = password_for(name.as_str(), &r.password)?;
    rate_limit(&app, peer, RateAction::Register).await?;
    let account = app
        .store()
        .create_account(&name, &r.email, &password)
        .await?;
    tracing::info!(%account, "account registered");
    Ok((
        StatusCode::CREATED,
        Json(AccountCreated { account: account.0 }),
    ))
}

/// Changes the password (the old one must be right) and revokes every session of the account,
/// this one included: the client logs in again. A live WebSocket is closed (4005).
pub(crate) async fn change_password(
    State(app): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    who: Authed,
    Body(c): Body<PasswordChange>,
) -> Result<StatusCode, ApiFailure> {
    rate_limit(&app, peer, RateAction::Login).await?;
    let name = app.store().account_name(who.account).await?;
    let old = Password::parse(&c.old_password)
        .map_err(|_| ApiFailure::new(Reason::BadCredentials, "wrong password"))?;
    let new = password_for(&name, &c.new_password)?;
    app.store().change_password(who.account, &old, &new).await?;
    if let Err(e) = app.cache().sessions().revoke_account(who.account).await {
        tracing::warn!(account = %who.account, error = %e, "sessions revoked on this node only until Redis returns");
    }
    app.close_live(who.account, None, CloseCode::SessionRevoked);
    Ok(StatusCode::NO_CONTENT)
}
