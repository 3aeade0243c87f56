//! Guilds: founding, invitations, ranks and permissions, leaving, kicks, leadership, disbanding,
//! and the member limit under concurrent joins, against the real private PostgreSQL.

mod support;

use realmkeep_domain::limits::{GUILD_CREATE_COST_GOLD, GUILD_MEMBERS_MAX};
use realmkeep_domain::*;
use realmkeep_store::guilds::{Permissions, DEFAULT_RANKS};
use realmkeep_store::{Refusal, Store, StoreError};
use realmkeep_testkit::fresh_db;
use std::sync::Arc;
use std::time::Duration;
use support::*;
use tokio::sync::Barrier;

fn not_allowed<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    matches!(refusal(r), Refusal::NotAllowed(_))
}

async fn count(s: &Store, sql: impl sqlx::SqlSafeStr) -> i64 {
    sqlx::query_scalar(sql).fetch_one(s.pool()).await.unwrap()
}

/// A character with gold enough to found a guild.
async fn rich(s: &Store, name: &str) -> CharacterId {
    let c = character(s, name).await;
    set_gold(s, c, GUILD_CREATE_COST_GOLD + 500).await;
    c
}

async fn guild_name(name: &str) -> GuildName {
    GuildName::parse(name).unwrap()
}

/// A guild founded by a new character `leader`.
async fn founded(s: &Store, leader: &str, name: &str) -> (CharacterId, GuildId) {
    let c = rich(s, leader).await;
    let g = s
        .create_guild(off(c), &guild_name(name).await)
        .await
        .unwrap();
    (c, g)
}

async fn join(s: &Store, inviter: CharacterId, g: GuildId, who: CharacterId) {
    s.invite(off(inviter), g, who).await.unwrap();
    s.accept_invite(off(who), g).await.unwrap();
}

async fn rank_of(s: &Store, g: GuildId, c: CharacterId) -> Option<i16> {
    let info = s.guild_info(g).await.unwrap();
    info.members.iter().find(|m| m.0 == c).map(|m| m.2)
}

/// Many characters at once, by SQL (test setup only): `n` accounts with one character each.
async fn bulk_characters(s: &Store, prefix: &str, n: i32) -> Vec<CharacterId> {
    let ids: Vec<i64> = sqlx::query_scalar(
        "WITH a AS (
             INSERT INTO accounts (username, email, password_hash)
             SELECT $1 || g, $1 || g || '@example.test', 'x' FROM generate_series(1, $2) g
             RETURNING id, username)
         INSERT INTO characters (account_id, name, class, kingdom, strength, agility, intellect,
                                 stamina, health, mana, zone_id)
         SELECT id, username, 'warrior', 'aldor', 12, 8, 4, 12, 100, 50, 1 FROM a RETURNING id",
    )
    .bind(prefix)
    .bind(n)
    .fetch_all(s.pool())
    .await
    .unwrap();
    ids.into_iter().map(CharacterId).collect()
}

#[tokio::test]
async fn founding_a_guild_costs_gold_and_takes_a_unique_name() {
    let db = fresh_db().await;
    let s = &db.store;
    let poor = character(s, "Poor").await;
    let name = guild_name("Iron Wolves").await;
    assert_eq!(
        refusal(s.create_guild(off(poor), &name).await),
        Refusal::NotEnoughGold
    );
    assert_eq!(gold(s, poor).await, 100);
    assert_eq!(row_count(s, "guilds").await, 0);

    let world_gold = total_gold(s).await;
    let ann = rich(s, "Ann").await;
    let world_gold = world_gold + gold(s, ann).await;
    let g = s.create_guild(off(ann), &name).await.unwrap();
    assert_eq!(gold(s, ann).await, 500);
    assert_eq!(
        total_gold(s).await,
        world_gold - GUILD_CREATE_COST_GOLD,
        "the fee leaves the economy"
    );
    let info = s.guild_info(g).await.unwrap();
    assert_eq!(info.name, "Iron Wolves");
    assert_eq!(info.leader, ann);
    assert_eq!(info.members, vec![(ann, "Ann".to_string(), 0)]);
    assert_eq!(info.ranks.len(), DEFAULT_RANKS.len());
    assert_eq!(info.ranks[0].permissions, Permissions::ALL);
    assert!(info.ranks[1].permissions.contains(Permissions::KICK));
    assert!(!info.ranks[1].permissions.contains(Permissions::DISBAND));
    assert_eq!(info.ranks[3].name, "Recruit");
    assert_eq!(s.guild_of(ann).await.unwrap(), Some(g));
    assert_eq!(log_count(s, "guild_created").await, 1);

    assert!(not_allowed(
        s.create_guild(off(ann), &guild_name("Second").await).await
    ));
    let bob = rich(s, "Bob").await;
    assert_eq!(
        refusal(
            s.create_guild(off(bob), &guild_name("iron WOLVES").await)
                .await
        ),
        Refusal::NameTaken
    );
    assert_eq!(gold(s, bob).await, GUILD_CREATE_COST_GOLD + 500);
    assert_eq!(gold(s, ann).await, 500);
    assert_eq!(row_count(s, "guilds").await, 1);
    assert_eq!(s.guild_of(bob).await.unwrap(), None);
    assert_eq!(
        refusal(s.guild_info(GuildId(999_999)).await),
        Refusal::NotFound("guild")
    );
}

#[tokio::test]
async fn invitations_are_needed_checked_and_expire() {
    let db = fresh_db().await;
    let s = &db.store;
    let (ann, g) = founded(s, "Ann", "Dawn Riders").await;
    let bob = character(s, "Bob").await;
    let cat = character(s, "Cat").await;

    assert_eq!(
        refusal(s.accept_invite(off(bob), g).await),
        Refusal::NotFound("guild invite")
    );
    assert!(matches!(
        refusal(s.invite(off(ann), g, ann).await),
        Refusal::Invalid(_)
    ));
    assert!(
        not_allowed(s.invite(off(bob), g, cat).await),
        "not a member"
    );
    s.invite(off(ann), g, bob).await.unwrap();
    s.accept_invite(off(bob), g).await.unwrap();
    assert_eq!(
        rank_of(s, g, bob).await,
        Some(3),
        "joins at the lowest rank"
    );
    assert_eq!(
        row_count(s, "guild_invites").await,
        0,
        "the invite is used up"
    );
    assert!(
        not_allowed(s.invite(off(bob), g, cat).await),
        "a recruit may not invite"
    );
    assert!(
        not_allowed(s.invite(off(ann), g, bob).await),
        "already in a guild"
    );

    // Another guild's member cannot accept; an expired invite is gone; a declined one too.
    let (dan, g2) = founded(s, "Dan", "Night Owls").await;
    s.invite(off(dan), g2, cat).await.unwrap();
    s.invite(off(ann), g, cat).await.unwrap();
    sqlx::query(
        "UPDATE guild_invites SET expires_at = now() - interval '1 second' WHERE guild_id = $1",
    )
    .bind(g.0)
    .execute(s.pool())
    .await
    .unwrap();
    assert_eq!(
        refusal(s.accept_invite(off(cat), g).await),
        Refusal::NotFound("guild invite")
    );
    s.decline_invite(off(cat), g2).await.unwrap();
    assert_eq!(
        refusal(s.decline_invite(off(cat), g2).await),
        Refusal::NotFound("guild invite")
    );
    assert_eq!(
        refusal(s.accept_invite(off(cat), g2).await),
        Refusal::NotFound("guild invite")
    );
    assert_eq!(s.guild_of(cat).await.unwrap(), None);

    // A member of one guild cannot join another while in the first.
    s.invite(off(dan), g2, cat).await.unwrap();
    s.accept_invite(off(cat), g2).await.unwrap();
    assert!(not_allowed(s.accept_invite(off(bob), g2).await));
    assert_eq!(
        refusal(s.accept_invite(off(bob), GuildId(999_999)).await),
        Refusal::NotAllowed("the character is already in a guild")
    );
    assert_eq!(log_count(s, "guild_joined").await, 2);
}

#[tokio::test]
async fn ranks_govern_kicks_and_promotions() {
    let db = fresh_db().await;
    let s = &db.store;
    let (ann, g) = founded(s, "Ann", "Stone Hand").await;
    let bob = character(s, "Bob").await;
    let cat = character(s, "Cat").await;
    let dan = character(s, "Dan").await;
    for c in [bob, cat, dan] {
        join(s, ann, g, c).await;
    }

    assert_eq!(
        refusal(s.set_rank(off(ann), bob, 0).await),
        Refusal::NotAllowed("the leader's rank is given only by handing over leadership")
    );
    assert!(matches!(
        refusal(s.set_rank(off(ann), bob, 10).await),
        Refusal::Invalid(_)
    ));
    assert_eq!(
        refusal(s.set_rank(off(ann), bob, 7).await),
        Refusal::NotFound("guild rank")
    );
    assert!(
        not_allowed(s.set_rank(off(cat), dan, 3).await),
        "no PROMOTE"
    );
    s.set_rank(off(ann), bob, 1).await.unwrap();
    assert_eq!(rank_of(s, g, bob).await, Some(1));

    // The officer promotes below its own rank only, and never its peers or superiors.
    assert!(not_allowed(s.set_rank(off(bob), cat, 1).await));
    s.set_rank(off(bob), cat, 2).await.unwrap();
    assert_eq!(rank_of(s, g, cat).await, Some(2));
    assert!(not_allowed(s.set_rank(off(bob), ann, 2).await));

    // Kicks: KICK and a strictly higher rank.
    assert!(not_allowed(s.kick(off(cat), dan).await), "no KICK");
    assert!(
        not_allowed(s.kick(off(bob), ann).await),
        "the leader outranks"
    );
    s.set_rank(off(ann), cat, 1).await.unwrap();
    assert!(not_allowed(s.kick(off(bob), cat).await), "a peer");
    s.kick(off(bob), dan).await.unwrap();
    assert_eq!(s.guild_of(dan).await.unwrap(), None);
    assert_eq!(
        refusal(s.kick(off(bob), dan).await),
        Refusal::NotFound("guild member")
    );
    assert!(not_allowed(s.kick(off(dan), bob).await), "not in a guild");
    s.kick(off(ann), bob).await.unwrap();
    assert_eq!(s.guild_info(g).await.unwrap().members.len(), 2);
    assert_eq!(log_count(s, "guild_kick").await, 2);
    assert_eq!(log_count(s, "guild_rank_set").await, 3);
}

#[tokio::test]
async fn the_leader_edits_ranks_and_their_permissions() {
    let db = fresh_db().await;
    let s = &db.store;
    let (ann, g) = founded(s, "Ann", "Green Vale").await;
    let bob = character(s, "Bob").await;
    let cat = character(s, "Cat").await;
    join(s, ann, g, bob).await;
    s.set_rank(off(ann), bob, 2).await.unwrap();
    assert!(not_allowed(s.invite(off(bob), g, cat).await));

    assert!(not_allowed(
        s.set_rank_permissions(off(bob), 2, "Member", Permissions::INVITE)
            .await
    ));
    for (rank, name, perms) in [
        (0, "Leader", Permissions::INVITE),
        (10, "Ten", Permissions::NONE),
        (2, "  ", Permissions::NONE),
        (2, "a name far too long for a rank", Permissions::NONE),
    ] {
        assert!(matches!(
            refusal(s.set_rank_permissions(off(ann), rank, name, perms).await),
            Refusal::Invalid(_)
        ));
    }
    assert_eq!(Permissions::from_bits(1 << 9), None);
    s.set_rank_permissions(off(ann), 2, "Veteran", Permissions::INVITE)
        .await
        .unwrap();
    s.invite(off(bob), g, cat).await.unwrap();
    let info = s.guild_info(g).await.unwrap();
    assert_eq!(info.ranks[2].name, "Veteran");
    assert_eq!(info.ranks[2].permissions, Permissions::INVITE);

    // A new lowest rank becomes where newcomers join.
    s.set_rank_permissions(off(ann), 5, "Probation", Permissions::NONE)
        .await
        .unwrap();
    s.accept_invite(off(cat), g).await.unwrap();
    assert_eq!(rank_of(s, g, cat).await, Some(5));
    s.set_rank_permissions(off(ann), 0, "Warlord", Permissions::ALL)
        .await
        .unwrap();
    assert_eq!(s.guild_info(g).await.unwrap().ranks[0].name, "Warlord");
}

#[tokio::test]
async fn leadership_leaving_and_disbanding() {
    let db = fresh_db().await;
    let s = &db.store;
    let (ann, g) = founded(s, "Ann", "Old Crown").await;
    let bob = character(s, "Bob").await;
    let cat = character(s, "Cat").await;
    join(s, ann, g, bob).await;

    assert!(
        not_allowed(s.leave(off(ann)).await),
        "the leader hands over first"
    );
    assert!(not_allowed(s.hand_over_leadership(off(bob), ann).await));
    assert_eq!(
        refusal(s.hand_over_leadership(off(ann), cat).await),
        Refusal::NotFound("guild member")
    );
    s.hand_over_leadership(off(ann), bob).await.unwrap();
    let info = s.guild_info(g).await.unwrap();
    assert_eq!(info.leader, bob);
    assert_eq!(rank_of(s, g, bob).await, Some(0));
    assert_eq!(rank_of(s, g, ann).await, Some(1));
    assert!(not_allowed(s.disband(off(ann)).await), "only the leader");

    s.leave(off(ann)).await.unwrap();
    assert_eq!(s.guild_of(ann).await.unwrap(), None);
    assert!(not_allowed(s.leave(off(ann)).await), "not in a guild");

    // The last member leaving disbands the guild.
    s.leave(off(bob)).await.unwrap();
    assert_eq!(refusal(s.guild_info(g).await), Refusal::NotFound("guild"));
    assert_eq!(row_count(s, "guild_ranks").await, 0);

    // Disbanding removes members, ranks and invites.
    let (dan, g2) = founded(s, "Dan", "Last Light").await;
    join(s, dan, g2, ann).await;
    s.invite(off(dan), g2, cat).await.unwrap();
    s.disband(off(dan)).await.unwrap();
    for table in ["guilds", "guild_ranks", "guild_members", "guild_invites"] {
        assert_eq!(row_count(s, table).await, 0, "{table} emptied");
    }
    assert_eq!(s.guild_of(ann).await.unwrap(), None);
    assert_eq!(log_count(s, "guild_disbanded").await, 2);
    assert_eq!(log_count(s, "guild_leader_changed").await, 1);
}

#[tokio::test]
async fn guild_actions_are_fenced_by_the_claim() {
    let db = fresh_db().await;
    let s = &db.store;
    let ann = rich(s, "Ann").await;
    let fence = s
        .claim(ann, "zone-a", Duration::from_secs(30))
        .await
        .unwrap();
    sqlx::query("UPDATE characters SET claim_epoch = claim_epoch + 1 WHERE id = $1")
        .bind(ann.0)
        .execute(s.pool())
        .await
        .unwrap();
    let name = guild_name("Stale Hands").await;
    assert_eq!(
        refusal(s.create_guild(Actor::Zone(fence), &name).await),
        Refusal::StaleClaim
    );
    assert_eq!(gold(s, ann).await, GUILD_CREATE_COST_GOLD + 500);
    assert_eq!(row_count(s, "guilds").await, 0);
    assert_eq!(
        refusal(s.create_guild(off(ann), &name).await),
        Refusal::ClaimHeld
    );
}

/// Characters racing for the last place of a guild (fewer than the pool's connections), and how
/// many times they race: each race may or may not overlap, several make a lost limit show.
const RACERS: usize = 12;
const RACES: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn racing_joins_never_pass_the_member_limit() {
    let db = fresh_db().await;
    let s = &db.store;
    let (ann, g) = founded(s, "Ann", "Full House").await;
    // Fill the guild to one below its limit directly.
    let fillers = bulk_characters(s, "filler", GUILD_MEMBERS_MAX as i32 - 2).await;
    let ids: Vec<i64> = fillers.iter().map(|c| c.0).collect();
    sqlx::query(
        "INSERT INTO guild_members (character_id, guild_id, rank)
         SELECT id, $2, 3 FROM UNNEST($1::int8[]) id",
    )
    .bind(&ids)
    .bind(g.0)
    .execute(s.pool())
    .await
    .unwrap();
    let members_sql = format!(
        "SELECT count(*) FROM guild_members WHERE guild_id = {}",
        g.0
    );

    for race in 0..RACES {
        assert_eq!(
            count(s, sqlx::AssertSqlSafe(members_sql.as_str())).await,
            GUILD_MEMBERS_MAX - 1
        );
        let racers = bulk_characters(s, &format!("racer{race}x"), RACERS as i32).await;
        for r in &racers {
            s.invite(off(ann), g, *r).await.unwrap();
        }
        // Open the pool's connections first and start every racer at once, so joins overlap.
        let warm: Vec<_> = (0..RACERS)
            .map(|_| sqlx::query("SELECT pg_sleep(0.05)").execute(s.pool()))
            .collect();
        for w in futures::future::join_all(warm).await {
            w.unwrap();
        }
        let start = Arc::new(Barrier::new(RACERS));
        let mut tasks = Vec::new();
        for r in racers {
            let s = s.clone();
            let start = start.clone();
            tasks.push(tokio::spawn(async move {
                start.wait().await;
                (r, s.accept_invite(off(r), g).await)
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                (r, Ok(())) => winners.push(r),
                (_, Err(e)) => {
                    assert_eq!(e.refusal(), Some(&Refusal::LimitReached("guild members")))
                }
            }
        }
        assert_eq!(winners.len(), 1, "exactly one took the last place");
        assert_eq!(
            count(s, sqlx::AssertSqlSafe(members_sql.as_str())).await,
            GUILD_MEMBERS_MAX
        );
        // A full guild refuses new invitations too.
        let late = bulk_characters(s, &format!("late{race}x"), 1).await[0];
        assert_eq!(
            refusal(s.invite(off(ann), g, late).await),
            Refusal::LimitReached("guild members")
        );
        s.leave(off(winners[0])).await.unwrap();
    }
}
