//! A pub/sub subscriber: one dedicated connection owned by a task that reconnects with backoff,
//! subscribes again to every channel it had, and delivers into a bounded queue.
//!
//! The consumer learns about gaps: after a reconnect it receives
//! [`SubscriberEvent::Connected`] with `resumed: true`, meaning messages published meanwhile
//! were lost (re-read chat history and the player inboxes if that matters).

use crate::core::{bump, Core};
use crate::error::CacheError;
use crate::keys;
use crate::messages::{ChannelMessage, Received};
use crate::options::{RECONNECT_DELAY_MAX, RECONNECT_DELAY_MIN};
use crate::vocab::Channel;
use futures::StreamExt;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Events queued for the consumer before new ones are dropped (and counted).
pub const SUBSCRIBER_QUEUE_CAPACITY: usize = 4_096;
/// Pending subscribe/unsubscribe requests.
pub const SUBSCRIBER_COMMANDS_CAPACITY: usize = 256;
/// Channels one subscriber may hold (a node's players' event channels included).
pub const SUBSCRIBER_CHANNELS_MAX: usize = 25_000;
/// Channels per SUBSCRIBE command when subscribing again.
const SUBSCRIBE_BATCH: usize = 1_000;
/// How often an idle subscription checks its connection (a dead peer sends no reset).
pub const SUBSCRIBER_PING_INTERVAL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, PartialEq)]
pub enum SubscriberEvent {
    /// Subscribed to every channel. `resumed`: this follows a disconnection, so messages
    /// published in between were lost.
    Connected {
        resumed: bool,
    },
    /// The connection dropped; reconnecting.
    Disconnected,
    Message(Received),
}

enum Command {
    Subscribe(Channel),
    Unsubscribe(Channel),
}

/// Owns the subscription task; dropping it ends the task.
#[derive(Debug)]
pub struct Subscriber {
    events: mpsc::Receiver<SubscriberEvent>,
    commands: mpsc::Sender<Command>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Command::Subscribe(c) => write!(f, "Subscribe({c:?})"),
            Command::Unsubscribe(c) => write!(f, "Unsubscribe({c:?})"),
        }
    }
}

impl Subscriber {
    /// Starts a subscriber on `channels` over its own connection ([`crate::Cache::subscribe`]).
    pub(crate) fn start(
        core: Arc<Core>,
        channels: impl IntoIterator<Item = Channel>,
    ) -> Result<Subscriber, CacheError> {
        let channels: BTreeSet<String> = channels
            .into_iter()
            .map(|c| keys::channel_name(&c))
            .collect();
        if channels.len() > SUBSCRIBER_CHANNELS_MAX {
            return Err(CacheError::Limit {
                what: "channels of one subscriber",
                max: SUBSCRIBER_CHANNELS_MAX,
            });
        }
        let (events_tx, events) = mpsc::channel(SUBSCRIBER_QUEUE_CAPACITY);
        let (commands, commands_rx) = mpsc::channel(SUBSCRIBER_COMMANDS_CAPACITY);
        let task = tokio::spawn(run(core, channels, events_tx, commands_rx));
        Ok(Subscriber {
            events,
            commands,
            task,
        })
    }
}

impl Subscriber {
    /// The next event; `None` only if the task ended (it does not while the subscriber lives).
    pub async fn recv(&mut self) -> Option<SubscriberEvent> {
        self.events.recv().await
    }

    /// The next chat or event message, skipping connection notices.
    pub async fn next_message(&mut self) -> Option<Received> {
        loop {
            if let SubscriberEvent::Message(m) = self.recv().await? {
                return Some(m);
            }
        }
    }

    pub fn try_recv(&mut self) -> Option<SubscriberEvent> {
        self.events.try_recv().ok()
    }

    /// Adds a channel; takes effect at once if connected, and survives reconnects.
    pub async fn subscribe(&self, channel: Channel) -> Result<(), CacheError> {
        self.send(Command::Subscribe(channel)).await
    }

    pub async fn unsubscribe(&self, channel: Channel) -> Result<(), CacheError> {
        self.send(Command::Unsubscribe(channel)).await
    }

    async fn send(&self, c: Command) -> Result<(), CacheError> {
        self.commands.try_send(c).map_err(|_| CacheError::Limit {
            what: "pending subscription changes",
            max: SUBSCRIBER_COMMANDS_CAPACITY,
        })
    }
}

fn deliver(core: &Core, tx: &mpsc::Sender<SubscriberEvent>, e: SubscriberEvent) {
    if tx.try_send(e).is_err() {
        bump(&core.metrics.pubsub_dropped);
    }
}

/// Applies one command to the wanted set; returns the channel to (un)subscribe now, if any.
fn apply(channels: &mut BTreeSet<String>, c: Command) -> Option<(bool, String)> {
    match c {
        Command::Subscribe(ch) => {
            let name = keys::channel_name(&ch);
            if channels.len() >= SUBSCRIBER_CHANNELS_MAX && !channels.contains(&name) {
                tracing::warn!(
                    max = SUBSCRIBER_CHANNELS_MAX,
                    "subscriber channel limit reached: refused"
                );
                return None;
            }
            channels.insert(name.clone()).then_some((true, name))
        }
        Command::Unsubscribe(ch) => {
            let name = keys::channel_name(&ch);
            channels.remove(&name).then_some((false, name))
        }
    }
}

async fn run(
    core: Arc<Core>,
    mut channels: BTreeSet<String>,
    tx: mpsc::Sender<SubscriberEvent>,
    mut commands: mpsc::Receiver<Command>,
) {
    let timeout = core.opts.command_timeout.max(core.opts.connect_timeout);
    let mut delay = RECONNECT_DELAY_MIN;
    let mut connected_before = false;
    loop {
        let pubsub =
            match tokio::time::timeout(core.opts.connect_timeout, core.client.get_async_pubsub())
                .await
            {
                Ok(Ok(p)) => p,
                _ => {
                    // Keep taking commands while away, so they apply on reconnect.
                    let sleep = tokio::time::sleep(delay);
                    tokio::pin!(sleep);
                    loop {
                        tokio::select! {
                            _ = &mut sleep => break,
                            c = commands.recv() => match c {
                                Some(c) => { apply(&mut channels, c); }
                                None => return,
                            },
                        }
                    }
                    delay = (delay * 2).min(RECONNECT_DELAY_MAX);
                    continue;
                }
            };
        let (mut sink, mut stream) = pubsub.split();
        let wanted: Vec<String> = channels.iter().cloned().collect();
        let mut ok = true;
        for batch in wanted.chunks(SUBSCRIBE_BATCH) {
            if !matches!(
                tokio::time::timeout(timeout, sink.subscribe(batch)).await,
                Ok(Ok(()))
            ) {
                ok = false;
                break;
            }
        }
        if !ok {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(RECONNECT_DELAY_MAX);
            continue;
        }
        delay = RECONNECT_DELAY_MIN;
        if connected_before {
            bump(&core.metrics.pubsub_resubscribes);
            tracing::info!(channels = channels.len(), "pub/sub subscriptions resumed");
        }
        deliver(
            &core,
            &tx,
            SubscriberEvent::Connected {
                resumed: connected_before,
            },
        );
        connected_before = true;

        let mut ping = tokio::time::interval(SUBSCRIBER_PING_INTERVAL);
        ping.tick().await;
        loop {
            tokio::select! {
                msg = stream.next() => {
                    let Some(msg) = msg else { break };
                    bump(&core.metrics.pubsub_received);
                    let channel = keys::parse_channel_name(msg.get_channel_name());
                    let message = ChannelMessage::decode(msg.get_payload_bytes());
                    match (channel, message) {
                        (Some(channel), Some(message)) if message.fits(&channel) => {
                            deliver(&core, &tx, SubscriberEvent::Message(Received { channel, message }));
                        }
                        _ => tracing::warn!(channel = msg.get_channel_name(), "pub/sub message does not parse: dropped"),
                    }
                }
                c = commands.recv() => {
                    let Some(c) = c else { return };
                    let r = match apply(&mut channels, c) {
                        Some((true, name)) => tokio::time::timeout(timeout, sink.subscribe(&name)).await,
                        Some((false, name)) => tokio::time::timeout(timeout, sink.unsubscribe(&name)).await,
                        None => Ok(Ok(())),
                    };
                    if !matches!(r, Ok(Ok(()))) {
                        break;
                    }
                }
                _ = ping.tick() => {
                    // Any answer will do: in subscribed mode Redis answers a ping with
                    // ["pong", ""], not "PONG" (read as a string, that was an error, and the
                    // connection was dropped and every channel subscribed again at every ping).
                    if !matches!(tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await, Ok(Ok(_))) {
                        break;
                    }
                }
            }
        }
        tracing::warn!("pub/sub connection lost: reconnecting");
        deliver(&core, &tx, SubscriberEvent::Disconnected);
    }
}
