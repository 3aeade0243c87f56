//! The characters a zone host holds claims for, as the async side sees them: the claim's fence
//! (renewed by the renewer, checked before a claim loss is reported) and the state they were
//! loaded with (saved back if the zone refuses the spawn, so the claim can be released).

use realmkeep_domain::{CharacterId, CharacterName, Fence};
use realmkeep_store::saves::CharacterSnapshot;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Debug, Clone)]
pub(crate) struct Seat {
    pub fence: Fence,
    pub loaded: CharacterSnapshot,
    /// Who the character is, for chat routing (the zone's chat requests name the channel kind
    /// only).
    pub who: Who,
    /// Renewal found the claim gone; the zone was told (`ClaimLost`) and will let it go.
    pub lost: bool,
    /// The final save released the claim; the character's `Left` is on its way.
    pub released: bool,
}

/// What chat needs to know about a character that the zone's request does not say: its name
/// as loaded (the kingdom and guild come with each chat request, as the zone knows them now).
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub name: Option<CharacterName>,
}

#[derive(Debug, Default)]
pub(crate) struct Roster {
    seats: Mutex<HashMap<CharacterId, Seat>>,
}

impl Roster {
    fn seats(&self) -> std::sync::MutexGuard<'_, HashMap<CharacterId, Seat>> {
        self.seats.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a freshly claimed character. False if the host already holds it (a claim older than
    /// this one is still being let go); the caller then releases the new claim.
    pub fn insert(&self, loaded: CharacterSnapshot, who: Who) -> bool {
        let mut seats = self.seats();
        if seats.contains_key(&loaded.fence.character) {
            return false;
        }
        seats.insert(
            loaded.fence.character,
            Seat {
                fence: loaded.fence,
                loaded,
                who,
                lost: false,
                released: false,
            },
        );
        true
    }

    /// Removes the character if it is still held under `fence` (or under any fence if `None`).
    pub fn remove(&self, character: CharacterId, fence: Option<Fence>) -> Option<Seat> {
        let mut seats = self.seats();
        match seats.get(&character) {
            Some(s) if fence.is_none_or(|f| f == s.fence) => seats.remove(&character),
            _ => None,
        }
    }

    pub fn contains(&self, character: CharacterId) -> bool {
        self.seats().contains_key(&character)
    }

    pub fn who(&self, character: CharacterId) -> Option<Who> {
        self.seats().get(&character).map(|s| s.who.clone())
    }

    /// The fences to renew: every claim not known lost and not released by its final save.
    pub fn fences(&self) -> Vec<Fence> {
        self.seats()
            .values()
            .filter(|s| !s.lost && !s.released)
            .map(|s| s.fence)
            .collect()
    }

    /// Marks a claim lost if `fence` is still the character's current one. True if it was.
    pub fn mark_lost(&self, fence: Fence) -> bool {
        match self.seats().get_mut(&fence.character) {
            Some(s) if s.fence == fence && !s.lost && !s.released => {
                s.lost = true;
                true
            }
            _ => false,
        }
    }

    /// Notes that the final save released `fence`: the claim is let go on purpose, so the
    /// renewer neither renews it nor reports it lost while the character's `Left` is on its way.
    pub fn mark_released(&self, fence: Fence) {
        if let Some(s) = self.seats().get_mut(&fence.character) {
            if s.fence == fence {
                s.released = true;
            }
        }
    }

    pub fn len(&self) -> usize {
        self.seats().len()
    }

    pub fn characters(&self) -> Vec<CharacterId> {
        self.seats().keys().copied().collect()
    }
}
