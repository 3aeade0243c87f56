//! Test kit: a small hand-built content, hand-built characters, and helpers to drive a zone.
#![allow(dead_code)]

use realmkeep_domain::content::{Content, LootEntry, MonsterDef, SpawnPoint, ZoneDef};
use realmkeep_domain::records::LogEvent;
use realmkeep_domain::records::{EquippedItem, LearnedSkill, LoadedCharacter};
use realmkeep_domain::rules::ItemBonus;
use realmkeep_domain::*;
use realmkeep_zone::actions::*;
use realmkeep_zone::io::*;
use realmkeep_zone::{Zone, ZoneConfig};
use std::sync::Arc;

pub const ZONE: ZoneId = ZoneId(1);
/// The single wolf of the test zone stands here.
pub const WOLF_HOME: (f32, f32) = (50.0, 50.0);

pub fn wolf() -> MonsterDef {
    MonsterDef {
        id: 1,
        name: "Test Wolf".into(),
        level: 1,
        health: 60,
        attack: 6,
        armor: 2,
        speed: 4.0,
        aggro_radius: 8.0,
        leash_radius: 30.0,
        attack_interval_ms: 2_000,
        respawn_ms: 15_000,
        gold_min: 1,
        gold_max: 4,
        loot: vec![LootEntry {
            item: ItemDefId(200),
            chance_permille: 1_000,
            quantity: 2,
        }],
    }
}

/// Skills and quests of the repository's content; a one-wolf zone of 200×200.
pub fn content() -> Arc<Content> {
    let skills = serde_json::from_str(include_str!("../../../../content/skills.json")).unwrap();
    let quests = serde_json::from_str(include_str!("../../../../content/quests.json")).unwrap();
    Arc::new(Content {
        items: Vec::new(),
        skills,
        quests,
        monsters: vec![wolf()],
        zones: vec![ZoneDef {
            id: ZONE,
            name: "Testvale".into(),
            width: 200.0,
            height: 200.0,
            entry: (100.0, 100.0),
            spawns: vec![SpawnPoint {
                monster: 1,
                x: WOLF_HOME.0,
                y: WOLF_HOME.1,
                count: 1,
                radius: 0.0,
            }],
        }],
    })
}

/// The repository's whole content (Greenvale has 130 monsters).
pub fn real_content() -> Arc<Content> {
    let c = Content {
        items: serde_json::from_str(include_str!("../../../../content/items.json")).unwrap(),
        skills: serde_json::from_str(include_str!("../../../../content/skills.json")).unwrap(),
        quests: serde_json::from_str(include_str!("../../../../content/quests.json")).unwrap(),
        monsters: serde_json::from_str(include_str!("../../../../content/monsters.json")).unwrap(),
        zones: serde_json::from_str(include_str!("../../../../content/zones.json")).unwrap(),
    };
    c.validate().unwrap();
    Arc::new(c)
}

pub fn config() -> ZoneConfig {
    let mut c = ZoneConfig::new(ZONE, content(), 7);
    c.save_interval_ticks = 20;
    c.save_batches_per_interval = 4;
    c
}

pub fn zone() -> Zone {
    Zone::new(config()).unwrap()
}

pub fn fence(id: i64) -> Fence {
    Fence {
        character: CharacterId(id),
        epoch: ClaimEpoch(1),
    }
}

/// A level 1 warrior of Aldor at (x, y) of the test zone, with full health.
pub fn character(id: i64, x: f32, y: f32) -> LoadedCharacter {
    LoadedCharacter {
        id: CharacterId(id),
        account: AccountId(id),
        name: CharacterName::parse(&format!("Hero{id}")).expect("a valid name"),
        class: Class::Warrior,
        kingdom: Kingdom::Aldor,
        level: 1,
        xp: 0,
        gold: 100,
        attributes: Attributes::default(),
        health: 10_000,
        mana: 10_000,
        position: Position {
            zone: ZONE,
            x,
            y,
            z: 0.0,
            rotation: 0.0,
        },
        pvp_kills: 0,
        guild: None,
        inventory: Vec::new(),
        equipment: Vec::new(),
        skills: Vec::new(),
        quests: Vec::new(),
        blocked: Vec::new(),
        claim_epoch: ClaimEpoch(1),
    }
}

/// A character that kills a wolf in one blow.
pub fn slayer(id: i64, x: f32, y: f32) -> LoadedCharacter {
    let mut c = character(id, x, y);
    c.equipment.push(EquippedItem {
        item: ItemId(id * 100),
        def: ItemDefId(5),
        slot: EquipSlot::MainHand,
        bonus: ItemBonus {
            attack: 200,
            ..ItemBonus::default()
        },
    });
    c.skills.push(LearnedSkill {
        skill: SkillId(1),
        level: 1,
    });
    c
}

pub fn spawn(zone: &mut Zone, c: LoadedCharacter) -> Vec<ZoneOutput> {
    let fence = Fence {
        character: c.id,
        epoch: c.claim_epoch,
    };
    zone.push_input(ZoneInput::Spawn {
        fence,
        character: Box::new(c),
        transfer: false,
        cooldowns: Vec::new(),
    })
    .unwrap();
    run(zone, 1)
}

pub fn command(zone: &mut Zone, id: i64, command: PlayerCommand) {
    zone.push_input(ZoneInput::Command {
        character: CharacterId(id),
        command,
        reply_to: None,
    })
    .unwrap();
}

/// A slayer (player 1) kills the wolf beside it; the network id of the loot it dropped.
pub fn slain_wolf_loot(z: &mut Zone) -> NetId {
    spawn(z, slayer(1, 53.0, 50.0));
    let wolf = wolf_net(z);
    command(z, 1, PlayerCommand::Attack { target: wolf });
    run(z, 22);
    z.loot()[0].net_id
}

/// Queues a command tagged with a request id (its first notice answers it).
pub fn tagged(z: &mut Zone, id: i64, tag: u64, command: PlayerCommand) {
    z.push_input(ZoneInput::Command {
        character: CharacterId(id),
        command,
        reply_to: Some(ReplyTo(tag)),
    })
    .unwrap();
}

/// The tagged notices of player `id`.
pub fn replies(out: &[ZoneOutput], id: i64) -> Vec<(u64, PlayerEvent)> {
    out.iter()
        .filter_map(|o| match o {
            ZoneOutput::ToPlayer {
                character,
                event,
                reply_to: Some(tag),
            } if character.0 == id => Some((tag.0, event.clone())),
            _ => None,
        })
        .collect()
}

pub fn reply(zone: &mut Zone, request: RequestId, outcome: Outcome) {
    zone.push_input(ZoneInput::StoreResult { request, outcome })
        .unwrap();
}

/// Runs `n` ticks and returns everything they emitted.
pub fn run(zone: &mut Zone, n: u64) -> Vec<ZoneOutput> {
    let mut out = Vec::new();
    for _ in 0..n {
        zone.tick();
        out.extend(zone.drain_outputs());
    }
    out
}

/// Runs ticks until `f` finds something in a tick's outputs (at most `max` ticks).
pub fn run_until<T>(
    zone: &mut Zone,
    max: u64,
    mut f: impl FnMut(&[ZoneOutput]) -> Option<T>,
) -> Option<(T, Vec<ZoneOutput>)> {
    let mut all = Vec::new();
    for _ in 0..max {
        zone.tick();
        let out = zone.drain_outputs();
        let found = f(&out);
        all.extend(out);
        if let Some(t) = found {
            return Some((t, all));
        }
    }
    None
}

/// Store requests (not log batches) among outputs.
pub fn requests(out: &[ZoneOutput]) -> Vec<PersistRequest> {
    out.iter()
        .filter_map(|o| match o {
            ZoneOutput::Persist(p) if !matches!(p.kind, PersistKind::Logs(_)) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

pub fn logs(out: &[ZoneOutput]) -> Vec<LogEvent> {
    out.iter()
        .filter_map(|o| match o {
            ZoneOutput::Persist(PersistRequest {
                kind: PersistKind::Logs(l),
                ..
            }) => Some(l.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

pub fn events(out: &[ZoneOutput], id: i64) -> Vec<PlayerEvent> {
    out.iter()
        .filter_map(|o| match o {
            ZoneOutput::ToPlayer {
                character, event, ..
            } if character.0 == id => Some(event.clone()),
            _ => None,
        })
        .collect()
}

pub fn left(out: &[ZoneOutput]) -> Vec<(CharacterId, LeftReason)> {
    out.iter()
        .filter_map(|o| match o {
            ZoneOutput::Left { character, reason } => Some((*character, *reason)),
            _ => None,
        })
        .collect()
}

/// Ticks in `ms` of game time at the default 20 Hz.
pub fn ticks(ms: u64) -> u64 {
    ms / 50
}

pub fn wolf_net(zone: &Zone) -> NetId {
    zone.monsters()[0].net_id
}

/// Answers every periodic and level-up save among `out` as done.
pub fn ack_saves(zone: &mut Zone, out: &[ZoneOutput]) {
    for r in requests(out) {
        match r.kind {
            PersistKind::SaveBatch(_) => reply(
                zone,
                r.id,
                Outcome::Ok(save_batch::Receipt::default().into()),
            ),
            PersistKind::LevelUp(_) => reply(zone, r.id, Outcome::Ok(level_up::Receipt.into())),
            _ => {}
        }
    }
}

/// Events of a player other than the periodic `Surroundings`.
pub fn notices(out: &[ZoneOutput], id: i64) -> Vec<PlayerEvent> {
    events(out, id)
        .into_iter()
        .filter(|e| !matches!(e, PlayerEvent::Surroundings { .. }))
        .collect()
}
