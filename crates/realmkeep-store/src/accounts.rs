//! Accounts: creation with an Argon2id password hash (only the hash is stored) and login.

use crate::bans::{active_ban, Ban};
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

/// Hashes a password with Argon2id and a random salt, off the async threads (it is CPU-bound).
pub async fn hash_password(password: &Password) -> StoreResult<String> {
    let pw = password.expose().to_string();
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::PasswordHasher;
        // Draws its salt from the operating system's generator.
        argon2::Argon2::default()
            .hash_password(pw.as_bytes())
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Io(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| StoreError::Io(format!("hashing task: {e}")))?
}

async fn verify_password(hash: String, password: &Password) -> bool {
    let pw = password.expose().to_string();
    tokio::task::spawn_blocking(move || {
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
    .unwrap_or(false)
}

/// What a successful login returns.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedIn {
    pub account: AccountId,
    pub username: String,
}

impl Store {
    pub async fn create_account(
        &self,
        username: &AccountName,
        email: &str,
        password: &Password,
    ) -> StoreResult<AccountId> {
        let email = check_email(email)?;
        let hash = hash_password(password).await?;
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
        let r = sqlx::query_scalar("INSERT INTO accounts (username, email, password_hash) VALUES ($1, $2, $3) RETURNING id")
            .bind(username.as_str())
            .bind(email)
            .bind(hash)
            .fetch_one(self.pool())
            .await;
        match r {
            Ok(id) => Ok(AccountId(id)),
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
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, username, password_hash FROM accounts WHERE lower(username) = lower($1)",
        )
        .bind(username.trim())
        .fetch_optional(self.pool())
        .await
        .map_err(db("login lookup"))?;
        let Some((id, name, hash)) = row else {
            // Spend the same effort as a real check, so timing does not tell which names exist.
            let _ = hash_password(password).await;
            refuse!(Refusal::BadCredentials);
        };
        if !verify_password(hash, password).await {
            refuse!(Refusal::BadCredentials);
        }
        let account = AccountId(id);
        if self.active_ban(Some(account), ip).await?.is_some() {
            refuse!(Refusal::Banned);
        }
        sqlx::query("UPDATE accounts SET last_login_at = now() WHERE id = $1")
            .bind(id)
            .execute(self.pool())
            .await
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
        let mut conn = self.pool().acquire().await.map_err(db("acquire"))?;
        active_ban(&mut conn, account, ip).await
    }
}
