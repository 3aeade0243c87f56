//! Lines of stdin for the processes the gateway benchmark speaks to (`serve`, `bots`, `bench
//! echo-server`), read on a thread of their own: Tokio's stdin reads on its blocking pool, and
//! the runtime's shutdown would wait for that read to end.

use tokio::sync::mpsc;

/// Lines read before the reader waits for them to be taken.
const LINES_QUEUED_MAX: usize = 16;

/// Every line of stdin, in order; the channel closes at the end of stdin.
pub fn lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel(LINES_QUEUED_MAX);
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.blocking_send(line).is_err() {
                break;
            }
        }
    });
    rx
}
