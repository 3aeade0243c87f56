//! `POST /v1/tickets`: a single-use, 30-second ticket to join the world with one of the caller's
//! characters. The WebSocket's `join` carries the ticket, so no session token travels in a URL.

use super::auth::Authed;
use super::{rate_limit, AppState, Body};
use crate::error::ApiFailure;
use axum::extract::{ConnectInfo, State};
use axum::Json;
use realmkeep_cache::{keys::TICKET_TTL, RateAction, TicketGrant};
use realmkeep_domain::CharacterId;
use realmkeep_protocol::http::{TicketIssued, TicketRequest};
use realmkeep_protocol::Reason;
use std::net::SocketAddr;

pub(crate) async fn issue(
    State(app): State<AppState>,
    peer: ConnectInfo<SocketAddr>,
    who: Authed,
    Body(t): Body<TicketRequest>,
) -> Result<Json<TicketIssued>, ApiFailure> {
    rate_limit(&app, peer, RateAction::Ticket).await?;
    let mine = app.store().list_characters(who.account).await?;
    if !mine.iter().any(|c| c.id == t.character) {
        return Err(ApiFailure::new(
            Reason::NoSuchCharacter,
            "no such character on this account",
        ));
    }
    let grant = TicketGrant {
        account: who.account,
        character: CharacterId(t.character),
        session: who.claims.session,
        issued_unix_s: who.issued_unix_s(),
    };
    let ticket = app.cache().tickets().issue(grant).await.map_err(|e| {
        tracing::warn!(error = %e, "ticket not issued");
        ApiFailure::try_again()
    })?;
    Ok(Json(TicketIssued {
        ticket: ticket.as_str().to_string(),
        expires_in_secs: TICKET_TTL.as_secs(),
    }))
}
