//! The caller's session, from `Authorization: Bearer <token>` only (never a URL or a cookie).

use super::AppState;
use crate::error::ApiFailure;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use realmkeep_cache::{issued_at, SessionCheck, SessionClaims};
use realmkeep_domain::AccountId;

/// A live session: its account, its claims and the token it was shown with.
pub(crate) struct Authed {
    pub account: AccountId,
    pub claims: SessionClaims,
    pub token: String,
}

impl Authed {
    pub fn issued_unix_s(&self) -> i64 {
        issued_at(&self.claims)
    }
}

pub(crate) fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(axum::http::header::AUTHORIZATION)?;
    let v = v.to_str().ok()?;
    v.strip_prefix("Bearer ")
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = ApiFailure;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiFailure> {
        let token = bearer(parts).ok_or_else(ApiFailure::unauthorized)?;
        let sessions = app.cache().sessions();
        match sessions.validate(token).await {
            SessionCheck::Valid { account, .. } => {
                let claims = sessions
                    .claims(token)
                    .ok_or_else(ApiFailure::unauthorized)?;
                Ok(Authed {
                    account,
                    claims,
                    token: token.to_string(),
                })
            }
            SessionCheck::Invalid(why) => {
                tracing::debug!(%why, "session refused");
                Err(ApiFailure::unauthorized())
            }
        }
    }
}
