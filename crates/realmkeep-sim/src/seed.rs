//! Accounts and characters of simulated players, made once and found again on later runs.
//!
//! Seeding is fast on purpose: the password is hashed once (`hash_password`, Argon2id, tens of
//! milliseconds of a core) and every account is created with that hash
//! (`create_account_with_hash`). The population then logs in only a sample of players with the
//! real `Store::login` (see `limits::REAL_LOGINS_MAX`): on a 2-core machine Argon2 for hundreds
//! of players would take most of a minute and prove nothing more.

use crate::SimError;
use futures::stream::{self, StreamExt, TryStreamExt};
use realmkeep_domain::*;
use realmkeep_store::characters::STARTING_ZONE;
use realmkeep_store::{Refusal, Store, StoreError};

/// The password of every simulated account.
pub const SIM_PASSWORD: &str = "sim-password-1";
/// Longest prefix of simulated names: the character name is the prefix and five digits, and
/// character names have at most 16 characters.
pub const PREFIX_CHARS_MAX: usize = 8;
/// Look-ups and creations in flight while seeding.
const SEED_IN_FLIGHT_MAX: usize = 8;

/// One simulated player's account and character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeededPlayer {
    pub index: usize,
    pub username: String,
    pub account: AccountId,
    pub character: CharacterId,
    /// The zone the character was saved in.
    pub home: ZoneId,
    /// Made by this call (a new character), rather than found.
    pub created: bool,
}

fn check_prefix(prefix: &str) -> Result<(), SimError> {
    let ok = !prefix.is_empty()
        && prefix.len() <= PREFIX_CHARS_MAX
        && prefix.chars().all(|c| c.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(SimError::Invalid(format!(
            "a prefix has 1 to {PREFIX_CHARS_MAX} ASCII letters or digits"
        )))
    }
}

/// The login name of player `index`.
pub fn username(prefix: &str, index: usize) -> String {
    format!("{prefix}_acc{index:05}")
}

/// The character name of player `index`.
pub fn character_name(prefix: &str, index: usize) -> String {
    format!("{prefix}{index:05}")
}

/// Makes sure players `0..count` of `prefix` exist: finds the ones made before and creates the
/// rest (an account and one character each, of classes and kingdoms in turn).
pub async fn ensure_players(
    store: &Store,
    prefix: &str,
    count: usize,
) -> Result<Vec<SeededPlayer>, SimError> {
    check_prefix(prefix)?;
    if count > crate::limits::PLAYERS_MAX {
        return Err(SimError::Invalid(format!(
            "at most {} simulated players",
            crate::limits::PLAYERS_MAX
        )));
    }
    let found: Vec<Option<SeededPlayer>> = stream::iter(0..count)
        .map(|i| find(store, prefix, i))
        .buffered(SEED_IN_FLIGHT_MAX)
        .try_collect()
        .await?;
    let missing: Vec<usize> = (0..count).filter(|i| found[*i].is_none()).collect();
    if missing.is_empty() {
        return Ok(found.into_iter().flatten().collect());
    }
    let password = Password::parse(SIM_PASSWORD).expect("the simulator's password is valid");
    let hash = store.hash_password(&password).await?;
    let created: Vec<SeededPlayer> = stream::iter(missing)
        .map(|i| create(store, prefix, i, &hash))
        .buffered(SEED_IN_FLIGHT_MAX)
        .try_collect()
        .await?;
    let mut all: Vec<SeededPlayer> = found.into_iter().flatten().chain(created).collect();
    all.sort_by_key(|p| p.index);
    Ok(all)
}

async fn find(store: &Store, prefix: &str, i: usize) -> Result<Option<SeededPlayer>, SimError> {
    let Some(id) = store
        .character_id_by_name(&character_name(prefix, i))
        .await?
    else {
        return Ok(None);
    };
    let c = store.load_character(id).await?;
    Ok(Some(SeededPlayer {
        index: i,
        username: username(prefix, i),
        account: c.account,
        character: id,
        home: c.position.zone,
        created: false,
    }))
}

async fn create(
    store: &Store,
    prefix: &str,
    i: usize,
    hash: &str,
) -> Result<SeededPlayer, SimError> {
    let user = username(prefix, i);
    let name = AccountName::parse(&user).map_err(|e| SimError::Invalid(e.to_string()))?;
    let account = match store
        .create_account_with_hash(&name, &format!("{user}@sim.realmkeep.test"), hash)
        .await
    {
        Ok(a) => a,
        // Made by an earlier run that stopped before the character: log in to learn its id.
        Err(StoreError::Refused(Refusal::NameTaken)) => {
            let password = Password::parse(SIM_PASSWORD).expect("valid password");
            store.login(&user, &password, None).await?.account
        }
        Err(e) => return Err(e.into()),
    };
    let cname = CharacterName::parse(&character_name(prefix, i))
        .map_err(|e| SimError::Invalid(e.to_string()))?;
    let class = Class::ALL[i % Class::ALL.len()];
    let kingdom = Kingdom::ALL[i % Kingdom::ALL.len()];
    let character = store
        .create_character(account, &cname, class, kingdom)
        .await?;
    Ok(SeededPlayer {
        index: i,
        username: user,
        account,
        character,
        home: STARTING_ZONE,
        created: true,
    })
}
