//! Chat: history in `chat:{channel}:{timestamp}` (one list per channel and second, 1 h TTL),
//! indexed by `chat_index:{channel}` so the last N lines read without a SCAN; live delivery
//! across zones through the channel's pub/sub channel. While Redis is down a line is delivered
//! inside the sender's zone only (the zone does that when [`ChatSent::cross_zone`] is false),
//! history is not kept, and global channels resume when Redis returns.

use crate::clock::now_unix_s;
use crate::core::Core;
use crate::error::CacheError;
use crate::messages::{ChannelMessage, ChatLine};
use crate::vocab::{ChatChannel, Lookup};
use crate::{keys, scripts};

/// Lines one history read returns at most.
pub const CHAT_HISTORY_READ_MAX: usize = 100;
/// Lines kept per channel and second (a flood beyond is trimmed from history, not from chat).
pub const CHAT_LINES_PER_SECOND_MAX: usize = 100;
/// Seconds a channel's index keeps at most (an hour of seconds).
pub const CHAT_INDEX_BUCKETS_MAX: usize = 3_600;

/// What [`Chat::send`] managed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChatSent {
    pub history_kept: bool,
    /// Published to the other zones. When false, the zone delivers the line itself.
    pub cross_zone: bool,
}

/// Chat. Get it from [`crate::Cache::chat`].
#[derive(Debug, Clone, Copy)]
pub struct Chat<'a> {
    core: &'a Core,
}

impl<'a> Chat<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }
}

impl Chat<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    /// Keeps `line` in the channel's history and publishes it to the other zones.
    pub async fn send(
        &self,
        channel: ChatChannel,
        line: &ChatLine,
    ) -> Result<ChatSent, CacheError> {
        let core = self.core();
        let message = ChannelMessage::Chat(line.clone());
        let payload = message.encode()?;
        let second = line.sent_unix_ms.div_euclid(1000);
        let mut inv = scripts::CHAT_POST.prepare_invoke();
        inv.key(keys::chat_bucket(&channel, second))
            .key(keys::chat_index(&channel))
            .arg(&payload)
            .arg(second)
            .arg(keys::CHAT_HISTORY_TTL.as_secs())
            .arg(CHAT_LINES_PER_SECOND_MAX)
            .arg(now_unix_s() - keys::CHAT_HISTORY_TTL.as_secs() as i64)
            .arg(CHAT_INDEX_BUCKETS_MAX);
        let publish = async {
            match channel.pubsub() {
                Some(c) => {
                    let cmd = redis::cmd("PUBLISH").arg(c.name()).arg(&payload).to_owned();
                    core.query::<u64>(&cmd).await.map(|_| true)
                }
                None => Ok(false),
            }
        };
        let (kept, published) = futures::join!(core.eval::<i64>(&inv), publish);
        let history_kept = kept.map_err(|e| core.degraded("chat history", &e)).is_ok();
        let cross_zone = published
            .map_err(|e| core.degraded("chat publish", &e))
            .unwrap_or(false);
        Ok(ChatSent {
            history_kept,
            cross_zone,
        })
    }

    /// The last `n` lines of a channel (at most [`CHAT_HISTORY_READ_MAX`]), oldest first.
    /// Degraded: empty.
    pub async fn history(
        &self,
        channel: ChatChannel,
        n: usize,
    ) -> Result<Lookup<Vec<ChatLine>>, CacheError> {
        if n > CHAT_HISTORY_READ_MAX {
            return Err(CacheError::Limit {
                what: "chat history read",
                max: CHAT_HISTORY_READ_MAX,
            });
        }
        if n == 0 {
            return Ok(Lookup::fresh(Vec::new()));
        }
        let core = self.core();
        match read_history(core, &channel, n).await {
            Ok(lines) => Ok(Lookup::fresh(lines)),
            Err(e) => {
                core.degraded("chat history", &e);
                Ok(Lookup::degraded(Vec::new()))
            }
        }
    }
}

async fn read_history(
    core: &Core,
    channel: &ChatChannel,
    n: usize,
) -> Result<Vec<ChatLine>, CacheError> {
    // Every indexed second holds at least one line, so the newest n seconds are enough.
    let seconds: Vec<i64> = core
        .query(
            &redis::cmd("ZREVRANGE")
                .arg(keys::chat_index(channel))
                .arg(0)
                .arg(n - 1)
                .to_owned(),
        )
        .await?;
    if seconds.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for s in &seconds {
        pipe.cmd("LRANGE")
            .arg(keys::chat_bucket(channel, *s))
            .arg(-(n as i64))
            .arg(-1);
    }
    let buckets: Vec<Vec<Vec<u8>>> = core.query_pipe(&pipe).await?;
    // Newest second first: collect backwards, then put the result in order.
    let mut lines = Vec::with_capacity(n);
    'outer: for bucket in buckets {
        for raw in bucket.iter().rev() {
            if let Some(ChannelMessage::Chat(line)) = ChannelMessage::decode(raw) {
                lines.push(line);
                if lines.len() == n {
                    break 'outer;
                }
            }
        }
    }
    lines.reverse();
    Ok(lines)
}
