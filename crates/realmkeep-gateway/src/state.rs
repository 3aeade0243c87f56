//! What every request and connection of one gateway shares: the node (`Cluster`), the open
//! connections per address, the one live WebSocket per account, and what the gateway remembers
//! of characters in the world (for a resume within the disconnect grace).

use crate::broadcast::HeldLines;
use crate::config::GatewayConfig;
use crate::limits::{CONTROL_QUEUE_MAX, PUBSUB_QUEUE_MAX};
use realmkeep_cache::Channel;
use realmkeep_cache::{Cache, InboxId, PlayerEvent, SessionId};
use realmkeep_domain::records::{LearnedSkill, LoadedCharacter};
use realmkeep_domain::{
    AccountId, Attributes, CharacterId, CharacterName, Class, GuildId, Kingdom,
};
use realmkeep_protocol::ws::{ChatLine, EncodedMsg, ServerMsg};
use realmkeep_protocol::CloseCode;
use realmkeep_server::Cluster;
use realmkeep_store::Store;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

/// What the gateway tells one live connection from outside it. Rare, so the large variants are
/// boxed: a connection's control queue keeps the room its largest burst needed, and a slot is
/// the size of the largest variant.
#[derive(Debug)]
pub(crate) enum ConnControl {
    /// Close with this code (a newer connection of the account, a logout, a ban).
    Close(CloseCode),
    /// A player event arrived on `player_events:{character}` (must-arrive ones are read from
    /// the inbox, in order, on this wake-up).
    Player(Box<PlayerEvent>),
    /// A message for this player alone (a guild war of its guild).
    Send(Box<ServerMsg>),
    /// The sweep found the session revoked (its account, or a logout): check it and close.
    Recheck,
    /// The sweep found inbox events the connection was not woken for: read them.
    ReadInbox,
    /// Lines wait in the connection's `HeldLines` since before the last round: send them now
    /// (`broadcast::run_rounds`).
    SendHeld,
}

/// The one live WebSocket of an account.
#[derive(Debug)]
pub(crate) struct Live {
    pub conn: u64,
    pub session: SessionId,
    /// When the session's token was issued (a revocation of the account at or after it ends it).
    pub issued_unix_s: i64,
    pub character: CharacterId,
    /// Whose chat channels it hears (set once the character is in the world).
    pub kingdom: Option<Kingdom>,
    pub guild: Option<GuildId>,
    pub control: flume::Sender<ConnControl>,
    /// Chat lines and announcements for it, taken at its next wake-up (`broadcast.rs`).
    pub held: Arc<HeldLines>,
    /// Fired when the connection has let go of its character (the next one may resume it).
    pub released: Option<oneshot::Receiver<()>>,
}

/// A character this gateway put into the world, remembered until it leaves: enough to welcome a
/// resumed connection without loading it again.
#[derive(Debug, Clone)]
pub(crate) struct InWorld {
    pub account: AccountId,
    pub profile: Arc<Profile>,
    /// The last inbox event delivered to the player.
    pub inbox_seen: InboxId,
}

/// What the gateway keeps of a character's loaded record for its welcome: what the zone does not
/// show. Not the record itself: its bags, equipment and quests are the zone's (live, and a full
/// bag is kilobytes for every player).
#[derive(Debug)]
pub(crate) struct Profile {
    pub name: CharacterName,
    pub class: Class,
    pub kingdom: Kingdom,
    pub guild: Option<GuildId>,
    pub attributes: Attributes,
    pub skills: Box<[LearnedSkill]>,
}

impl Profile {
    pub fn of(l: LoadedCharacter) -> Self {
        Self {
            name: l.name,
            class: l.class,
            kingdom: l.kingdom,
            guild: l.guild,
            attributes: l.attributes,
            skills: l.skills.into_boxed_slice(),
        }
    }
}

/// Who hears a chat channel.
enum Hears {
    All,
    Kingdom(Kingdom),
    Guild(GuildId),
}

impl Hears {
    fn includes(&self, l: &Live) -> bool {
        match self {
            Hears::All => true,
            Hears::Kingdom(k) => l.kingdom == Some(*k),
            Hears::Guild(g) => l.guild == Some(*g),
        }
    }
}

pub(crate) enum PubsubCmd {
    Subscribe(CharacterId),
    Unsubscribe(CharacterId),
    /// A connection's guild changed (joined, left the world...): `guild_chat:{id}` is heard
    /// while any connection of this gateway is in the guild.
    Guild {
        from: Option<GuildId>,
        to: Option<GuildId>,
    },
}

pub(crate) struct App {
    pub cluster: Cluster,
    pub config: GatewayConfig,
    pub live: Mutex<HashMap<AccountId, Live>>,
    pub in_world: Mutex<HashMap<CharacterId, InWorld>>,
    pub pubsub: mpsc::Sender<PubsubCmd>,
    pub stop: CancellationToken,
    /// Cancelled when the node is asked to stop: readiness turns false while players still play.
    pub draining: CancellationToken,
    pub meters: crate::meters::Meters,
    /// The broadcast rounds so far (`broadcast::run_rounds`).
    pub round: AtomicU32,
    next_conn: AtomicU64,
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl App {
    pub fn new(
        cluster: Cluster,
        config: GatewayConfig,
        stop: CancellationToken,
    ) -> (Arc<App>, mpsc::Receiver<PubsubCmd>) {
        let (pubsub, rx) = mpsc::channel(PUBSUB_QUEUE_MAX);
        let app = Arc::new(App {
            cluster,
            config,
            live: Mutex::new(HashMap::new()),
            in_world: Mutex::new(HashMap::new()),
            pubsub,
            stop,
            draining: CancellationToken::new(),
            meters: crate::meters::Meters::new(),
            round: AtomicU32::new(0),
            next_conn: AtomicU64::new(1),
        });
        (app, rx)
    }

    pub fn store(&self) -> &Store {
        self.cluster.store()
    }

    pub fn cache(&self) -> &Cache {
        self.cluster.cache()
    }

    pub fn conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    /// A connection's control queue (`CONTROL_QUEUE_MAX`): a flume queue allocates its slots
    /// only when messages wait, and this one is nearly always empty.
    pub fn control_channel() -> (flume::Sender<ConnControl>, flume::Receiver<ConnControl>) {
        flume::bounded(CONTROL_QUEUE_MAX)
    }

    /// Closes the live connection of `account` with `code` (if `session` is given, only if it
    /// belongs to that session). Returns whether one was told.
    pub fn close_live(
        &self,
        account: AccountId,
        session: Option<SessionId>,
        code: CloseCode,
    ) -> bool {
        let live = lock(&self.live);
        match live.get(&account) {
            Some(l) if session.is_none_or(|s| s == l.session) => {
                let _ = l.control.try_send(ConnControl::Close(code));
                true
            }
            _ => false,
        }
    }

    /// Sets the chat channels a live connection hears, and keeps the subscriptions in step.
    pub fn set_channels(
        &self,
        account: AccountId,
        conn: u64,
        kingdom: Kingdom,
        guild: Option<GuildId>,
    ) {
        let from = {
            let mut live = lock(&self.live);
            match live.get_mut(&account) {
                Some(l) if l.conn == conn => {
                    l.kingdom = Some(kingdom);
                    std::mem::replace(&mut l.guild, guild)
                }
                _ => return,
            }
        };
        if from != guild {
            let _ = self.pubsub.try_send(PubsubCmd::Guild { from, to: guild });
        }
    }

    /// Delivers a chat line to every live connection that hears `channel`.
    fn chat(&self, channel: &Channel, line: realmkeep_cache::ChatLine) {
        let (name, hears) = match channel {
            Channel::GlobalChat => ("global", Hears::All),
            Channel::KingdomChat(k) => ("kingdom", Hears::Kingdom(*k)),
            Channel::GuildChat(g) => ("guild", Hears::Guild(*g)),
            _ => return,
        };
        let msg = EncodedMsg::new(&ServerMsg::Chat(ChatLine {
            channel: name.to_string(),
            from: line.from.0,
            name: line.from_name.to_string(),
            text: line.text,
            history: false,
        }));
        crate::broadcast::deliver(self, &msg, |l| hears.includes(l));
    }

    /// Delivers a server event to every live connection.
    fn announce(&self, ev: realmkeep_cache::ServerEvent) {
        use realmkeep_cache::ServerEvent as E;
        use realmkeep_protocol::ws::Announcement as A;
        let msg = EncodedMsg::new(&ServerMsg::Announcement(match ev {
            E::Announcement { text } => A::Text { text },
            E::Maintenance {
                starts_unix_ms,
                message,
            } => A::Maintenance {
                starts_unix_ms,
                message,
            },
            E::WorldBoss { zone, name } => A::WorldBoss { zone: zone.0, name },
            E::GuildWar { by, on, at_war } => return self.guild_war(by, on, at_war),
        }));
        crate::broadcast::deliver(self, &msg, |_| true);
    }

    /// A guild war was declared or ended (on any node): this node's zones read the wars again,
    /// and the online members of both guilds here are told.
    fn guild_war(&self, by: GuildId, on: GuildId, at_war: bool) {
        use realmkeep_protocol::ws::GameEvent;
        self.cluster.wars_changed();
        for l in lock(&self.live).values() {
            let with = match l.guild {
                Some(g) if g == by => on,
                Some(g) if g == on => by,
                _ => continue,
            };
            let msg = ServerMsg::Event(GameEvent::GuildWar {
                with: with.0,
                at_war,
            });
            let _ = l.control.try_send(ConnControl::Send(Box::new(msg)));
        }
    }

    /// An operator's change of `character`, for the zone of this node that holds it (if one
    /// does): handed to the zone's control lane off this task, which must not wait on a zone.
    fn admin_order(&self, character: CharacterId, order: realmkeep_domain::AdminOrder) {
        let Some(host) = self.cluster.holding(character).cloned() else {
            return;
        };
        tokio::spawn(async move {
            if let Err(e) = host.admin(character, order).await {
                tracing::warn!(%character, error = %e, "an operator's change not handed to the zone");
            }
        });
    }

    /// Routes a player event to the live connection playing `character`, if any.
    /// Found through the characters this gateway put into the world (their accounts), not by
    /// looking at every live connection.
    pub fn to_character(&self, character: CharacterId, event: PlayerEvent) {
        let Some(account) = lock(&self.in_world).get(&character).map(|w| w.account) else {
            return;
        };
        let live = lock(&self.live);
        if let Some(l) = live.get(&account).filter(|l| l.character == character) {
            let _ = l.control.try_send(ConnControl::Player(Box::new(event)));
        }
    }
}

/// The gateway's pub/sub task: one subscriber for the node, `player_events:{id}` of every
/// character a connection plays, each message routed to its connection.
pub(crate) async fn run_pubsub(app: Arc<App>, mut cmds: mpsc::Receiver<PubsubCmd>) {
    use realmkeep_cache::{Channel, ChannelMessage, SubscriberEvent};
    // Announcements, global chat and every kingdom's are heard by some player almost always:
    // subscribed once.
    let always = [Channel::ServerEvents, Channel::GlobalChat]
        .into_iter()
        .chain(Kingdom::ALL.iter().map(|k| Channel::KingdomChat(*k)));
    let mut guilds: HashMap<GuildId, usize> = HashMap::new();
    let mut sub = match app.cache().subscribe(always) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "the gateway's subscriber did not start: live kicks rely on the session recheck");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = app.stop.cancelled() => return,
            cmd = cmds.recv() => match cmd {
                Some(PubsubCmd::Subscribe(c)) => {
                    if let Err(e) = sub.subscribe(Channel::PlayerEvents(c)).await {
                        tracing::warn!(character = %c, error = %e, "not subscribed to the player's events");
                    }
                }
                Some(PubsubCmd::Unsubscribe(c)) => {
                    let _ = sub.unsubscribe(Channel::PlayerEvents(c)).await;
                }
                Some(PubsubCmd::Guild { from, to }) => {
                    if let Some(g) = from {
                        let n = guilds.entry(g).or_default();
                        *n = n.saturating_sub(1);
                        if *n == 0 {
                            guilds.remove(&g);
                            let _ = sub.unsubscribe(Channel::GuildChat(g)).await;
                        }
                    }
                    if let Some(g) = to {
                        let n = guilds.entry(g).or_default();
                        *n += 1;
                        if *n == 1 {
                            let _ = sub.subscribe(Channel::GuildChat(g)).await;
                        }
                    }
                }
                None => return,
            },
            ev = sub.recv() => match ev {
                Some(SubscriberEvent::Message(m)) => match (m.channel, m.message) {
                    (Channel::PlayerEvents(c), ChannelMessage::Player(PlayerEvent::Admin { order })) => {
                        app.admin_order(c, order)
                    }
                    (Channel::PlayerEvents(c), ChannelMessage::Player(p)) => app.to_character(c, p),
                    (channel, ChannelMessage::Chat(line)) => app.chat(&channel, line),
                    (Channel::ServerEvents, ChannelMessage::Server(ev)) => app.announce(ev),
                    _ => {}
                },
                Some(_) => {}
                None => return,
            },
        }
    }
}
