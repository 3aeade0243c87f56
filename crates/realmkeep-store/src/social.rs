//! Friends and blocks. `friendships` holds one row per direction: `(a, b, status)` says what `a`
//! holds about `b` — `requested` (a asked b), `pending` (b asked a and waits for a's answer),
//! `accepted`, or `blocked`. A block never reveals itself to the blocked character.

use crate::common::{check_actor, lock_characters};
use crate::conns::on_conn;
use crate::error::{db, refuse, Refusal, StoreResult};
use crate::logs::{write_in_tx, LogEvent};
use crate::tx::in_tx;
use crate::Store;
use realmkeep_domain::limits::FRIENDS_MAX;
use realmkeep_domain::{Actor, CharacterId};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

/// Characters one character may block.
pub const BLOCKED_MAX: i64 = 500;

/// What a character holds about another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FriendStatus {
    /// The character asked the other; no answer yet.
    Requested,
    /// The other asked the character, who has not answered.
    Pending,
    Accepted,
    Blocked,
}

impl FriendStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FriendStatus::Requested => "requested",
            FriendStatus::Pending => "pending",
            FriendStatus::Accepted => "accepted",
            FriendStatus::Blocked => "blocked",
        }
    }

    fn parse(s: &str) -> StoreResult<Self> {
        Ok(match s {
            "requested" => FriendStatus::Requested,
            "pending" => FriendStatus::Pending,
            "accepted" => FriendStatus::Accepted,
            "blocked" => FriendStatus::Blocked,
            other => {
                return Err(crate::StoreError::Io(format!(
                    "unknown friendship status {other:?}"
                )))
            }
        })
    }
}

/// One row of a friends list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Friend {
    pub id: CharacterId,
    pub name: String,
    pub status: FriendStatus,
}

/// Locks both characters in one call, checks the actor's right to act, and reads the two rows
/// between them: (what the actor holds about `other`, what `other` holds about the actor).
async fn lock_and_read(
    tx: &mut PgConnection,
    actor: &Actor,
    other: CharacterId,
) -> StoreResult<(Option<FriendStatus>, Option<FriendStatus>)> {
    let me = actor.character();
    if me == other {
        refuse!(Refusal::Invalid(
            "a character cannot befriend or block itself".into()
        ));
    }
    let rows = lock_characters(tx, &[me, other]).await?;
    let row = rows
        .iter()
        .find(|r| r.id == me.0)
        .expect("lock_characters returns every character asked for");
    check_actor(row, actor)?;
    let pair: Vec<(i64, String)> = sqlx::query_as(
        "SELECT character_id, status FROM friendships
         WHERE (character_id = $1 AND other_id = $2) OR (character_id = $2 AND other_id = $1)",
    )
    .bind(me.0)
    .bind(other.0)
    .fetch_all(&mut *tx)
    .await
    .map_err(db("friendship rows"))?;
    let (mut mine, mut theirs) = (None, None);
    for (owner, status) in pair {
        let s = FriendStatus::parse(&status)?;
        if owner == me.0 {
            mine = Some(s);
        } else {
            theirs = Some(s);
        }
    }
    Ok((mine, theirs))
}

async fn set_pair(
    tx: &mut PgConnection,
    a: CharacterId,
    b: CharacterId,
    a_holds: FriendStatus,
    b_holds: FriendStatus,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO friendships (character_id, other_id, status) VALUES ($1, $2, $3), ($2, $1, $4)
         ON CONFLICT (character_id, other_id) DO UPDATE SET status = EXCLUDED.status",
    )
    .bind(a.0)
    .bind(b.0)
    .bind(a_holds.as_str())
    .bind(b_holds.as_str())
    .execute(&mut *tx)
    .await
    .map_err(db("write friendship"))?;
    Ok(())
}

/// Friends, requests and pending requests of a character (blocks do not count).
async fn friend_count(tx: &mut PgConnection, c: CharacterId) -> StoreResult<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM friendships WHERE character_id = $1 AND status <> 'blocked'",
    )
    .bind(c.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("count friends"))
}

fn log(kind: &str, actor: CharacterId, other: CharacterId) -> LogEvent {
    LogEvent::new(kind).actor(actor.0).target(other.0)
}

async fn request_friend_in(
    tx: &mut PgConnection,
    actor: Actor,
    other: CharacterId,
) -> StoreResult<FriendStatus> {
    let me = actor.character();
    let (mine, theirs) = lock_and_read(tx, &actor, other).await?;
    if theirs == Some(FriendStatus::Blocked) {
        // A generic answer that does not name the block: it stays secret.
        refuse!(Refusal::NotAllowed(
            "a friend request cannot be sent to that character"
        ));
    }
    match mine {
        Some(FriendStatus::Blocked) => {
            refuse!(Refusal::NotAllowed("unblock the character first"))
        }
        Some(FriendStatus::Accepted) => refuse!(Refusal::NotAllowed("already friends")),
        Some(FriendStatus::Requested) => {
            refuse!(Refusal::NotAllowed("the friend request was already sent"))
        }
        Some(FriendStatus::Pending) => {
            // The other asked first: asking back accepts.
            set_pair(
                tx,
                me,
                other,
                FriendStatus::Accepted,
                FriendStatus::Accepted,
            )
            .await?;
            write_in_tx(tx, &[log("friend_accepted", me, other)]).await?;
            return Ok(FriendStatus::Accepted);
        }
        None => {}
    }
    if friend_count(tx, me).await? >= FRIENDS_MAX || friend_count(tx, other).await? >= FRIENDS_MAX {
        refuse!(Refusal::LimitReached("friends"));
    }
    set_pair(
        tx,
        me,
        other,
        FriendStatus::Requested,
        FriendStatus::Pending,
    )
    .await?;
    write_in_tx(tx, &[log("friend_requested", me, other)]).await?;
    Ok(FriendStatus::Requested)
}

async fn accept_friend_in(
    tx: &mut PgConnection,
    actor: Actor,
    other: CharacterId,
) -> StoreResult<()> {
    let me = actor.character();
    let (mine, theirs) = lock_and_read(tx, &actor, other).await?;
    if mine != Some(FriendStatus::Pending) || theirs != Some(FriendStatus::Requested) {
        refuse!(Refusal::NotFound("friend request"));
    }
    set_pair(
        tx,
        me,
        other,
        FriendStatus::Accepted,
        FriendStatus::Accepted,
    )
    .await?;
    write_in_tx(tx, &[log("friend_accepted", me, other)]).await
}

async fn remove_friend_in(
    tx: &mut PgConnection,
    actor: Actor,
    other: CharacterId,
) -> StoreResult<()> {
    let me = actor.character();
    let (mine, _) = lock_and_read(tx, &actor, other).await?;
    if matches!(mine, None | Some(FriendStatus::Blocked)) {
        refuse!(Refusal::NotFound("friend"));
    }
    // Both directions, but never a block: that is `unblock`'s to lift.
    sqlx::query(
        "DELETE FROM friendships WHERE status <> 'blocked'
           AND ((character_id = $1 AND other_id = $2) OR (character_id = $2 AND other_id = $1))",
    )
    .bind(me.0)
    .bind(other.0)
    .execute(&mut *tx)
    .await
    .map_err(db("remove friend"))?;
    write_in_tx(tx, &[log("friend_removed", me, other)]).await
}

async fn block_in(tx: &mut PgConnection, actor: Actor, other: CharacterId) -> StoreResult<()> {
    let me = actor.character();
    let (mine, theirs) = lock_and_read(tx, &actor, other).await?;
    if mine == Some(FriendStatus::Blocked) {
        return Ok(());
    }
    let blocked: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM friendships WHERE character_id = $1 AND status = 'blocked'",
    )
    .bind(me.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("count blocks"))?;
    if blocked >= BLOCKED_MAX {
        refuse!(Refusal::LimitReached("blocked characters"));
    }
    sqlx::query(
        "INSERT INTO friendships (character_id, other_id, status) VALUES ($1, $2, 'blocked')
         ON CONFLICT (character_id, other_id) DO UPDATE SET status = 'blocked'",
    )
    .bind(me.0)
    .bind(other.0)
    .execute(&mut *tx)
    .await
    .map_err(db("block"))?;
    if theirs.is_some_and(|s| s != FriendStatus::Blocked) {
        sqlx::query("DELETE FROM friendships WHERE character_id = $1 AND other_id = $2")
            .bind(other.0)
            .bind(me.0)
            .execute(&mut *tx)
            .await
            .map_err(db("drop the other side"))?;
    }
    write_in_tx(tx, &[log("friend_blocked", me, other)]).await
}

async fn unblock_in(tx: &mut PgConnection, actor: Actor, other: CharacterId) -> StoreResult<()> {
    let me = actor.character();
    let (mine, _) = lock_and_read(tx, &actor, other).await?;
    if mine != Some(FriendStatus::Blocked) {
        refuse!(Refusal::NotFound("block"));
    }
    sqlx::query("DELETE FROM friendships WHERE character_id = $1 AND other_id = $2")
        .bind(me.0)
        .bind(other.0)
        .execute(&mut *tx)
        .await
        .map_err(db("unblock"))?;
    write_in_tx(tx, &[log("friend_unblocked", me, other)]).await
}

/// Refuses with `Blocked` when `to` blocks `from` (a mail, a whisper). Reads the caller's
/// snapshot: inside a transaction that locked `to`, a block committed meanwhile is seen.
pub(crate) async fn refuse_if_blocked(
    tx: &mut PgConnection,
    from: CharacterId,
    to: CharacterId,
) -> StoreResult<()> {
    if blocks(tx, to, from).await? {
        refuse!(Refusal::Blocked);
    }
    Ok(())
}

/// Whether `who` blocks `whom`.
async fn blocks(tx: &mut PgConnection, who: CharacterId, whom: CharacterId) -> StoreResult<bool> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM friendships
                        WHERE character_id = $1 AND other_id = $2 AND status = 'blocked')",
    )
    .bind(who.0)
    .bind(whom.0)
    .fetch_one(&mut *tx)
    .await
    .map_err(db("blocked?"))
}

impl Store {
    /// Whether `from` may whisper to `to`: `to` is a character (not deleted) that does not block
    /// `from` (`Blocked` otherwise). A read: whispers themselves are not kept in PostgreSQL.
    pub async fn may_whisper(&self, from: CharacterId, to: CharacterId) -> StoreResult<()> {
        on_conn!(self.conns(), |c| async move {
            let exists: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM characters WHERE id = $1 AND deleted_at IS NULL)",
            )
            .bind(to.0)
            .fetch_one(&mut *c)
            .await
            .map_err(db("whisper recipient"))?;
            if !exists {
                refuse!(Refusal::NotFound("character"));
            }
            refuse_if_blocked(c, from, to).await
        })
    }

    /// Asks `other` to be friends. If `other` had already asked, this accepts instead (and says
    /// `Accepted`); otherwise the request waits (`Requested`). Refused between friends, toward a
    /// character who blocked the actor (without saying so), and past `FRIENDS_MAX` on either side.
    pub async fn request_friend(
        &self,
        actor: Actor,
        other: CharacterId,
    ) -> StoreResult<FriendStatus> {
        in_tx!(self.conns(), |tx| request_friend_in(tx, actor, other))
    }

    /// Accepts the request `other` sent.
    pub async fn accept_friend(&self, actor: Actor, other: CharacterId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| accept_friend_in(tx, actor, other))
    }

    /// Ends a friendship, or withdraws or declines a request: both rows go.
    pub async fn remove_friend(&self, actor: Actor, other: CharacterId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| remove_friend_in(tx, actor, other))
    }

    /// Blocks `other` (at most `BLOCKED_MAX` blocks): any friendship or request between them
    /// ends, except a block `other` holds. Blocking twice is harmless.
    pub async fn block(&self, actor: Actor, other: CharacterId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| block_in(tx, actor, other))
    }

    pub async fn unblock(&self, actor: Actor, other: CharacterId) -> StoreResult<()> {
        in_tx!(self.conns(), |tx| unblock_in(tx, actor, other))
    }

    /// What a character holds about others: friends, requests both ways and blocks, by name.
    pub async fn friends_of(&self, character: CharacterId) -> StoreResult<Vec<Friend>> {
        let rows: Vec<(i64, String, String)> = on_conn!(self.conns(), |conn| {
            sqlx::query_as(
            "SELECT c.id, c.name, f.status FROM friendships f JOIN characters c ON c.id = f.other_id
             WHERE f.character_id = $1 ORDER BY lower(c.name) LIMIT $2",
        )
        .bind(character.0)
        .bind(FRIENDS_MAX + BLOCKED_MAX)
        .fetch_all(conn)
        })
        .map_err(db("friends of character"))?;
        rows.into_iter()
            .map(|(id, name, status)| {
                Ok(Friend {
                    id: CharacterId(id),
                    name,
                    status: FriendStatus::parse(&status)?,
                })
            })
            .collect()
    }
}
