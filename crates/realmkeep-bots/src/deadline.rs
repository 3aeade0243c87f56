//! When the bots stop: at the end of the run's seconds, or earlier when whoever runs them says so
//! (a benchmark closing the bots' stdin).

use tokio::sync::watch;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub(crate) struct Deadline {
    at: Instant,
    stop: watch::Receiver<bool>,
}

impl Deadline {
    pub fn new(at: Instant, stop: watch::Receiver<bool>) -> Self {
        Self { at, stop }
    }

    pub fn passed(&self) -> bool {
        Instant::now() >= self.at || *self.stop.borrow()
    }

    /// Returns once the deadline has passed.
    pub async fn reached(&self) {
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep_until(self.at) => {}
            // A dropped sender stops nothing: then only the time counts.
            stopped = async { stop.wait_for(|s| *s).await.is_ok() } => {
                if !stopped {
                    tokio::time::sleep_until(self.at).await;
                }
            }
        }
    }
}
