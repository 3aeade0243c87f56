//! Accounts: creation with an Argon2id password hash (only the hash is stored) and login.

use crate::bans::{active_ban, Ban};
use crate::conns::on_conn;
use crate::error::{db, refuse, unique_violation, Refusal, StoreError, StoreResult};
use crate::Store;
use realmkeep_domain::{AccountId, AccountName, Password};
use std::net::IpAddr;

/// Longest accepted email address.
pub const EMAIL_CHARS_MAX: usize = 254;

fn check_email(email: &str) -> StoreResult<String> {
    let e = email.trim();
    let ok = e.len() <= EMAIL_CHARS_MAX
        && e.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !e.chars().any(char::is_whitespace);
    if !ok {
        refuse!(Refusal::Invalid("email address is not valid".into()));
    }
    Ok(e.to_string())
}

/// Argon2id's memory cost in KiB, passes and lanes: OWASP's recommendation for Argon2id (19 MiB,
/// t = 2, p = 1), the floor a configuration may not go below.
pub const ARGON2_M_COST_KIB: u32 = 19 * 1024;
pub const ARGON2_T_COST: u32 = 2;
pub const ARGON2_P_COST: u32 = 1;
/// Password hashes (and verifications, which cost the same) one process computes at once; the
/// others wait their turn. Each holds `m_cost_kib` of memory while it runs: 512 logins at once
/// would otherwise take about 10 GiB.
pub const PASSWORD_HASHES_IN_FLIGHT_MAX: usize = 4;

const _: () = assert!(ARGON2_M_COST_KIB >= 19 * 1024 && ARGON2_T_COST >= 2 && ARGON2_P_COST >= 1);
const _: () = assert!(
    PASSWORD_HASHES_IN_FLIGHT_MAX as u64 * ARGON2_M_COST_KIB as u64 <= 512 * 1024,
    "hashes in flight stay within half a GiB"
);

/// How passwords are hashed (`StoreOptions::password_hashing`). Hashes stored with other
/// parameters are verified as they are and rehashed at the next successful login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordHashing {
    pub m_cost_kib: u32,
    pub t_cost: u32,
    pub p_cost: u32,
    /// Hashes computed at once, at least 1.
    pub in_flight_max: usize,
}

impl Default for PasswordHashing {
    fn default() -> Self {
        Self {
            m_cost_kib: ARGON2_M_COST_KIB,
            t_cost: ARGON2_T_COST,
            p_cost: ARGON2_P_COST,
            in_flight_max: PASSWORD_HASHES_IN_FLIGHT_MAX,
        }
    }
}

impl PasswordHashing {
    /// Refuses parameters below OWASP's floor, or no hash at a time.
    pub fn check(&self) -> StoreResult<()> {
        if self.m_cost_kib < ARGON2_M_COST_KIB
            || self.t_cost < ARGON2_T_COST
            || self.p_cost < ARGON2_P_COST
            || self.in_flight_max == 0
        {
            refuse!(Refusal::Invalid(format!(
                "password hashing below Argon2id m={ARGON2_M_COST_KIB} KiB, t={ARGON2_T_COST},                  p={ARGON2_P_COST}, or no hash at a time"
            )));
        }
        Ok(())
    }

    fn params(&self) -> StoreResult<argon2::Params> {
        argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, None)
            .map_err(|e| StoreError::Io(format!("argon2 parameters: {e}")))
    }
}

/// The store's password hashing: its parameters, the permits that bound hashes in flight, and
/// the most seen in flight at once (a test reads it).
#[derive(Debug)]
pub(crate) struct Hashing {
    config: PasswordHashing,
    permits: tokio::sync::Semaphore,
    in_flight: std::sync::atomic::AtomicUsize,
    peak: std::sync::atomic::AtomicUsize,
}

impl Hashing {
    pub(crate) fn new(config: PasswordHashing) -> Self {
        Self {
            permits: tokio::sync::Semaphore::new(config.in_flight_max.max(1)),
            config,
            in_flight: Default::default(),
            peak: Default::default(),
        }
    }

    /// Runs `f` on a blocking thread (Argon2 is CPU-bound) once a permit is free.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> StoreResult<T> {
        use std::sync::atomic::Ordering;
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| StoreError::Io("password hashing closed".into()))?;
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        let r = tokio::task::spawn_blocking(f).await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        r.map_err(|e| StoreError::Io(format!("hashing task: {e}")))
    }
}

/// Whether a stored PHC hash was made with these parameters (Argon2id, same m, t, p).
fn made_with(hash: &str, config: &PasswordHashing) -> bool {
    use argon2::password_hash::phc::PasswordHash;
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let Ok(p) = argon2::Params::try_from(&parsed) else {
        return false;
    };
    parsed.algorithm.as_str() == "argon2id"
        && p.m_cost() == config.m_cost_kib
        && p.t_cost() == config.t_cost
        && p.p_cost() == config.p_cost
}

/// What a successful login returns.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedIn {
    pub account: AccountId,
    pub username: String,
}

impl Store {
    /// Hashes a password with Argon2id (the store's `PasswordHashing`) and a random salt, at most
    /// `in_flight_max` at once, off the async threads.
    pub async fn hash_password(&self, password: &Password) -> StoreResult<String> {
        let params = self.hashing.config.params()?;
        let pw = password.expose().to_string();
        self.hashing
            .run(move || {
                use argon2::password_hash::PasswordHasher;
                // Draws its salt from the operating system's generator.
                argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
                    .hash_password(pw.as_bytes())
                    .map(|h| h.to_string())
                    .map_err(|e| StoreError::Io(format!("hashing a password: {e}")))
            })
            .await?
    }

    /// Checks `password` against a stored hash (with the parameters stored in it), under the same
    /// bound as hashing.
    pub(crate) async fn verify_password(
        &self,
        hash: String,
        password: &Password,
    ) -> StoreResult<bool> {
        let pw = password.expose().to_string();
        self.hashing
            .run(move || {
                use argon2::password_hash::{phc::PasswordHash, PasswordVerifier};
                PasswordHash::new(&hash)
                    .map(|parsed| {
                        argon2::Argon2::default()
                            .verify_password(pw.as_bytes(), &parsed)
                            .is_ok()
                    })
                    .unwrap_or(false)
            })
            .await
    }

    /// The most password hashes seen in flight at once since the store was made.
    pub fn password_hashes_peak(&self) -> usize {
        self.hashing.peak.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub async fn create_account(
        &self,
        username: &AccountName,
        email: &str,
        password: &Password,
    ) -> StoreResult<AccountId> {
        let email = check_email(email)?;
        let hash = self.hash_password(password).await?;
        self.create_account_with_hash(username, &email, &hash).await
    }

    /// Creates an account whose password hash was made already (seeding many accounts with one
    /// hash, in tests and benchmarks).
    pub async fn create_account_with_hash(
        &self,
        username: &AccountName,
        email: &str,
        hash: &str,
    ) -> StoreResult<AccountId> {
        let r = on_conn!(self.conns(), |conn| {
            sqlx::query_scalar("INSERT INTO accounts (username, email, password_hash) VALUES ($1, $2, $3) RETURNING id")
            .bind(username.as_str())
            .bind(email)
            .bind(hash)
            .fetch_one(conn)
        });
        match r {
            Ok(id) => Ok(AccountId(id)),
            Err(e) if unique_violation(&e).is_some_and(|c| c.contains("email")) => {
                refuse!(Refusal::Invalid("that email address is taken".into()))
            }
            Err(e) if unique_violation(&e).is_some() => refuse!(Refusal::NameTaken),
            Err(e) => Err(db("create account")(e)),
        }
    }

    /// Checks name and password, then bans on the account and the address. The same answer
    /// (`BadCredentials`) for an unknown name and a wrong password.
    pub async fn login(
        &self,
        username: &str,
        password: &Password,
        ip: Option<IpAddr>,
    ) -> StoreResult<LoggedIn> {
        let row: Option<(i64, String, String)> = on_conn!(self.conns(), |conn| {
            sqlx::query_as(
            "SELECT id, username, password_hash FROM accounts WHERE lower(username) = lower($1)",
        )
        .bind(username.trim())
        .fetch_optional(conn)
        })
        .map_err(db("login lookup"))?;
        let Some((id, name, hash)) = row else {
            // Spend the same effort as a real check, so timing does not tell which names exist.
            let _ = self.hash_password(password).await;
            refuse!(Refusal::BadCredentials);
        };
        if !self.verify_password(hash.clone(), password).await? {
            refuse!(Refusal::BadCredentials);
        }
        let account = AccountId(id);
        if self.active_ban(Some(account), ip).await?.is_some() {
            refuse!(Refusal::Banned);
        }
        if !made_with(&hash, &self.hashing.config) {
            // Stored with other parameters (older, or weaker): hash again now that the password
            // is known, unless a password change got there first.
            let fresh = self.hash_password(password).await?;
            on_conn!(self.conns(), |conn| sqlx::query(
                "UPDATE accounts SET password_hash = $2 WHERE id = $1 AND password_hash = $3",
            )
            .bind(id)
            .bind(&fresh)
            .bind(&hash)
            .execute(conn))
            .map_err(db("rehash password"))?;
            tracing::info!(
                account = id,
                "password rehashed with the current parameters"
            );
        }
        on_conn!(self.conns(), |conn| sqlx::query(
            "UPDATE accounts SET last_login_at = now() WHERE id = $1"
        )
        .bind(id)
        .execute(conn))
        .map_err(db("login update"))?;
        Ok(LoggedIn {
            account,
            username: name,
        })
    }

    /// The ban in force on the account or the address, if any.
    pub async fn active_ban(
        &self,
        account: Option<AccountId>,
        ip: Option<IpAddr>,
    ) -> StoreResult<Option<Ban>> {
        on_conn!(self.conns(), |conn| active_ban(conn, account, ip))
    }

    /// The account's name.
    pub async fn account_name(&self, account: AccountId) -> StoreResult<String> {
        let name: Option<String> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT username FROM accounts WHERE id = $1"
        )
        .bind(account.0)
        .fetch_optional(conn))
        .map_err(db("account name"))?;
        name.ok_or(StoreError::Refused(Refusal::NotFound("account")))
    }

    /// Replaces the password when `old` is the current one (`BadCredentials` otherwise). The
    /// update names the hash it checked, so two changes at once cannot both pass the check.
    pub async fn change_password(
        &self,
        account: AccountId,
        old: &Password,
        new: &Password,
    ) -> StoreResult<()> {
        let hash: Option<String> = on_conn!(self.conns(), |conn| sqlx::query_scalar(
            "SELECT password_hash FROM accounts WHERE id = $1"
        )
        .bind(account.0)
        .fetch_optional(conn))
        .map_err(db("password lookup"))?;
        let Some(hash) = hash else {
            refuse!(Refusal::NotFound("account"));
        };
        if !self.verify_password(hash.clone(), old).await? {
            refuse!(Refusal::BadCredentials);
        }
        let fresh = self.hash_password(new).await?;
        let n = on_conn!(self.conns(), |conn| sqlx::query(
            "UPDATE accounts SET password_hash = $2 WHERE id = $1 AND password_hash = $3",
        )
        .bind(account.0)
        .bind(&fresh)
        .bind(&hash)
        .execute(conn))
        .map_err(db("change password"))?
        .rows_affected();
        if n == 0 {
            // Changed by someone else between the check and the update.
            refuse!(Refusal::BadCredentials);
        }
        tracing::info!(account = account.0, "password changed");
        Ok(())
    }
}
