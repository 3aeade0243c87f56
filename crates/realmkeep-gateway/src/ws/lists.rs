//! The player's guild (its members and their ranks) and friends list (with which friends are in
//! the world), answered by the gateway: PostgreSQL's reads (never the zone's tick), the presence
//! keys in Redis for who is online. Read only; each bounded by the store's own limits
//! (`GUILD_MEMBERS_MAX`, `FRIENDS_MAX` + `BLOCKED_MAX` rows).

use crate::state::App;
use realmkeep_domain::CharacterId;
use realmkeep_protocol::ws::{Data, FriendRow, GuildMember, GuildRow};
use realmkeep_protocol::Reason;
use realmkeep_store::social::FriendStatus;
use realmkeep_store::StoreError;

fn unavailable(e: StoreError) -> (Reason, String) {
    tracing::debug!(error = %e, "a list could not be read");
    (
        Reason::TryAgain,
        "the list cannot be read right now".to_string(),
    )
}

pub(crate) async fn guild(app: &App, me: CharacterId) -> Result<Data, (Reason, String)> {
    let store = app.store();
    let Some(id) = store.guild_of(me).await.map_err(unavailable)? else {
        return Ok(Data::Guild { guild: None });
    };
    let info = store.guild_info(id).await.map_err(unavailable)?;
    let title = |rank| {
        info.ranks
            .iter()
            .find(|r| r.rank == rank)
            .map(|r| r.name.clone())
            .unwrap_or_default()
    };
    let members = info
        .members
        .iter()
        .map(|(c, name, rank)| GuildMember {
            character: c.0,
            name: name.clone(),
            rank: *rank,
            title: title(*rank),
        })
        .collect();
    Ok(Data::Guild {
        guild: Some(GuildRow {
            guild: info.id.0,
            name: info.name.clone(),
            leader: info.leader.0,
            members,
        }),
    })
}

pub(crate) async fn friends(app: &App, me: CharacterId) -> Result<Data, (Reason, String)> {
    let list = app.store().friends_of(me).await.map_err(unavailable)?;
    let presence = app.cache().presence();
    let mut friends = Vec::with_capacity(list.len());
    for f in list {
        // Only a friend's comings and goings are the player's to know.
        let online = match f.status {
            FriendStatus::Accepted => Some(presence.lookup(f.id).await.value.is_some()),
            _ => None,
        };
        friends.push(FriendRow {
            character: f.id.0,
            name: f.name,
            status: f.status.as_str().to_string(),
            online,
        });
    }
    Ok(Data::Friends { friends })
}
