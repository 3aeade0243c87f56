//! Open trade offers: one per offering character, waiting for the mirror offer.

use crate::io;
use bevy_ecs::prelude::*;
use realmkeep_domain::CharacterId;

#[derive(Debug, Clone, PartialEq)]
pub struct TradeOffer {
    pub from: CharacterId,
    pub to: CharacterId,
    pub give: io::TradeOffer,
    pub want: io::TradeOffer,
    pub expires_at_ms: u64,
}

/// Bounded by the players in the zone (one offer each).
#[derive(Resource, Debug, Default)]
pub struct TradeOffers(pub Vec<TradeOffer>);

impl TradeOffers {
    pub fn expire(&mut self, now_ms: u64) {
        self.0.retain(|o| o.expires_at_ms > now_ms);
    }

    /// Takes the offer `from` made to `to`, if any.
    pub fn take(&mut self, from: CharacterId, to: CharacterId) -> Option<TradeOffer> {
        let at = self.0.iter().position(|o| o.from == from && o.to == to)?;
        Some(self.0.remove(at))
    }

    /// Puts an offer, replacing any earlier offer of the same character.
    pub fn put(&mut self, offer: TradeOffer) {
        self.0.retain(|o| o.from != offer.from);
        self.0.push(offer);
    }

    pub fn forget(&mut self, character: CharacterId) {
        self.0.retain(|o| o.from != character && o.to != character);
    }
}
