//! A zone change, followed by the connection. On this node: the first zone saves and releases
//! the character (`Left` with `transfer_to`), the next one claims and spawns it on the same
//! notice channel (`Joined`), and the client gets a new `welcome` for the new zone without
//! reconnecting. To a zone of another node: the character is saved and released here (at the
//! next zone's entry), the client gets a `redirect` (that node's gateway and a ticket) and the
//! connection closes (4007); the other node claims it with the next epoch. If neither works the
//! character is saved and offline: the connection closes (4006).

use super::conn::{Conn, End};
use super::join::Joined;
use super::me::welcome;
use realmkeep_domain::ZoneId;
use realmkeep_protocol::ws::{Answer, ServerMsg};

/// When to send again a command cut off by a zone change: the next zone's spawn.
const TRANSFER_RETRY_MS: u64 = 500;
use realmkeep_protocol::CloseCode;
use realmkeep_server::Notice;
use realmkeep_zone::io::{LeftReason, PlayerEvent};

/// Whether the notice is a step of a zone change.
pub(super) fn concerns(n: &Notice, transferring: Option<ZoneId>) -> bool {
    match n {
        Notice::Left(LeftReason::Released {
            transfer_to: Some(_),
        }) => true,
        Notice::Event(PlayerEvent::Joined { .. }) | Notice::TransferFailed { .. } => {
            transferring.is_some()
        }
        _ => false,
    }
}

pub(super) async fn follow(
    conn: &mut Conn,
    j: &mut Joined,
    n: Notice,
    transferring: &mut Option<ZoneId>,
    me: &mut Option<super::me::Place>,
) -> Result<(), End> {
    match n {
        Notice::Left(LeftReason::Released {
            transfer_to: Some(to),
        }) => {
            *transferring = Some(to);
            // Commands the first zone did not answer never will be: nothing came of them.
            for id in std::mem::take(&mut conn.awaiting).into_keys() {
                conn.answer(
                    id,
                    Answer::TryAgain {
                        retry_after_ms: Some(TRANSFER_RETRY_MS),
                    },
                )?;
            }
            Ok(())
        }
        Notice::Event(PlayerEvent::Joined {
            zone, net_id, x, y, ..
        }) => {
            let Some(host) = conn.app.cluster.zone(zone).cloned() else {
                return Err(End::Close(CloseCode::Left));
            };
            *transferring = None;
            j.host = host;
            j.zone = zone;
            *me = Some(super::me::Place::standing(net_id.0, x, y));
            if let Err(e) = j.host.watch(j.grant.character).await {
                tracing::warn!(character = %j.grant.character, error = %e, "views not started after a zone change");
            }
            match welcome(j).await {
                Some(w) => conn.send(ServerMsg::Welcome(Box::new(w))),
                None => Err(End::Close(CloseCode::Left)),
            }
        }
        Notice::TransferFailed { to, .. } if conn.app.cluster.zone(to).is_none() => {
            *transferring = None;
            let Some(r) = super::redirect::to_zone(&conn.app, j.grant, to).await else {
                return Err(End::Close(CloseCode::Left));
            };
            tracing::info!(character = %j.grant.character, zone = %to, url = %r.url, "sent to another node");
            conn.send(ServerMsg::Redirect {
                url: r.url,
                ticket: r.ticket,
                zone: r.zone.0,
            })?;
            Err(End::Close(CloseCode::Redirected))
        }
        _ => Err(End::Close(CloseCode::Left)),
    }
}
