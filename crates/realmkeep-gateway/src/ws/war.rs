//! Guild wars, answered by the gateway (no zone part): PostgreSQL says who may (the leader or an
//! officer of a guild, against another guild: `Store::war_authority`), Redis holds the war
//! (`guild_war:{guild1}:{guild2}` with its duration as TTL), and `server_events` tells every
//! node: each reads the wars in force for its zones' PvP rule and tells the online members of
//! both guilds (`state.rs`).

use super::commands::War;
use crate::state::App;
use realmkeep_cache::{Channel, ChannelMessage, Declared, ServerEvent};
use realmkeep_domain::records::Refusal;
use realmkeep_domain::{CharacterId, GuildId};
use realmkeep_protocol::Reason;
use realmkeep_store::StoreError;
use std::time::Duration;

type Failure = (Reason, String);

fn try_again() -> Failure {
    (Reason::TryAgain, "try again shortly".to_string())
}

fn store(e: StoreError) -> Failure {
    match e {
        StoreError::Refused(r @ Refusal::NotAllowed(_)) => (Reason::NotAllowed, r.to_string()),
        StoreError::Refused(r @ Refusal::NotFound(_)) => (Reason::NoSuchTarget, r.to_string()),
        StoreError::Refused(r @ Refusal::Invalid(_)) => (Reason::Invalid, r.to_string()),
        StoreError::Refused(r) => (Reason::GameRule, r.to_string()),
        _ => try_again(),
    }
}

pub(crate) async fn answer(app: &App, me: CharacterId, war: War) -> Result<(), Failure> {
    let other = match war {
        War::Declare { on, .. } => on,
        War::End { with } => with,
    };
    let mine = app.store().war_authority(me, other).await.map_err(store)?;
    let wars = app.cache().guild_wars();
    let at_war = match war {
        War::Declare { hours, .. } => {
            let duration = Duration::from_secs(u64::from(hours) * 3_600);
            match wars.declare(mine, other, duration).await {
                Ok(Declared::Started) => true,
                Ok(Declared::AlreadyAtWar) => {
                    return Err((Reason::GameRule, "the two guilds are at war already".into()))
                }
                Err(_) => return Err(try_again()),
            }
        }
        War::End { .. } => match wars.end(mine, other).await {
            Ok(true) => false,
            Ok(false) => return Err((Reason::GameRule, "the two guilds are not at war".into())),
            Err(_) => return Err(try_again()),
        },
    };
    announce(app, mine, other, at_war).await;
    Ok(())
}

/// Every node (this one through pub/sub too) learns of it; this node's zones at once.
async fn announce(app: &App, by: GuildId, on: GuildId, at_war: bool) {
    app.cluster.wars_changed();
    let event = ServerEvent::GuildWar { by, on, at_war };
    let sent = app
        .cache()
        .events()
        .publish(&Channel::ServerEvents, &ChannelMessage::Server(event))
        .await;
    if let Err(e) = sent {
        // The war stands; other nodes learn it at their next refresh, members when they look.
        tracing::warn!(error = %e, "a guild war's notice was not published");
    }
}
