//! After a join, the recent lines of the channels the player hears, from the spec's
//! `chat:{channel}:{timestamp}` history: the zone's `say`, global, its kingdom and its guild.
//! Redis down: nothing (history is a convenience, never the truth).

use super::conn::{Conn, End};
use super::join::Joined;
use realmkeep_cache::ChatChannel;
use realmkeep_protocol::ws::{ChatLine, ServerMsg};

/// Lines of each channel sent after a join.
pub const CHAT_HISTORY_ON_JOIN: usize = 20;

const _: () = assert!(CHAT_HISTORY_ON_JOIN * 4 < crate::limits::OUTBOUND_QUEUE_MAX);

pub(super) async fn send(conn: &mut Conn, j: &Joined) -> Result<(), End> {
    let l = &j.in_world.profile;
    let mut channels = vec![
        ("say", ChatChannel::Zone(j.zone)),
        ("global", ChatChannel::Global),
        ("kingdom", ChatChannel::Kingdom(l.kingdom)),
    ];
    if let Some(g) = l.guild {
        channels.push(("guild", ChatChannel::Guild(g)));
    }
    for (name, channel) in channels {
        let Ok(lines) = conn
            .app
            .cache()
            .chat()
            .history(channel, CHAT_HISTORY_ON_JOIN)
            .await
        else {
            continue;
        };
        for line in lines.value {
            conn.send(ServerMsg::Chat(ChatLine {
                channel: name.to_string(),
                from: line.from.0,
                name: line.from_name.to_string(),
                text: line.text,
                history: true,
            }))?;
        }
    }
    Ok(())
}
