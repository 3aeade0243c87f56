//! The transaction bodies of the guild operations (run, and re-run on a serialization failure, by
//! `in_tx!` in the parent module) and the membership reads they share.

use super::Founded;
use super::{Permissions, Rank, DEFAULT_RANKS, RANK_LEADER, RANK_OFFICER};
use crate::common::{add_gold, check_actor, lock_actor, lock_characters};
use crate::error::{db, refuse, unique_violation, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use realmkeep_domain::limits::{GUILD_CREATE_COST_GOLD, GUILD_INVITE_HOURS, GUILD_MEMBERS_MAX};
use realmkeep_domain::{Actor, CharacterId, GuildId, GuildName};
use sqlx::PgConnection;

/// A character's place in its guild, read after the guild row was locked.
#[derive(Debug, sqlx::FromRow)]
struct Member {
    guild_id: i64,
    rank: Rank,
    leader_character_id: i64,
    permissions: i32,
}

impl Member {
    fn is_leader(&self, c: CharacterId) -> bool {
        self.leader_character_id == c.0
    }
    fn may(&self, c: CharacterId, p: Permissions) -> bool {
        self.is_leader(c) || Permissions(self.permissions as u32).contains(p)
    }
}

async fn member_row(tx: &mut PgConnection, c: CharacterId) -> StoreResult<Option<Member>> {
    sqlx::query_as(
        "SELECT m.guild_id, m.rank, g.leader_character_id, r.permissions
         FROM guild_members m JOIN guilds g ON g.id = m.guild_id
              JOIN guild_ranks r ON r.guild_id = m.guild_id AND r.rank = m.rank
         WHERE m.character_id = $1",
    )
    .bind(c.0)
    .fetch_optional(&mut *tx)
    .await
    .map_err(db("guild member"))
}

async fn lock_guild(tx: &mut PgConnection, guild: GuildId) -> StoreResult<bool> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM guilds WHERE id = $1 FOR UPDATE")
        .bind(guild.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db("lock guild"))?;
    Ok(found.is_some())
}

/// Locks the guild of `c` (whose row the caller has locked) and returns `c`'s membership, read
/// after the lock. Refused with `NotAllowed` if `c` is in no guild.
async fn lock_own_guild(tx: &mut PgConnection, c: CharacterId) -> StoreResult<Member> {
    let guild: Option<i64> =
        sqlx::query_scalar("SELECT guild_id FROM guild_members WHERE character_id = $1")
            .bind(c.0)
            .fetch_optional(&mut *tx)
            .await
            .map_err(db("guild of character"))?;
    if let Some(g) = guild {
        if lock_guild(tx, GuildId(g)).await? {
            // Only a disband can have changed the membership of a locked character meanwhile.
            if let Some(m) = member_row(tx, c).await? {
                if m.guild_id == g {
                    return Ok(m);
                }
            }
        }
    }
    refuse!(Refusal::NotAllowed("the character is not in a guild"))
}

/// The membership of `other` in `guild` (already locked), or `NotFound`.
async fn member_of(tx: &mut PgConnection, other: CharacterId, guild: i64) -> StoreResult<Member> {
    match member_row(tx, other).await? {
        Some(m) if m.guild_id == guild => Ok(m),
        _ => refuse!(Refusal::NotFound("guild member")),
    }
}

async fn in_a_guild(tx: &mut PgConnection, c: CharacterId) -> StoreResult<bool> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM guild_members WHERE character_id = $1)")
        .bind(c.0)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("guild membership"))
}

async fn member_count(tx: &mut PgConnection, guild: i64) -> StoreResult<i64> {
    sqlx::query_scalar("SELECT count(*) FROM guild_members WHERE guild_id = $1")
        .bind(guild)
        .fetch_one(&mut *tx)
        .await
        .map_err(db("count guild members"))
}

/// Locks `actor` and `other` in one call and checks the actor's right to act.
async fn lock_pair(tx: &mut PgConnection, actor: &Actor, other: CharacterId) -> StoreResult<()> {
    let me = actor.character();
    if me == other {
        refuse!(Refusal::Invalid("that cannot be done to oneself".into()));
    }
    let rows = lock_characters(tx, &[me, other]).await?;
    let row = rows
        .iter()
        .find(|r| r.id == me.0)
        .expect("lock_characters returns every character asked for");
    check_actor(row, actor)
}

fn log(kind: &str, actor: CharacterId, guild: i64) -> LogEvent {
    LogEvent::new(kind)
        .actor(actor.0)
        .details(serde_json::json!({ "guild_id": guild }))
}

async fn delete_guild(tx: &mut PgConnection, guild: i64) -> StoreResult<()> {
    // Invites, members and ranks go with it (ON DELETE CASCADE).
    sqlx::query("DELETE FROM guilds WHERE id = $1")
        .bind(guild)
        .execute(&mut *tx)
        .await
        .map_err(db("delete guild"))?;
    Ok(())
}

pub(super) async fn create_guild_in(
    tx: &mut PgConnection,
    actor: Actor,
    name: &GuildName,
) -> StoreResult<Founded> {
    let me = actor.character();
    lock_actor(tx, &actor).await?;
    if in_a_guild(tx, me).await? {
        refuse!(Refusal::NotAllowed("the character is already in a guild"));
    }
    let taken: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM guilds WHERE lower(name) = lower($1))")
            .bind(name.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db("guild name"))?;
    if taken {
        refuse!(Refusal::NameTaken);
    }
    let gold_after = add_gold(tx, me, -GUILD_CREATE_COST_GOLD).await?;
    let r = sqlx::query_scalar(
        "INSERT INTO guilds (name, leader_character_id) VALUES ($1, $2) RETURNING id",
    )
    .bind(name.as_str())
    .bind(me.0)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match r {
        Ok(id) => id,
        Err(e) if unique_violation(&e).as_deref() == Some("guilds_name_lower") => {
            refuse!(Refusal::NameTaken)
        }
        Err(e) => return Err(db("create guild")(e)),
    };
    let ranks: Vec<i16> = DEFAULT_RANKS.iter().map(|r| r.0).collect();
    let names: Vec<&str> = DEFAULT_RANKS.iter().map(|r| r.1).collect();
    let perms: Vec<i32> = DEFAULT_RANKS.iter().map(|r| r.2 .0 as i32).collect();
    sqlx::query(
        "INSERT INTO guild_ranks (guild_id, rank, name, permissions)
         SELECT $1, t.rank, t.name, t.permissions
         FROM UNNEST($2::int2[], $3::text[], $4::int4[]) AS t(rank, name, permissions)",
    )
    .bind(id)
    .bind(&ranks)
    .bind(&names)
    .bind(&perms)
    .execute(&mut *tx)
    .await
    .map_err(db("create guild ranks"))?;
    sqlx::query("INSERT INTO guild_members (character_id, guild_id, rank) VALUES ($1, $2, $3)")
        .bind(me.0)
        .bind(id)
        .bind(RANK_LEADER)
        .execute(&mut *tx)
        .await
        .map_err(db("guild leader"))?;
    // A founder is in a guild now: the invitations it had are moot.
    sqlx::query("DELETE FROM guild_invites WHERE character_id = $1")
        .bind(me.0)
        .execute(&mut *tx)
        .await
        .map_err(db("drop invites"))?;
    write_in_tx(
        tx,
        // The cost leaves the economy: it is paid to no one.
        &[LogEvent::new("guild_created")
            .actor(me.0)
            .gold(GUILD_CREATE_COST_GOLD)
            .details(serde_json::json!({ "guild_id": id, "name": name.as_str(),
                                         "gold_destroyed": GUILD_CREATE_COST_GOLD }))],
    )
    .await?;
    Ok(Founded {
        guild: GuildId(id),
        gold_after,
    })
}

pub(super) async fn invite_in(
    tx: &mut PgConnection,
    actor: Actor,
    guild: GuildId,
    who: CharacterId,
) -> StoreResult<()> {
    let me = actor.character();
    lock_pair(tx, &actor, who).await?;
    let m = lock_own_guild(tx, me).await?;
    if m.guild_id != guild.0 {
        refuse!(Refusal::NotAllowed("the character is not in that guild"));
    }
    if !m.may(me, Permissions::INVITE) {
        refuse!(Refusal::NotAllowed("the rank may not invite"));
    }
    if in_a_guild(tx, who).await? {
        refuse!(Refusal::NotAllowed("the character is already in a guild"));
    }
    if member_count(tx, guild.0).await? >= GUILD_MEMBERS_MAX {
        refuse!(Refusal::LimitReached("guild members"));
    }
    sqlx::query(
        "INSERT INTO guild_invites (guild_id, character_id, invited_by, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))
         ON CONFLICT (guild_id, character_id)
         DO UPDATE SET invited_by = EXCLUDED.invited_by, expires_at = EXCLUDED.expires_at",
    )
    .bind(guild.0)
    .bind(who.0)
    .bind(me.0)
    .bind(GUILD_INVITE_HOURS as i32)
    .execute(&mut *tx)
    .await
    .map_err(db("guild invite"))?;
    write_in_tx(tx, &[log("guild_invite", me, guild.0).target(who.0)]).await
}

pub(super) async fn accept_invite_in(
    tx: &mut PgConnection,
    actor: Actor,
    guild: GuildId,
) -> StoreResult<()> {
    let me = actor.character();
    lock_actor(tx, &actor).await?;
    if in_a_guild(tx, me).await? {
        refuse!(Refusal::NotAllowed("the character is already in a guild"));
    }
    if !lock_guild(tx, guild).await? {
        refuse!(Refusal::NotFound("guild"));
    }
    let invited: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM guild_invites
                        WHERE guild_id = $1 AND character_id = $2 AND expires_at > now())",
    )
    .bind(guild.0)
    .bind(me.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("guild invite"))?;
    if !invited {
        refuse!(Refusal::NotFound("guild invite"));
    }
    if member_count(tx, guild.0).await? >= GUILD_MEMBERS_MAX {
        refuse!(Refusal::LimitReached("guild members"));
    }
    sqlx::query(
        "INSERT INTO guild_members (character_id, guild_id, rank)
         SELECT $1, $2, max(rank) FROM guild_ranks WHERE guild_id = $2",
    )
    .bind(me.0)
    .bind(guild.0)
    .execute(&mut *tx)
    .await
    .map_err(db("join guild"))?;
    sqlx::query("DELETE FROM guild_invites WHERE character_id = $1")
        .bind(me.0)
        .execute(&mut *tx)
        .await
        .map_err(db("drop invites"))?;
    write_in_tx(tx, &[log("guild_joined", me, guild.0)]).await
}

pub(super) async fn decline_invite_in(
    tx: &mut PgConnection,
    actor: Actor,
    guild: GuildId,
) -> StoreResult<()> {
    let me = actor.character();
    lock_actor(tx, &actor).await?;
    let n = sqlx::query("DELETE FROM guild_invites WHERE guild_id = $1 AND character_id = $2")
        .bind(guild.0)
        .bind(me.0)
        .execute(&mut *tx)
        .await
        .map_err(db("decline invite"))?
        .rows_affected();
    if n == 0 {
        refuse!(Refusal::NotFound("guild invite"));
    }
    write_in_tx(tx, &[log("guild_invite_declined", me, guild.0)]).await
}

pub(super) async fn leave_in(tx: &mut PgConnection, actor: Actor) -> StoreResult<()> {
    let me = actor.character();
    lock_actor(tx, &actor).await?;
    let m = lock_own_guild(tx, me).await?;
    if m.is_leader(me) {
        if member_count(tx, m.guild_id).await? > 1 {
            refuse!(Refusal::NotAllowed(
                "the leader must hand over leadership before leaving"
            ));
        }
        delete_guild(tx, m.guild_id).await?;
        return write_in_tx(tx, &[log("guild_disbanded", me, m.guild_id)]).await;
    }
    sqlx::query("DELETE FROM guild_members WHERE character_id = $1")
        .bind(me.0)
        .execute(&mut *tx)
        .await
        .map_err(db("leave guild"))?;
    write_in_tx(tx, &[log("guild_left", me, m.guild_id)]).await
}

pub(super) async fn kick_in(
    tx: &mut PgConnection,
    actor: Actor,
    who: CharacterId,
) -> StoreResult<()> {
    let me = actor.character();
    lock_pair(tx, &actor, who).await?;
    let m = lock_own_guild(tx, me).await?;
    let target = member_of(tx, who, m.guild_id).await?;
    if !m.may(me, Permissions::KICK) {
        refuse!(Refusal::NotAllowed("the rank may not kick"));
    }
    if m.rank >= target.rank {
        refuse!(Refusal::NotAllowed("only lower ranks can be kicked"));
    }
    sqlx::query("DELETE FROM guild_members WHERE character_id = $1")
        .bind(who.0)
        .execute(&mut *tx)
        .await
        .map_err(db("kick"))?;
    write_in_tx(tx, &[log("guild_kick", me, m.guild_id).target(who.0)]).await
}

pub(super) async fn set_rank_in(
    tx: &mut PgConnection,
    actor: Actor,
    who: CharacterId,
    rank: Rank,
) -> StoreResult<()> {
    let me = actor.character();
    lock_pair(tx, &actor, who).await?;
    let m = lock_own_guild(tx, me).await?;
    let target = member_of(tx, who, m.guild_id).await?;
    if !m.may(me, Permissions::PROMOTE) {
        refuse!(Refusal::NotAllowed("the rank may not promote"));
    }
    if rank <= m.rank || target.rank <= m.rank {
        refuse!(Refusal::NotAllowed(
            "only lower ranks can be changed, and only to ranks below one's own"
        ));
    }
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM guild_ranks WHERE guild_id = $1 AND rank = $2)",
    )
    .bind(m.guild_id)
    .bind(rank)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("guild rank"))?;
    if !exists {
        refuse!(Refusal::NotFound("guild rank"));
    }
    sqlx::query("UPDATE guild_members SET rank = $2 WHERE character_id = $1")
        .bind(who.0)
        .bind(rank)
        .execute(&mut *tx)
        .await
        .map_err(db("set rank"))?;
    let e = log("guild_rank_set", me, m.guild_id)
        .target(who.0)
        .details(serde_json::json!({ "guild_id": m.guild_id, "from": target.rank, "to": rank }));
    write_in_tx(tx, &[e]).await
}

pub(super) async fn set_rank_permissions_in(
    tx: &mut PgConnection,
    actor: Actor,
    rank: Rank,
    name: &str,
    permissions: Permissions,
) -> StoreResult<()> {
    let me = actor.character();
    lock_actor(tx, &actor).await?;
    let m = lock_own_guild(tx, me).await?;
    if !m.is_leader(me) {
        refuse!(Refusal::NotAllowed("only the leader edits ranks"));
    }
    sqlx::query(
        "INSERT INTO guild_ranks (guild_id, rank, name, permissions) VALUES ($1, $2, $3, $4)
         ON CONFLICT (guild_id, rank) DO UPDATE SET name = EXCLUDED.name,
             permissions = EXCLUDED.permissions",
    )
    .bind(m.guild_id)
    .bind(rank)
    .bind(name)
    .bind(permissions.0 as i32)
    .execute(&mut *tx)
    .await
    .map_err(db("edit guild rank"))?;
    let e = log("guild_rank_edited", me, m.guild_id).details(serde_json::json!({
        "guild_id": m.guild_id, "rank": rank, "name": name, "permissions": permissions.0,
    }));
    write_in_tx(tx, &[e]).await
}

pub(super) async fn hand_over_in(
    tx: &mut PgConnection,
    actor: Actor,
    to: CharacterId,
) -> StoreResult<()> {
    let me = actor.character();
    lock_pair(tx, &actor, to).await?;
    let m = lock_own_guild(tx, me).await?;
    if !m.is_leader(me) {
        refuse!(Refusal::NotAllowed("only the leader hands over leadership"));
    }
    member_of(tx, to, m.guild_id).await?;
    sqlx::query(
        "UPDATE guild_members SET rank = CASE WHEN character_id = $2 THEN $3 ELSE $4 END
         WHERE character_id IN ($1, $2)",
    )
    .bind(me.0)
    .bind(to.0)
    .bind(RANK_LEADER)
    .bind(RANK_OFFICER)
    .execute(&mut *tx)
    .await
    .map_err(db("hand over ranks"))?;
    sqlx::query("UPDATE guilds SET leader_character_id = $2 WHERE id = $1")
        .bind(m.guild_id)
        .bind(to.0)
        .execute(&mut *tx)
        .await
        .map_err(db("hand over leader"))?;
    write_in_tx(
        tx,
        &[log("guild_leader_changed", me, m.guild_id).target(to.0)],
    )
    .await
}

pub(super) async fn disband_in(tx: &mut PgConnection, actor: Actor) -> StoreResult<()> {
    let me = actor.character();
    lock_actor(tx, &actor).await?;
    let m = lock_own_guild(tx, me).await?;
    if !m.is_leader(me) {
        refuse!(Refusal::NotAllowed("only the leader disbands the guild"));
    }
    let members = member_count(tx, m.guild_id).await?;
    delete_guild(tx, m.guild_id).await?;
    let e = log("guild_disbanded", me, m.guild_id)
        .details(serde_json::json!({ "guild_id": m.guild_id, "members": members }));
    write_in_tx(tx, &[e]).await
}
