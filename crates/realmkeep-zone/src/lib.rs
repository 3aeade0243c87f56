//! A zone: one map's real-time simulation (Tier 3 of ADR-005), an ECS world (bevy_ecs, no App)
//! run at a fixed step.
//!
//! # Architecture invariants
//!
//! - The zone crate does no I/O and never awaits, and Cargo holds it to that: it depends on
//!   neither the store nor the cache (nor sqlx, nor redis). What it shares with the store are
//!   plain values of the domain (`realmkeep_domain::records`: `LoadedCharacter`,
//!   `CharacterSnapshot`, `LogEvent`, `Refusal`).
//! - Everything that must reach PostgreSQL or Redis leaves the zone as plain data in an outbox
//!   (`io::ZoneOutput`, drained after each tick); the results come back as inputs
//!   (`io::ZoneInput::StoreResult`) applied at the start of a later tick, or between ticks by
//!   `Zone::react`, which runs only the input half of the schedule and never moves game time.
//! - Game time advances by the fixed step, never by the wall clock; randomness comes from one
//!   generator seeded by the configuration. The same seed and the same inputs give the same world.
//! - A player learns of a critical action's success (pickup, quest, trade) only when the store
//!   said Ok. Gold and items shown in the zone (`InventoryView`) change only from store results.
//! - A leaving character is kept, frozen, until its final save (`Release`) succeeded; a save
//!   refused as stale means the claim is lost, and the character is despawned without saving.
//! - At most one save of a character is in flight at a time, so saves cannot commit out of order.
//! - Everything is bounded (`limits`): the input queue, commands per player per tick, pending
//!   requests, log buffers, notices and cache updates per tick, loot, monsters, players.
//!
//! # API boundary
//!
//! `Zone` (`zone.rs`): `new`, `push_input`, `tick`, `react` (the inputs queued since, applied
//! between ticks by systems 1–4 below), `drain_outputs`, and read-only views
//! (`views.rs`). The message types are in `io`; each store request's request, receipt and answer
//! in its own module of `actions` (one per action, registered in `actions/mod.rs`). `TickStats` (`stats.rs`) is shared by the host and
//! the benchmark for wall-clock tick durations.
//!
//! # System order (one tick)
//!
//! 1. `inputs` — spawns, disconnects, watches, leaves, lost claims, shutdown; sorts commands and results.
//! 2. `results` — store results, each applied by its action's module (`actions`).
//! 3. `departures` — despawns released and lost characters, reports `Left`.
//! 4. `commands` — player commands: movement, targets, skills, chat, critical requests, logout.
//! 5. `movement` — walking, slowed by status effects, inside the zone.
//! 6. `spatial` — rebuilds the grid of players, monsters and loot; stamps the cells that changed.
//! 7. `monster_ai` — idle/wander, chase, attack, leash back and heal, respawn.
//! 8. `combat` — targeting and players' auto-attack.
//! 9. `skills` — skill uses: cooldowns (local, and to the cache), mana, damage, heals, effects.
//! 10. `status_effects` — buffs and debuffs tick and expire.
//! 11. `death` — deaths, experience, level-ups, loot drops, loot gold, quest progress, PvP kills,
//!     player respawn.
//! 12. `loot` — loot despawns after 60 s or once picked up.
//! 13. `connection` — disconnect grace period, final saves (`Release`) with retry, shutdown end.
//! 14. `persistence` — dirty tracking, level-up saves, periodic batch saves spread over ticks,
//!     log batches.
//! 15. `snapshot` — coarse surroundings per player, entity count.
//! 16. `views` — what each watching player sees: entities entering, moving and leaving its view,
//!     as deltas (`PlayerEvent::View`); skipped while nothing around the viewer changed.
//!
//! After the schedule, `World::clear_trackers` runs.
//!
//! # Components
//!
//! | Component | Purpose | Persisted? |
//! |-----------|---------|-----------|
//! | `Transform` | Position, rotation | Yes: periodic batch, level-up save, zone exit |
//! | `Velocity` | Movement direction, goal, speed | Never |
//! | `Motion` | The last step's velocity, which clients extrapolate between views | Never |
//! | `Viewer` | What a watching client was last told of each entity in view | Never |
//! | `Health` | Current/max HP | Current: periodic, level-up, zone exit |
//! | `Mana` | Current/max MP | Current: periodic, level-up, zone exit |
//! | `Level` | Level and experience | Periodic, at once on level-up, zone exit |
//! | `CombatStats` | Derived combat values | Never: recalculated on spawn and level-up |
//! | `Target` | Current combat target | Never |
//! | `AutoAttack` | Attack timing | Never |
//! | `StatusEffects` | Buffs and debuffs | Never (lost on zone transfer) |
//! | `AiState` | Monster behaviour | Never |
//! | `SpawnPoint` | A monster's home | Never (from `ZoneDef`) |
//! | `Dead` | Respawn timer | Never |
//! | `Loot` | An item on the ground | Never (despawns after 60 s) |
//! | `NetworkIdentity` | Entity → network id | Never |
//! | `Player` | Identity, fence, class, kingdom | Loaded; not written by the zone |
//! | `InventoryView` | Gold, bag, equipment as the store says | Never by the zone: store results update it |
//! | `Blocks` | Whom the player blocks, as the store says | Never by the zone: `block`/`unblock` results |
//! | `QuestLog`, `Skillbook` | Quests and skills as the store says | Never by the zone |
//! | `Cooldowns` | Skill cooldowns | To the cache (cross-zone), not PostgreSQL |
//! | `SaveState` | Dirty flag, save in flight | Never |
//! | `Disconnected`, `Leaving` | Connection state | Never |

// ECS systems name their data as query types; that is the point of them, not complexity.
#![allow(clippy::type_complexity)]

pub mod actions;
pub mod components;
pub mod config;
mod game;
pub mod io;
mod lifecycle;
pub mod limits;
mod resources;
mod spawn;
pub mod stats;
mod systems;
mod views;
mod zone;

pub use config::ZoneConfig;
pub use resources::ViewCounts;
pub use stats::{TickStats, TickSummary};
pub use views::{LootView, MonsterMode, MonsterView, PlayerView};
pub use zone::{QueueFull, TickReport, Zone, ZoneError};
