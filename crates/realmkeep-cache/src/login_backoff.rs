//! Per-account login backoff: `login_failures:{account}` counts failed logins (15 min from the
//! last one). Past [`LOGIN_FAILURES_FREE`] failures, each further attempt must wait twice as
//! long as the one before, up to [`LOGIN_BACKOFF_MAX`]; a successful login clears the count.
//! This slows a password guesser spread over many addresses, which the per-address rate limit
//! cannot. While Redis is down the count is not kept (the per-address limit still holds).

use crate::core::Core;
use crate::keys;
use realmkeep_domain::AccountId;
use std::time::Duration;

/// Failed logins allowed before any wait.
pub const LOGIN_FAILURES_FREE: u64 = 5;
/// The longest wait between attempts.
pub const LOGIN_BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);
const LOGIN_BACKOFF_BASE: Duration = Duration::from_secs(1);

/// Adds one failure to KEYS[1] and restarts its TTL (ARGV[1] ms): the key's remaining TTL
/// tells how long ago the last failure was. Answers the count.
const FAIL: &str =
    "local n = redis.call('INCR', KEYS[1]) redis.call('PEXPIRE', KEYS[1], ARGV[1]) return n";

/// Login backoff. Get it from [`crate::Cache::login_backoff`].
#[derive(Debug, Clone, Copy)]
pub struct LoginBackoff<'a> {
    core: &'a Core,
}

/// The wait after `failures` failed logins.
pub fn backoff_for(failures: u64) -> Duration {
    if failures < LOGIN_FAILURES_FREE {
        return Duration::ZERO;
    }
    let exp = (failures - LOGIN_FAILURES_FREE).min(20) as u32;
    LOGIN_BACKOFF_BASE
        .saturating_mul(1u32 << exp)
        .min(LOGIN_BACKOFF_MAX)
}

impl<'a> LoginBackoff<'a> {
    pub(crate) fn new(core: &'a Core) -> Self {
        Self { core }
    }

    /// How long the account must still wait before its next attempt (zero: go ahead).
    pub async fn wait(&self, account: AccountId) -> Duration {
        let key = keys::login_failures(account);
        let mut pipe = redis::pipe();
        pipe.cmd("GET").arg(&key).cmd("PTTL").arg(&key);
        match self.core.query_pipe::<(Option<u64>, i64)>(&pipe).await {
            Ok((Some(n), pttl)) if pttl > 0 => {
                // The count's TTL restarts at each failure: its age is how long ago the last was.
                let since =
                    keys::LOGIN_FAILURES_TTL.saturating_sub(Duration::from_millis(pttl as u64));
                backoff_for(n).saturating_sub(since)
            }
            Ok(_) => Duration::ZERO,
            Err(e) => {
                self.core.degraded("login backoff", &e);
                Duration::ZERO
            }
        }
    }

    /// Counts one failed login.
    pub async fn failed(&self, account: AccountId) {
        let script = redis::Script::new(FAIL);
        let mut inv = script.prepare_invoke();
        inv.key(keys::login_failures(account))
            .arg(keys::LOGIN_FAILURES_TTL.as_millis() as u64);
        if let Err(e) = self.core.eval::<u64>(&inv).await {
            self.core.degraded("login backoff", &e);
        }
    }

    /// A successful login: the count starts again.
    pub async fn succeeded(&self, account: AccountId) {
        let mut cmd = redis::cmd("DEL");
        cmd.arg(keys::login_failures(account));
        if let Err(e) = self.core.query::<()>(&cmd).await {
            self.core.degraded("login backoff", &e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_after_the_free_failures_up_to_the_max() {
        assert_eq!(backoff_for(0), Duration::ZERO);
        assert_eq!(backoff_for(LOGIN_FAILURES_FREE - 1), Duration::ZERO);
        assert_eq!(backoff_for(LOGIN_FAILURES_FREE), Duration::from_secs(1));
        assert_eq!(backoff_for(LOGIN_FAILURES_FREE + 3), Duration::from_secs(8));
        assert_eq!(backoff_for(1_000), LOGIN_BACKOFF_MAX);
    }
}
