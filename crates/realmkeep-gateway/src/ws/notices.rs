//! What the world tells one connection, besides the answers to its commands: the zone's
//! notices (events, replies, view deltas in frames, the character leaving), the inbox's
//! must-arrive events in order, and the recheck of the session's account (when the sweep or a
//! notice says it was revoked).

use super::conn::{Conn, End};
use super::join::Joined;
use super::me::track_me;
use super::translate;
use crate::limits::INBOX_BATCH;
use crate::state::{lock, ConnControl};
use realmkeep_protocol::ws::{Answer, ServerMsg};
use realmkeep_protocol::CloseCode;
use realmkeep_server::Notice;
use realmkeep_zone::io::{LeftReason, PlayerEvent};

impl Conn {
    /// A guild change: the guild chat this connection hears follows it.
    pub(super) fn follow_guild(&self, j: &Joined, n: &Notice) {
        let (Notice::Event(PlayerEvent::GuildChanged { guild })
        | Notice::Reply {
            event: PlayerEvent::GuildChanged { guild },
            ..
        }) = n
        else {
            return;
        };
        let kingdom = j.in_world.profile.kingdom;
        self.app
            .set_channels(j.grant.account, self.id, kingdom, *guild);
    }

    pub(super) fn notice(
        &mut self,
        n: Notice,
        me: &mut Option<super::me::Place>,
        logout: &mut Option<(u64, tokio::time::Instant)>,
    ) -> Result<(), End> {
        match n {
            Notice::Reply {
                reply_to,
                event,
                at,
            } => {
                if let Some(read_at) = self.awaiting.remove(&reply_to.0) {
                    self.app.meters.reply_waited(at.elapsed());
                    if let Some(data) = translate::data(&event) {
                        self.send(ServerMsg::Data {
                            id: reply_to.0,
                            data,
                        })?;
                    }
                    self.answer(reply_to.0, translate::answer(&event))?;
                    self.app.meters.answered(read_at.elapsed());
                }
                match translate::notice(event) {
                    Some(m) => self.send(m),
                    None => Ok(()),
                }
            }
            Notice::Event(e) => {
                if let PlayerEvent::View(d) = e {
                    track_me(me, &d);
                    return translate::view_frames(d)
                        .into_iter()
                        .try_for_each(|v| self.send(ServerMsg::View(v)));
                }
                if let PlayerEvent::Joined { net_id, x, y, .. } = &e {
                    *me = Some(super::me::Place::standing(net_id.0, *x, *y));
                }
                match translate::notice(e) {
                    Some(m) => self.send(m),
                    None => Ok(()),
                }
            }
            Notice::Left(LeftReason::Released { transfer_to: None }) if logout.is_some() => {
                let (id, _) = logout.expect("checked");
                self.answer(id, Answer::Ok)?;
                Err(End::Close(CloseCode::Normal))
            }
            Notice::Left(_) | Notice::SpawnRefused(_) => Err(End::Close(CloseCode::Left)),
            Notice::TransferFailed { .. } => Err(End::Close(CloseCode::Left)),
        }
    }

    /// A message of the connection's control queue (all but `SendHeld`, which the play loop
    /// handles itself); `None`: the queue is gone.
    pub(super) async fn control(
        &mut self,
        j: &mut Joined,
        ctl: Option<ConnControl>,
    ) -> Result<(), End> {
        match ctl {
            Some(ConnControl::Close(code)) => Err(End::Close(code)),
            Some(ConnControl::Player(ev)) => {
                Box::pin(super::queue::follow(j, &ev)).await;
                if ev.must_arrive() {
                    Box::pin(self.inbox(j)).await
                } else {
                    match translate::live(*ev) {
                        Some(m) => self.send(m),
                        None => Ok(()),
                    }
                }
            }
            Some(ConnControl::Recheck) => Box::pin(self.recheck(j)).await,
            Some(ConnControl::ReadInbox) => Box::pin(self.inbox(j)).await,
            Some(ConnControl::Send(m)) => self.send(*m),
            Some(ConnControl::SendHeld) => Ok(()),
            None => Err(End::Gone),
        }
    }

    /// Delivers the inbox's new events in order; a kick closes (4002).
    pub(super) async fn inbox(&mut self, j: &mut Joined) -> Result<(), End> {
        let c = j.grant.character;
        let read = self
            .app
            .cache()
            .inbox()
            .read(c, Some(&j.in_world.inbox_seen), INBOX_BATCH)
            .await;
        let Ok(entries) = read else {
            return Ok(()); // Redis down: the next poll tries again.
        };
        let mut kicked = false;
        for e in entries {
            kicked |= matches!(e.event, realmkeep_cache::PlayerEvent::Kicked { .. });
            self.send(ServerMsg::Inbox(translate::inbox(&e.event)))?;
            j.in_world.inbox_seen = e.id;
        }
        if let Some(w) = lock(&self.app.in_world).get_mut(&c) {
            w.inbox_seen = j.in_world.inbox_seen.clone();
        }
        if kicked {
            return Err(End::Close(CloseCode::Banned));
        }
        Ok(())
    }

    /// The session's account revoked since the ticket (a ban, a password change): close.
    pub(super) async fn recheck(&mut self, j: &Joined) -> Result<(), End> {
        let g = &j.grant;
        if self
            .app
            .cache()
            .sessions()
            .session_revoked(g.held_session())
            .await
        {
            let banned = matches!(
                self.app.store().active_ban(Some(g.account), None).await,
                Ok(Some(_))
            );
            return Err(End::Close(if banned {
                CloseCode::Banned
            } else {
                CloseCode::SessionRevoked
            }));
        }
        Ok(())
    }
}
