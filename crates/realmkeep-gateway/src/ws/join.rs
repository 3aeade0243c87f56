//! `join`: from a ticket to a character in the world. The ticket (taken once) names the
//! account, the session and the character; nothing else the client sends is used. One live
//! connection per account: a newer one closes the older (4001) and waits for it to let go of
//! its character. A character this gateway still holds within the disconnect grace is resumed
//! (same entity, same claim); any other is claimed and loaded by its zone's host.

use crate::limits::TAKEOVER_WAIT;
use crate::state::{lock, App, ConnControl, InWorld, Live, Profile, PubsubCmd};
use realmkeep_cache::{InboxId, RateAction, RateDecision, TicketGrant};
use realmkeep_domain::ZoneId;
use realmkeep_protocol::{CloseCode, Reason};
use realmkeep_server::{HostError, Notice, NoticeReceiver, ZoneHost};
use realmkeep_store::StoreError;
use realmkeep_zone::io::PlayerEvent;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// Longest wait for the zone to spawn a joining character (its next tick, usually).
const SPAWN_WAIT: Duration = Duration::from_secs(10);

/// A refusal of the join: the reason, a detail, and a retry hint.
pub(crate) struct JoinRefused {
    pub reason: Reason,
    pub detail: String,
    pub retry_after: Option<Duration>,
    /// The character's zone runs on another node: go there.
    pub redirect: Option<super::redirect::Redirect>,
}

fn refused(reason: Reason, detail: impl Into<String>) -> JoinRefused {
    JoinRefused {
        reason,
        detail: detail.into(),
        retry_after: None,
        redirect: None,
    }
}

/// A joined connection's binding: everything it acts on, from the server's side.
pub(crate) struct Joined {
    pub grant: TicketGrant,
    pub host: ZoneHost,
    pub zone: ZoneId,
    pub notices: NoticeReceiver,
    /// The connection's control queue, as a stream that stays registered with the channel
    /// between waits (see `realmkeep_server::NoticeReceiver`).
    pub control: flume::r#async::RecvStream<'static, ConnControl>,
    /// Chat lines and announcements for it (`broadcast.rs`).
    pub held: Arc<crate::broadcast::HeldLines>,
    /// Fired when the connection let go of the character (a newer connection may resume it).
    pub released: oneshot::Sender<()>,
    pub in_world: InWorld,
    pub resumed: bool,
}

fn host_refusal(e: HostError) -> JoinRefused {
    match e {
        HostError::ClaimHeld => JoinRefused {
            reason: Reason::CharacterOnline,
            detail: "the character is held elsewhere (in play, or its last zone's lease has not run out yet)".into(),
            retry_after: Some(Duration::from_secs(5)),
            redirect: None,
        },
        HostError::ShuttingDown => refused(Reason::ShuttingDown, "the server is stopping"),
        HostError::Busy | HostError::Unavailable => JoinRefused {
            reason: Reason::TryAgain,
            detail: e.to_string(),
            retry_after: Some(Duration::from_secs(1)),
            redirect: None,
        },
        HostError::Store(StoreError::Refused(realmkeep_domain::records::Refusal::Banned)) => {
            refused(Reason::Banned, "the account is banned")
        }
        HostError::NotFound | HostError::Store(StoreError::Refused(_)) => {
            refused(Reason::NoSuchCharacter, "no such character")
        }
        HostError::AlreadyHere => refused(Reason::CharacterOnline, "the character is already in the world"),
        other => {
            tracing::warn!(error = %other, "join failed");
            JoinRefused {
                reason: Reason::TryAgain,
                detail: "the join failed; nothing changed".into(),
                retry_after: Some(Duration::from_secs(1)),
                redirect: None,
            }
        }
    }
}

/// Closes the account's live connection, if any, and waits (bounded) until it let go.
async fn take_over(app: &App, grant: &TicketGrant) {
    let released = {
        let mut live = lock(&app.live);
        match live.get_mut(&grant.account) {
            Some(old) => {
                let _ = old
                    .control
                    .try_send(ConnControl::Close(CloseCode::LoggedInElsewhere));
                old.released.take()
            }
            None => None,
        }
    };
    if let Some(rx) = released {
        let _ = tokio::time::timeout(TAKEOVER_WAIT, rx).await;
    }
}

pub(crate) async fn join(
    app: &Arc<App>,
    conn: u64,
    ip: IpAddr,
    ticket: &str,
) -> Result<Joined, JoinRefused> {
    if let RateDecision::Limited { retry_after, .. } = app
        .cache()
        .rate_limits()
        .check(ip, RateAction::WsJoin)
        .await
    {
        return Err(JoinRefused {
            reason: Reason::RateLimited,
            detail: "too many joins from this address".into(),
            retry_after: Some(retry_after),
            redirect: None,
        });
    }
    // PostgreSQL believed away (down, or a lost network holding the node's calls): "try again"
    // before the ticket is used, and before the ban and character reads would wait on it.
    if !app.cluster.postgres_up() {
        return Err(host_refusal(HostError::Unavailable));
    }
    let grant = match app.cache().tickets().redeem(ticket).await {
        Ok(Some(g)) => g,
        Ok(None) => {
            return Err(refused(
                Reason::BadTicket,
                "unknown, expired or used ticket",
            ))
        }
        Err(_) => {
            return Err(JoinRefused {
                reason: Reason::TryAgain,
                detail: "tickets cannot be checked right now".into(),
                retry_after: Some(Duration::from_secs(1)),
                redirect: None,
            })
        }
    };
    let sessions = app.cache().sessions();
    if sessions.session_revoked(grant.held_session()).await {
        return Err(refused(Reason::Unauthorized, "the session was revoked"));
    }
    match app.store().active_ban(Some(grant.account), Some(ip)).await {
        Ok(Some(_)) => return Err(refused(Reason::Banned, "the account or address is banned")),
        Ok(None) => {}
        Err(e) => return Err(host_refusal(HostError::from_store(e))),
    }
    take_over(app, &grant).await;
    let (control_tx, control) = crate::state::App::control_channel();
    let (released, released_rx) = oneshot::channel();
    let held = Arc::new(crate::broadcast::HeldLines::default());
    {
        let mut live = lock(&app.live);
        live.insert(
            grant.account,
            Live {
                conn,
                session: grant.session,
                issued_unix_s: grant.issued_unix_s,
                character: grant.character,
                kingdom: None,
                guild: None,
                control: control_tx,
                held: held.clone(),
                released: Some(released_rx),
            },
        );
    }
    let r = enter(app, &grant).await;
    match r {
        Ok((host, notices, in_world, resumed)) => {
            let _ = app.pubsub.try_send(PubsubCmd::Subscribe(grant.character));
            let l = &in_world.profile;
            app.set_channels(grant.account, conn, l.kingdom, l.guild);
            Ok(Joined {
                zone: host.zone(),
                grant,
                host,
                notices,
                control: control.into_stream(),
                held,
                released,
                in_world,
                resumed,
            })
        }
        Err(e) => {
            let mut live = lock(&app.live);
            if live.get(&grant.account).is_some_and(|l| l.conn == conn) {
                live.remove(&grant.account);
            }
            Err(e)
        }
    }
}

type Entered = (ZoneHost, NoticeReceiver, InWorld, bool);

async fn enter(app: &Arc<App>, grant: &TicketGrant) -> Result<Entered, JoinRefused> {
    let c = grant.character;
    if let Some(host) = app.cluster.holding(c) {
        let known = lock(&app.in_world).get(&c).cloned();
        let Some(known) = known.filter(|k| k.account == grant.account) else {
            return Err(refused(
                Reason::CharacterOnline,
                "the character is in the world",
            ));
        };
        let notices = host.resume(c).await.map_err(host_refusal)?;
        return Ok((host.clone(), notices, known, true));
    }
    let rows = app
        .store()
        .list_characters(grant.account)
        .await
        .map_err(|e| host_refusal(HostError::from_store(e)))?;
    let Some(row) = rows.into_iter().find(|r| r.id == c.0) else {
        return Err(refused(
            Reason::NoSuchCharacter,
            "no such character on this account",
        ));
    };
    let Some(host) = app.cluster.zone(ZoneId(row.zone_id)) else {
        let mut r = refused(
            Reason::ZoneElsewhere,
            format!("zone {} is served by another node", row.zone_id),
        );
        r.redirect = super::redirect::to_zone(app, *grant, ZoneId(row.zone_id)).await;
        return Err(r);
    };
    let mut receipt = host.join(c).await.map_err(host_refusal)?;
    // The spawn happens at the zone's next tick: wait for it, so the welcome shows the world.
    let spawned = tokio::time::timeout(SPAWN_WAIT, async {
        while let Some(n) = receipt.notices.recv().await {
            match n {
                Notice::Event(PlayerEvent::Joined { .. }) => return Ok(()),
                Notice::SpawnRefused(r) => return Err(format!("{r:?}")),
                _ => {}
            }
        }
        Err("the zone let go of the character".to_string())
    })
    .await;
    match spawned {
        Ok(Ok(())) => {}
        Ok(Err(why)) => {
            return Err(JoinRefused {
                reason: Reason::TryAgain,
                detail: format!("the zone did not take the character: {why}"),
                retry_after: Some(Duration::from_secs(1)),
                redirect: None,
            })
        }
        Err(_) => {
            // Still spawning: let it go again (its zone saves and releases it).
            let _ = host.leave(c).await;
            return Err(JoinRefused {
                reason: Reason::TryAgain,
                detail: "the zone is slow to answer".into(),
                retry_after: Some(Duration::from_secs(1)),
                redirect: None,
            });
        }
    }
    if let Err(e) = host.watch(c).await {
        tracing::warn!(character = %c, error = %e, "views not started");
    }
    let in_world = InWorld {
        account: grant.account,
        profile: Arc::new(Profile::of(*receipt.loaded)),
        inbox_seen: InboxId::at_unix_ms(now_unix_ms()),
    };
    lock(&app.in_world).insert(c, in_world.clone());
    Ok((host.clone(), receipt.notices, in_world, false))
}

fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
