//! Friends hear when a player comes into the world and leaves it (the spec's
//! `player:{player_id}:online` turning on and off): `FriendOnline` / `FriendOffline` on each
//! accepted friend's `player_events:{id}`, whichever node it plays on. Zone changes are not
//! comings and goings. Best effort and after the fact: the presence itself is the truth.

use realmkeep_cache::{Cache, PlayerEvent};
use realmkeep_domain::CharacterId;
use realmkeep_store::social::FriendStatus;
use realmkeep_store::Store;

/// Tells `character`'s accepted friends that it came online (`online`) or went offline. Runs
/// in its own task: a join or a leave never waits for it.
pub(crate) fn tell(store: &Store, cache: &Cache, character: CharacterId, online: bool) {
    let (store, cache) = (store.clone(), cache.clone());
    tokio::spawn(async move {
        let friends = match store.friends_of(character).await {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(%character, error = %e, "friends not told: their list could not be read");
                return;
            }
        };
        let events = cache.events();
        for f in friends
            .iter()
            .filter(|f| f.status == FriendStatus::Accepted)
        {
            let event = if online {
                PlayerEvent::FriendOnline { friend: character }
            } else {
                PlayerEvent::FriendOffline { friend: character }
            };
            if let Err(e) = events.notify_player(f.id, event).await {
                tracing::debug!(%character, friend = %f.id, error = %e, "friend not told");
                return;
            }
        }
    });
}
