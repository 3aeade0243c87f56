//! Sending a player to the node that runs a zone: its gateway's address from
//! `zone:{id}:gateway`, and a fresh single-use ticket for the same session and character
//! (tickets live in the shared Redis, so any node's gateway redeems it).

use crate::state::App;
use realmkeep_cache::TicketGrant;
use realmkeep_domain::ZoneId;

/// Where to go, with what: the gateway's URL and a ticket.
pub(crate) struct Redirect {
    pub url: String,
    pub ticket: String,
    pub zone: ZoneId,
}

pub(crate) async fn to_zone(app: &App, grant: TicketGrant, zone: ZoneId) -> Option<Redirect> {
    let cache = app.cache();
    let url = match cache.gateways().lookup(zone).await {
        Ok(Some(url)) => url,
        Ok(None) => {
            tracing::warn!(%zone, "no gateway serves the zone: the player cannot be sent there");
            return None;
        }
        Err(e) => {
            tracing::warn!(%zone, error = %e, "zone gateways unknown: Redis does not answer");
            return None;
        }
    };
    let ticket = cache.tickets().issue(grant).await.ok()?;
    Some(Redirect {
        url,
        ticket: ticket.as_str().to_string(),
        zone,
    })
}
