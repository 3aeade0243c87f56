//! The time the node's periodic jobs go by. Production uses the real clock ([`SystemClock`]); a
//! test hands the node a clock set ahead ([`OffsetClock`]) to see what the jobs do months from
//! now without waiting for them.

use std::fmt::Debug;
use std::time::{Duration, SystemTime};

/// Where the job scheduler reads "now".
pub trait Clock: Debug + Send + Sync + 'static {
    fn now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// The real clock moved `ahead` into the future: time still passes, from a later start.
#[derive(Debug, Clone, Copy)]
pub struct OffsetClock {
    pub ahead: Duration,
}

impl Clock for OffsetClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.ahead
    }
}
