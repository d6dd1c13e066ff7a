//! Waiting for what happens on its own time (a background tick, a mail file written after the
//! answer, a cache that may serve the old page for up to a second): the condition is probed
//! again on a short period until it holds, and the wait fails with what was awaited once the
//! deadline passes. Never a fixed wait.
#![allow(dead_code)]

use std::future::Future;
use std::time::Duration;

/// Probes `probe` every `every` until it answers `Some`, for at most `within`; `None` once the
/// deadline passed (for callers that say more about what they saw last).
pub async fn within<T, F, Fut>(within: Duration, every: Duration, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::time::timeout(within, async {
        loop {
            tick.tick().await;
            if let Some(v) = probe().await {
                return v;
            }
        }
    })
    .await
    .ok()
}

/// [`within`], failing the test with `what` once the deadline passed.
pub async fn until<T, F, Fut>(what: &str, within_: Duration, every: Duration, probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    within(within_, every, probe)
        .await
        .unwrap_or_else(|| panic!("{what}: not within {within_:?}"))
}

/// [`until`] for a probe that needs no waiting itself (a database row, a file), every 20 ms.
pub async fn until_sync<T>(what: &str, within: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    until(what, within, Duration::from_millis(20), || std::future::ready(probe())).await
}
