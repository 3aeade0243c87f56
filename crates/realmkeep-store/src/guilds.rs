//! Guilds: creation (which costs gold), ranks with permission bits, invitations, joining, leaving,
//! kicks, promotions, handing over leadership and disbanding.
//!
//! Every transaction that changes membership locks the characters involved first (ascending ids,
//! one call), then the guild row `FOR UPDATE`, and reads membership only after that lock, so the
//! member limit and the one-leader rule hold under concurrency.

mod ops;

use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::tx::in_tx;
use crate::Store;
use ops::*;
use realmkeep_domain::limits::GUILD_MEMBERS_MAX;
use realmkeep_domain::{Actor, CharacterId, GuildId, GuildName};
use serde::{Deserialize, Serialize};

/// What a rank may do: a bit set stored in `guild_ranks.permissions`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Permissions(u32);

impl Permissions {
    pub const NONE: Permissions = Permissions(0);
    pub const INVITE: Permissions = Permissions(1 << 0);
    pub const KICK: Permissions = Permissions(1 << 1);
    pub const PROMOTE: Permissions = Permissions(1 << 2);
    pub const EDIT_SETTINGS: Permissions = Permissions(1 << 3);
    /// Only the leader disbands, whatever the bits of other ranks say.
    pub const DISBAND: Permissions = Permissions(1 << 4);
    pub const ALL: Permissions = Permissions(0b1_1111);

    /// The bits, or `None` if any bit is not a known permission.
    pub fn from_bits(bits: u32) -> Option<Self> {
        (bits & !Self::ALL.0 == 0).then_some(Self(bits))
    }
    pub fn bits(self) -> u32 {
        self.0
    }
    pub fn contains(self, other: Permissions) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for Permissions {
    type Output = Permissions;
    fn bitor(self, rhs: Permissions) -> Permissions {
        Permissions(self.0 | rhs.0)
    }
}

/// A rank number: 0 is the leader's, larger numbers are lower ranks.
pub type Rank = i16;
/// The leader's rank, and the rank a former leader steps down to.
pub const RANK_LEADER: Rank = 0;
pub const RANK_OFFICER: Rank = 1;
/// The highest rank number the schema allows.
pub const RANK_LOWEST_MAX: Rank = 9;
/// Longest rank name.
pub const RANK_NAME_CHARS_MAX: usize = 24;

/// The ranks every new guild starts with. New members join at the lowest (largest number).
pub const DEFAULT_RANKS: [(Rank, &str, Permissions); 4] = [
    (RANK_LEADER, "Leader", Permissions::ALL),
    (
        RANK_OFFICER,
        "Officer",
        Permissions(Permissions::INVITE.0 | Permissions::KICK.0 | Permissions::PROMOTE.0),
    ),
    (2, "Member", Permissions::NONE),
    (3, "Recruit", Permissions::NONE),
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildRank {
    pub rank: Rank,
    pub name: String,
    pub permissions: Permissions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuildInfo {
    pub id: GuildId,
    pub name: String,
    pub leader: CharacterId,
    /// Members by rank, then name.
    pub members: Vec<(CharacterId, String, Rank)>,
    pub ranks: Vec<GuildRank>,
}

fn check_rank(rank: Rank) -> StoreResult<()> {
    if !(RANK_LEADER..=RANK_LOWEST_MAX).contains(&rank) {
        refuse!(Refusal::Invalid(format!(
            "a rank is {RANK_LEADER} to {RANK_LOWEST_MAX}"
        )));
    }
    Ok(())
}

/// A guild founded: its id and the founder's purse after paying `GUILD_CREATE_COST_GOLD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Founded {
    pub guild: GuildId,
    pub gold_after: i64,
}

impl Store {
    /// Founds a guild for `GUILD_CREATE_COST_GOLD` (the gold leaves the economy). The founder
    /// must be in no guild and becomes its leader. Names are unique without regard to case.
    pub async fn create_guild(&self, actor: Actor, name: &GuildName) -> StoreResult<GuildId> {
        let founded = in_tx!(self.conns(), |tx| create_guild_in(tx, actor, name))?;
        Ok(founded.guild)
    }

    /// `create_guild` under an idempotency key (`action_keys`): answers the founder's purse after.
    pub async fn create_guild_keyed(
        &self,
        actor: Actor,
        name: &GuildName,
        key: &str,
    ) -> StoreResult<Founded> {
        crate::action_keys::check_key(key)?;
        in_tx!(self.conns(), |tx| async move {
            let founded = create_guild_in(tx, actor, name).await?;
            crate::action_keys::keep_in(tx, key, &founded).await?;
            Ok(founded)
        })
    }

    /// Invites `who` (in no guild) to the actor's guild, for `GUILD_INVITE_HOURS`. Needs INVITE.
    pub async fn invite(&self, actor: Actor, guild: GuildId, who: CharacterId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| invite_in(tx, actor, guild, who))
    }

    /// Joins a guild whose invite has not expired, at its lowest rank, while it has fewer than
    /// `GUILD_MEMBERS_MAX` members. The character's other invites are dropped.
    pub async fn accept_invite(&self, actor: Actor, guild: GuildId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| accept_invite_in(tx, actor, guild))
    }

    pub async fn decline_invite(&self, actor: Actor, guild: GuildId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| decline_invite_in(tx, actor, guild))
    }

    /// Leaves the guild. The leader may leave only as its last member, which disbands it.
    pub async fn leave(&self, actor: Actor) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| leave_in(tx, actor))
    }

    /// Removes a member of a strictly lower rank. Needs KICK.
    pub async fn kick(&self, actor: Actor, who: CharacterId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| kick_in(tx, actor, who))
    }

    /// Moves a member of a lower rank to another rank below the actor's own. Needs PROMOTE. Rank
    /// 0 is given only by `hand_over_leadership`.
    pub async fn set_rank(&self, actor: Actor, who: CharacterId, rank: Rank) -> StoreResult<()> {
        check_rank(rank)?;
        if rank == RANK_LEADER {
            refuse!(Refusal::NotAllowed(
                "the leader's rank is given only by handing over leadership"
            ));
        }
        in_tx!(self.conns(), |tx| set_rank_in(tx, actor, who, rank))
    }

    /// Names a rank and sets what it may do (creating the rank if the guild lacks it). Leader
    /// only; the leader's rank keeps every permission.
    pub async fn set_rank_permissions(
        &self,
        actor: Actor,
        rank: Rank,
        name: &str,
        permissions: Permissions,
    ) -> StoreResult<()> {
        check_rank(rank)?;
        let name = name.trim();
        let n = name.chars().count();
        if n == 0 || n > RANK_NAME_CHARS_MAX || name.chars().any(char::is_control) {
            refuse!(Refusal::Invalid(format!(
                "a rank name is 1 to {RANK_NAME_CHARS_MAX} printable characters"
            )));
        }
        if Permissions::from_bits(permissions.0).is_none() {
            refuse!(Refusal::Invalid("unknown permission bits".into()));
        }
        if rank == RANK_LEADER && permissions != Permissions::ALL {
            refuse!(Refusal::Invalid(
                "the leader's rank keeps every permission".into()
            ));
        }
        in_tx!(self.conns(), |tx| set_rank_permissions_in(
            tx,
            actor,
            rank,
            name,
            permissions
        ))
    }

    /// Makes another member the leader; the old leader becomes an officer (rank 1).
    pub async fn hand_over_leadership(&self, actor: Actor, to: CharacterId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| hand_over_in(tx, actor, to))
    }

    /// Deletes the guild with its invites, members and ranks. Leader only.
    pub async fn disband(&self, actor: Actor) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| disband_in(tx, actor))
    }

    pub async fn guild_info(&self, guild: GuildId) -> StoreResult<GuildInfo> {
        let head: Option<(String, i64)> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT name, leader_character_id FROM guilds WHERE id = $1"
        )
        .bind(guild.0)
        .fetch_optional(conn))
        .map_err(db("guild"))?;
        let Some((name, leader)) = head else {
            refuse!(Refusal::NotFound("guild"))
        };
        let members: Vec<(i64, String, Rank)> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT c.id, c.name, m.rank FROM guild_members m JOIN characters c ON c.id = m.character_id
             WHERE m.guild_id = $1 ORDER BY m.rank, lower(c.name) LIMIT $2",
        )
        .bind(guild.0)
        .bind(GUILD_MEMBERS_MAX)
        .fetch_all(conn))
        .map_err(db("guild members"))?;
        let ranks: Vec<(Rank, String, i32)> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT rank, name, permissions FROM guild_ranks WHERE guild_id = $1 ORDER BY rank",
        )
        .bind(guild.0)
        .fetch_all(conn))
        .map_err(db("guild ranks"))?;
        Ok(GuildInfo {
            id: guild,
            name,
            leader: CharacterId(leader),
            members: members
                .into_iter()
                .map(|(id, n, r)| (CharacterId(id), n, r))
                .collect(),
            ranks: ranks
                .into_iter()
                .map(|(rank, name, p)| GuildRank {
                    rank,
                    name,
                    permissions: Permissions(p as u32 & Permissions::ALL.0),
                })
                .collect(),
        })
    }

    /// The guild whose wars `character` may declare and end against `other`: its own, if it is
    /// that guild's leader or an officer (rank at most `RANK_OFFICER`), `other` exists and is
    /// another guild. A read: the war itself lives in Redis (`guild_war:{guild1}:{guild2}`).
    pub async fn war_authority(
        &self,
        character: CharacterId,
        other: GuildId,
    ) -> StoreResult<GuildId> {
        let row: Option<(i64, Rank, bool)> = on_conn!(self.conns(), |conn| sqlx::query_as(
            "SELECT m.guild_id, m.rank, EXISTS (SELECT 1 FROM guilds g WHERE g.id = $2)
             FROM guild_members m WHERE m.character_id = $1",
        )
        .bind(character.0)
        .bind(other.0)
        .fetch_optional(conn))
        .map_err(db("war authority"))?;
        let Some((mine, rank, exists)) = row else {
            refuse!(Refusal::NotAllowed("only a guild's members wage its wars"))
        };
        if rank > RANK_OFFICER {
            refuse!(Refusal::NotAllowed(
                "only a guild's leader and officers declare or end its wars"
            ));
        }
        if mine == other.0 {
            refuse!(Refusal::Invalid(
                "a guild cannot be at war with itself".into()
            ));
        }
        if !exists {
            refuse!(Refusal::NotFound("guild"));
        }
        Ok(GuildId(mine))
    }

    pub async fn guild_of(&self, character: CharacterId) -> StoreResult<Option<GuildId>> {
        let g: Option<i64> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT guild_id FROM guild_members WHERE character_id = $1"
        )
        .bind(character.0)
        .fetch_optional(conn))
        .map_err(db("guild of character"))?;
        Ok(g.map(GuildId))
    }
}
