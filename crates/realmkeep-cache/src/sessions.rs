//! Sessions: `session:{token}` (30 min, refreshed on use) over signed tokens.
//!
//! A token is checked locally first (HMAC signature and expiry, see [`crate::token`]), then
//! against Redis: `{account, session}` means live, `"revoked"` is a tombstone that outlives any
//! re-registration, and no key means expired from idleness or never registered. While Redis is
//! down the signature alone decides (the answer says `degraded: true`), sessions revoked on this
//! node are still refused, and the sessions accepted meanwhile are registered again when Redis
//! returns. A ban revokes all the account's sessions at once, however many, by one key:
//! `session_revoked_before:{account}` (every token issued at or before that second is revoked).
//! Renewing a token revokes the old one. A logout ends the session itself, on every node:
//! `session_ended:{session}`, which a live connection of that session (which holds the session's
//! id, not its token, and outlives the token's renewals) is checked against.

use crate::clock::now_unix_s;
use crate::core::{lock, Core};
use crate::error::CacheError;
use crate::expiring::ExpiringMap;
use crate::keys;
use crate::options::CacheOptions;
use crate::token::{
    HeldSession, SessionClaims, SessionId, SessionToken, TokenError, TokenSigner,
    SESSION_TOKEN_LIFETIME,
};
use crate::vocab::Served;
use realmkeep_domain::AccountId;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What `session:{token}` holds once revoked.
pub const SESSION_TOMBSTONE: &str = "revoked";
/// Accounts whose sessions were all revoked on this node, refused locally while Redis is down.
pub const LOCAL_REVOKED_ACCOUNTS_MAX: usize = 50_000;
/// Sets `KEYS[1]` to `ARGV[1]` (unix seconds) unless it holds a later time, for `ARGV[2]`
/// seconds: a revocation never moves back in time, whichever node writes last.
const RAISE_REVOKED_BEFORE: &str = "local cur = tonumber(redis.call('GET', KEYS[1]) or '0') \
    if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end return 0";
/// Commands per pipeline when sessions are registered again.
const SESSION_PIPELINE_MAX: usize = 512;
/// Sessions one [`Sessions::sessions_revoked`] checks at once (one pipeline).
pub const REVOKED_CHECK_MAX: usize = 512;
/// Sessions validated or issued while Redis was down, to register again when it returns.
pub const LOCAL_DEGRADED_SESSIONS_MAX: usize = 50_000;
/// Sessions revoked on this node, refused locally while Redis is down.
pub const LOCAL_REVOKED_SESSIONS_MAX: usize = 50_000;
/// Sessions ended (logged out) on this node, known locally while Redis is down.
pub const LOCAL_ENDED_SESSIONS_MAX: usize = 50_000;
/// How long `session_ended:{session}` is kept: a token's lifetime, far longer than the sweep
/// that closes the session's connections takes to pass (seconds), and than a Redis outage
/// whose end writes it again.
pub const SESSION_ENDED_TTL: Duration = SESSION_TOKEN_LIFETIME;

/// A session this node accepted while Redis was down.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DegradedSession {
    pub account: AccountId,
    pub session: SessionId,
}

/// The sessions' own state on the node: the signer, the sessions accepted while Redis was down
/// (registered when it returns) and the sessions revoked here (refused while it is down).
pub(crate) struct LocalSessions {
    signer: TokenSigner,
    degraded: Mutex<ExpiringMap<String, DegradedSession>>,
    revoked: Mutex<ExpiringMap<String, ()>>,
    /// Sessions logged out here (`session_ended:{session}`).
    ended: Mutex<ExpiringMap<SessionId, ()>>,
    /// account -> unix second at or before which its tokens are revoked.
    revoked_before: Mutex<ExpiringMap<AccountId, i64>>,
}

impl LocalSessions {
    pub fn new(opts: &CacheOptions) -> Self {
        Self {
            signer: TokenSigner::new(opts.session_secret.clone()),
            degraded: Mutex::new(ExpiringMap::new(LOCAL_DEGRADED_SESSIONS_MAX)),
            revoked: Mutex::new(ExpiringMap::new(LOCAL_REVOKED_SESSIONS_MAX)),
            ended: Mutex::new(ExpiringMap::new(LOCAL_ENDED_SESSIONS_MAX)),
            revoked_before: Mutex::new(ExpiringMap::new(LOCAL_REVOKED_ACCOUNTS_MAX)),
        }
    }
}

impl fmt::Debug for LocalSessions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSessions").finish_non_exhaustive()
    }
}

/// The answer to "is this token a live session?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionCheck {
    /// `degraded`: Redis could not be asked; only the signature and expiry were checked.
    Valid {
        account: AccountId,
        session: SessionId,
        degraded: bool,
    },
    Invalid(InvalidSession),
}

impl SessionCheck {
    pub fn is_valid(&self) -> bool {
        matches!(self, SessionCheck::Valid { .. })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSession {
    #[error("malformed session token")]
    Malformed,
    #[error("bad session token signature")]
    BadSignature,
    #[error("session token expired")]
    Expired,
    #[error("session revoked")]
    Revoked,
    /// Signed and unexpired, but Redis does not know it: idle past its TTL.
    #[error("session unknown or idle too long")]
    Unknown,
}

impl From<TokenError> for InvalidSession {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Malformed => InvalidSession::Malformed,
            TokenError::BadSignature => InvalidSession::BadSignature,
            TokenError::Expired => InvalidSession::Expired,
        }
    }
}

/// A new session token and where it was registered.
#[derive(Debug, Clone)]
pub struct IssuedSession {
    pub token: SessionToken,
    pub claims: SessionClaims,
    /// `Local`: Redis was down; it is registered when Redis returns.
    pub served: Served,
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct SessionValue {
    account: AccountId,
    session: SessionId,
}

/// Sessions. Get it from [`crate::Cache::sessions`].
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a> {
    core: &'a Core,
    local: &'a LocalSessions,
}

impl<'a> Sessions<'a> {
    pub(crate) fn new(core: &'a Core, local: &'a LocalSessions) -> Self {
        Self { core, local }
    }
}

fn value_json(claims: &SessionClaims) -> String {
    serde_json::to_string(&SessionValue {
        account: claims.account,
        session: claims.session,
    })
    .expect("session value serializes")
}

/// Time left before the token expires, at least one second (Redis refuses EX 0).
fn remaining(claims: &SessionClaims) -> Duration {
    Duration::from_secs((claims.expires_unix_s - now_unix_s()).max(1) as u64)
}

fn remember_degraded(local: &LocalSessions, token: &SessionToken, claims: &SessionClaims) {
    let now = Instant::now();
    lock(&local.degraded).insert(
        token.as_str().to_string(),
        DegradedSession {
            account: claims.account,
            session: claims.session,
        },
        now + remaining(claims),
        now,
    );
}

fn register_pipe(pipe: &mut redis::Pipeline, token: &str, claims: &SessionClaims, nx: bool) {
    pipe.cmd("SET")
        .arg(keys::session(token))
        .arg(value_json(claims))
        .arg("EX")
        .arg(keys::SESSION_TTL.as_secs());
    if nx {
        pipe.arg("NX");
    }
    pipe.ignore();
}

fn tombstone_pipe(pipe: &mut redis::Pipeline, token: &str, claims: &SessionClaims) {
    pipe.cmd("SET")
        .arg(keys::session(token))
        .arg(SESSION_TOMBSTONE)
        .arg("EX")
        .arg(remaining(claims).as_secs())
        .ignore();
}

/// The second a token was issued (its expiry less the token lifetime).
pub fn issued_at(claims: &SessionClaims) -> i64 {
    claims.expires_unix_s - SESSION_TOKEN_LIFETIME.as_secs() as i64
}

fn end_pipe(pipe: &mut redis::Pipeline, session: SessionId, ttl: Duration) {
    pipe.cmd("SET")
        .arg(keys::session_ended(session.0))
        .arg(1)
        .arg("EX")
        .arg(ttl.as_secs().max(1))
        .ignore();
}

fn raise_revoked_before(pipe: &mut redis::Pipeline, account: AccountId, at: i64) {
    pipe.cmd("EVAL")
        .arg(RAISE_REVOKED_BEFORE)
        .arg(1)
        .arg(keys::session_revoked_before(account))
        .arg(at)
        .arg(SESSION_TOKEN_LIFETIME.as_secs())
        .ignore();
}

impl Sessions<'_> {
    fn core(&self) -> &Core {
        self.core
    }

    async fn issue_for(
        &self,
        account: AccountId,
        session: SessionId,
        started_unix_s: i64,
    ) -> IssuedSession {
        let core = self.core();
        let now = now_unix_s();
        let claims = SessionClaims {
            account,
            session,
            started_unix_s,
            expires_unix_s: now + SESSION_TOKEN_LIFETIME.as_secs() as i64,
            nonce: rand::random(),
        };
        let token = self.local.signer.sign(claims);
        let mut pipe = redis::pipe();
        register_pipe(&mut pipe, token.as_str(), &claims, false);
        let served = match core.query_pipe::<()>(&pipe).await {
            Ok(()) => Served::Redis,
            Err(e) => {
                core.degraded("session issue", &e);
                remember_degraded(self.local, &token, &claims);
                Served::Local
            }
        };
        IssuedSession {
            token,
            claims,
            served,
        }
    }

    /// A new session for `account` (after the password was checked against PostgreSQL).
    pub async fn issue(&self, account: AccountId) -> IssuedSession {
        self.issue_for(account, SessionId(rand::random()), now_unix_s())
            .await
    }

    /// A fresh token for the same session, before the old one expires; the old token is
    /// revoked, so a token stolen before the renewal stops working with it.
    pub async fn renew(&self, token: &str) -> Result<IssuedSession, InvalidSession> {
        let started = match self.local.signer.verify(token, now_unix_s()) {
            Ok((claims, _)) => claims.started_unix_s,
            Err(e) => return Err(e.into()),
        };
        match self.validate(token).await {
            SessionCheck::Valid {
                account, session, ..
            } => {
                let fresh = self.issue_for(account, session, started).await;
                // Every token is distinct (its nonce): the old one always goes.
                self.revoke(token).await;
                Ok(fresh)
            }
            SessionCheck::Invalid(why) => Err(why),
        }
    }

    /// Checks a token: signature and expiry, then Redis (refreshing the TTL). Never fails and
    /// never waits longer than the command timeout.
    pub async fn validate(&self, token: &str) -> SessionCheck {
        let core = self.core();
        let (claims, token) = match self.local.signer.verify(token, now_unix_s()) {
            Ok(v) => v,
            Err(e) => return SessionCheck::Invalid(e.into()),
        };
        let now = Instant::now();
        let revoked_here = lock(&self.local.revoked)
            .get(&token.as_str().to_string(), now)
            .is_some()
            || lock(&self.local.revoked_before)
                .get(&claims.account, now)
                .is_some_and(|(t, _)| issued_at(&claims) <= *t);
        if revoked_here {
            return SessionCheck::Invalid(InvalidSession::Revoked);
        }
        let valid = |degraded| SessionCheck::Valid {
            account: claims.account,
            session: claims.session,
            degraded,
        };
        let key = keys::session(token.as_str());
        let mut pipe = redis::pipe();
        pipe.cmd("GETEX")
            .arg(&key)
            .arg("EX")
            .arg(keys::SESSION_TTL.as_secs())
            .cmd("GET")
            .arg(keys::session_revoked_before(claims.account));
        let answer = core
            .query_pipe::<(Option<String>, Option<i64>)>(&pipe)
            .await;
        let answer = match answer {
            Ok((_, Some(before))) if issued_at(&claims) <= before => {
                return SessionCheck::Invalid(InvalidSession::Revoked)
            }
            Ok((value, _)) => Ok(value),
            Err(e) => Err(e),
        };
        match answer {
            Ok(Some(v)) if v == SESSION_TOMBSTONE => SessionCheck::Invalid(InvalidSession::Revoked),
            Ok(Some(v)) => match serde_json::from_str::<SessionValue>(&v) {
                Ok(s) if s.account == claims.account && s.session == claims.session => valid(false),
                _ => {
                    tracing::warn!(key, "session value does not match its token");
                    SessionCheck::Invalid(InvalidSession::Unknown)
                }
            },
            Ok(None) => {
                // Accepted while Redis was down and not registered again yet: register it now.
                let pending = lock(&self.local.degraded).remove(&token.as_str().to_string());
                if pending.is_none() {
                    return SessionCheck::Invalid(InvalidSession::Unknown);
                }
                let mut pipe = redis::pipe();
                register_pipe(&mut pipe, token.as_str(), &claims, true);
                if core.query_pipe::<()>(&pipe).await.is_err() {
                    remember_degraded(self.local, &token, &claims);
                }
                valid(false)
            }
            Err(e) => {
                core.degraded("session validate", &e);
                remember_degraded(self.local, &token, &claims);
                valid(true)
            }
        }
    }

    /// What a token says, checked locally only (signature, expiry, canonical form); `None` for
    /// anything else. For callers that already validated it and need its times.
    pub fn claims(&self, token: &str) -> Option<SessionClaims> {
        self.local
            .signer
            .verify(token, now_unix_s())
            .ok()
            .map(|(c, _)| c)
    }

    /// Whether a live connection's session no longer holds: its account was revoked since its
    /// token was issued (a ban, a password change), or the session was logged out, on any node.
    /// A joining connection asks, and one the sweep woke. Redis down: what this node knows.
    pub async fn session_revoked(&self, held: HeldSession) -> bool {
        self.sessions_revoked(&[held]).await.is_ok_and(|r| r[0])
    }

    /// [`Self::session_revoked`] for many sessions in one round trip: a gateway's sweep of its
    /// connections. At most [`REVOKED_CHECK_MAX`]; while Redis is down only this node's own
    /// revocations and logouts answer (as for one). Only a revocation written says yes: a key
    /// Redis lost (a restart) closes nobody.
    pub async fn sessions_revoked(&self, held: &[HeldSession]) -> Result<Vec<bool>, CacheError> {
        if held.len() > REVOKED_CHECK_MAX {
            return Err(CacheError::Limit {
                what: "sessions checked at once",
                max: REVOKED_CHECK_MAX,
            });
        }
        let mut revoked: Vec<bool> = {
            let now = Instant::now();
            let before = lock(&self.local.revoked_before);
            let ended = lock(&self.local.ended);
            held.iter()
                .map(|h| {
                    before
                        .get(&h.account, now)
                        .is_some_and(|(t, _)| h.issued_unix_s <= *t)
                        || ended.get(&h.session, now).is_some()
                })
                .collect()
        };
        if held.is_empty() {
            return Ok(revoked);
        }
        let mut pipe = redis::pipe();
        for h in held {
            pipe.cmd("GET").arg(keys::session_revoked_before(h.account));
            pipe.cmd("EXISTS").arg(keys::session_ended(h.session.0));
        }
        match self.core().query_pipe::<Vec<Option<i64>>>(&pipe).await {
            Ok(answers) => {
                for ((r, h), a) in revoked.iter_mut().zip(held).zip(answers.chunks(2)) {
                    let before = a.first().copied().flatten();
                    let ended = a.get(1).copied().flatten().unwrap_or(0) > 0;
                    *r |= before.is_some_and(|t| h.issued_unix_s <= t) || ended;
                }
            }
            Err(e) => self.core().degraded("session recheck", &e),
        }
        Ok(revoked)
    }

    /// Revokes one token (a renewal's old token). Refused on this node at once, everywhere once
    /// Redis has it.
    pub async fn revoke(&self, token: &str) -> Served {
        self.revoke_token(token, false).await
    }

    /// Ends the session of `token` (a logout): its token is revoked, and the session ended on
    /// every node (`session_ended:{session}`), so a connection it holds on another node is
    /// closed by that node's sweep. Refused on this node at once, everywhere once Redis has it
    /// (written again when Redis returns).
    pub async fn end(&self, token: &str) -> Served {
        self.revoke_token(token, true).await
    }

    /// `revoke`, and with `end_session` also `end`.
    async fn revoke_token(&self, token: &str, end_session: bool) -> Served {
        let core = self.core();
        let Ok((claims, token)) = self.local.signer.verify(token, now_unix_s()) else {
            return Served::Redis; // forged or expired: nothing to revoke
        };
        let now = Instant::now();
        lock(&self.local.revoked).insert(
            token.as_str().to_string(),
            (),
            now + remaining(&claims),
            now,
        );
        lock(&self.local.degraded).remove(&token.as_str().to_string());
        let mut pipe = redis::pipe();
        tombstone_pipe(&mut pipe, token.as_str(), &claims);
        if end_session {
            lock(&self.local.ended).insert(claims.session, (), now + SESSION_ENDED_TTL, now);
            end_pipe(&mut pipe, claims.session, SESSION_ENDED_TTL);
        }
        match core.query_pipe::<()>(&pipe).await {
            Ok(()) => Served::Redis,
            Err(e) => {
                core.degraded("session revoke", &e);
                Served::Local
            }
        }
    }

    /// Ends every session of an account (a ban, a password change), however many: one key,
    /// `session_revoked_before:{account}` = now, refuses every token issued at or before it, on
    /// every node. Refused on this node at once; while Redis is down this fails with
    /// [`CacheError::Unavailable`] and is written when Redis returns (the ban in PostgreSQL still
    /// refuses the next login and zone entry meanwhile).
    pub async fn revoke_account(&self, account: AccountId) -> Result<(), CacheError> {
        let core = self.core();
        let at = now_unix_s();
        let now = Instant::now();
        {
            let mut m = lock(&self.local.revoked_before);
            let later = m.get(&account, now).is_some_and(|(t, _)| *t >= at);
            if !later {
                m.insert(account, at, now + SESSION_TOKEN_LIFETIME, now);
            }
        }
        let mut pipe = redis::pipe();
        raise_revoked_before(&mut pipe, account, at);
        core.query_pipe::<()>(&pipe).await
    }
}

/// Registers the sessions accepted while Redis was down (NX: a tombstone written meanwhile by
/// another node wins), and writes again the tombstones of sessions revoked or ended on this node.
pub(crate) async fn reregister(
    core: &Core,
    local: &LocalSessions,
    conn: &mut MultiplexedConnection,
) -> Result<(), CacheError> {
    let now = Instant::now();
    let now_s = now_unix_s();
    let degraded = lock(&local.degraded).live(now);
    let revoked = lock(&local.revoked).live(now);
    let mut pipes = vec![redis::pipe()];
    let mut n = 0;
    let mut next = |pipes: &mut Vec<redis::Pipeline>, cmds: usize| {
        n += cmds;
        if n >= SESSION_PIPELINE_MAX {
            pipes.push(redis::pipe());
            n = 0;
        }
    };
    for (token, s, _) in &degraded {
        if let Ok((claims, _)) = local.signer.verify(token, now_s) {
            if claims.account == s.account && claims.session == s.session {
                register_pipe(pipes.last_mut().expect("one pipe"), token, &claims, true);
                next(&mut pipes, 1);
            }
        }
    }
    for (token, (), _) in &revoked {
        if let Ok((claims, _)) = local.signer.verify(token, now_s) {
            tombstone_pipe(pipes.last_mut().expect("one pipe"), token, &claims);
            next(&mut pipes, 1);
        }
    }
    for (session, (), until) in lock(&local.ended).live(now) {
        end_pipe(pipes.last_mut().expect("one pipe"), session, until - now);
        next(&mut pipes, 1);
    }
    for (account, at, _) in lock(&local.revoked_before).live(now) {
        raise_revoked_before(pipes.last_mut().expect("one pipe"), account, at);
        next(&mut pipes, 1);
    }
    for pipe in &pipes {
        if pipe.cmd_iter().next().is_some() {
            core.query_pipe_on::<()>(conn, pipe).await?;
        }
    }
    let mut m = lock(&local.degraded);
    for (token, _, _) in degraded {
        m.remove(&token);
    }
    Ok(())
}
