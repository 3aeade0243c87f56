//! Resources of a zone's world: the clock, the content, the inboxes and the outbox, request
//! bookkeeping, indexes, the spatial grid and the guild wars in force.

mod clock;
mod content;
mod inbox;
mod index;
mod outbox;
mod pending;
mod sight;
mod spatial;
mod trades;
mod wars;

pub use clock::{Clock, Lifecycle, Settings, ZoneRng};
pub use content::ZoneContent;
pub use inbox::{CommandCounts, CommandInbox, Inbox, ResultInbox, SkillCast, SkillCasts};
pub use index::Index;
pub use outbox::Outbox;
pub use pending::Pending;
pub use sight::{Near, Sight, Sighted};
pub use spatial::{Cell, CellStamps, Spatial, ViewCounts, ViewPace};
pub use trades::{TradeOffer as OpenOffer, TradeOffers};
pub use wars::Wars;
