//! Wall-clock time as the keys and messages carry it (unix seconds and milliseconds). Only for
//! what is stored or sent: durations inside the node use `Instant`.

use std::time::{SystemTime, UNIX_EPOCH};

pub(crate) fn now_unix_s() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn now_unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
