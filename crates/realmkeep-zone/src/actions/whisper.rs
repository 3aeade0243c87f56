//! A whisper: the store says whether the recipient may hear it (`Store::may_whisper`: it exists
//! and does not block the speaker, wherever either plays), then the line goes out through the
//! cache (`player_events:{to}`). A blocked speaker is refused and nothing is published; while
//! PostgreSQL is away a whisper is answered "try again" rather than slip past a block.

use super::{open_critical, AnswerCtx, Outcome};
use crate::io::{Action, CacheRequest, ChatChannel, RequestId};
use crate::limits::CHAT_TEXT_CHARS_MAX;
use crate::systems::commands::{ActorItem, Ctx};
use realmkeep_domain::{CharacterId, GuildId, Kingdom};

#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub from: CharacterId,
    pub to: CharacterId,
}

/// The recipient may hear the speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt;

/// The line, sent once the store agreed.
#[derive(Debug, Clone, PartialEq)]
pub struct Waiting {
    pub character: CharacterId,
    pub to: CharacterId,
    pub name: String,
    pub text: String,
    pub kingdom: Kingdom,
    pub guild: Option<GuildId>,
}

/// `PlayerCommand::Chat` on `ChatChannel::Whisper`.
pub(crate) fn command(ctx: &mut Ctx, mut a: ActorItem, to: CharacterId, text: String) {
    let text: String = text.trim().chars().take(CHAT_TEXT_CHARS_MAX).collect();
    if text.is_empty() {
        return;
    }
    let me = a.player.character;
    let waiting = Waiting {
        character: me,
        to,
        name: a.player.name.to_string(),
        text,
        kingdom: a.player.kingdom,
        guild: a.player.guild,
    };
    let request = Request { from: me, to };
    open_critical(ctx, &mut a, Action::Chat, waiting.into(), request.into());
}

impl Waiting {
    pub(crate) fn critical_for(&self) -> Vec<CharacterId> {
        vec![self.character]
    }

    pub(crate) fn apply(self, ctx: &mut AnswerCtx, _id: RequestId, outcome: Outcome<Receipt>) {
        if !outcome.is_ok() {
            return ctx.failed(self.character, Action::Chat, &outcome);
        }
        ctx.outbox.cache(CacheRequest::Chat {
            channel: ChatChannel::Whisper { to: self.to },
            from: self.character,
            name: self.name,
            text: self.text,
            kingdom: self.kingdom,
            guild: self.guild,
        });
    }
}
