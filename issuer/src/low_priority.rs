//! Work nobody stands waiting for (writing a queued confirmation's PDF tickets) runs here: on one
//! thread of its own per process, at a lower CPU priority than the threads answering requests.
//! When buyers keep the cores busy, the scheduler gives them the cores first and the mails
//! trail by a few seconds; when the cores are idle, the thread takes them whole. A buyer's
//! checkout never waits behind another buyer's confirmation being written.
//!
//! The nice value orders this thread behind the issuer's own threads only. Linux shares the CPU
//! between sessions (autogroup) or services (cgroups) first, so a PostgreSQL server on the same
//! host is not behind it: while the issuer's request threads wait for the database, this thread
//! runs with the issuer's whole share. In the checkout bench (3 replicas and PostgreSQL on 2
//! cores) the PDF threads took 31 % of the samples of the measured part; with autogroup turned
//! off (the nice value then counts against PostgreSQL too) the checkout p99 of three runs was
//! 65-140 ms against 88-201 ms, a gain inside that machine's spread (BENCHMARKS.md).
//!
//! Jobs run one at a time, in the order they came. A job whose caller stopped waiting (the mail
//! worker's deadline passed) is skipped, not run for nobody. A job that panics is reported to
//! its caller as gone, and the thread goes on with the next.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;
use std::sync::mpsc;

/// The thread's nice value (0 is the default; 19 the lowest priority). At 10 a thread gets about
/// a tenth of the CPU a default thread gets when both want it, and all of it when alone.
const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

/// The job never ran to its end: its thread could not start, or the job panicked.
#[derive(Debug, thiserror::Error)]
#[error("the background thread did not finish the job")]
pub struct Gone;

fn worker() -> Option<&'static mpsc::Sender<Job>> {
    static WORKER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    WORKER
        .get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let started = std::thread::Builder::new()
                .name("og-low-priority".into())
                .spawn(move || {
                    lower_own_priority();
                    for job in rx {
                        // A panic ends the job (its caller sees `Gone`), not the thread.
                        let _ = catch_unwind(AssertUnwindSafe(job));
                    }
                });
            match started {
                Ok(_) => Some(tx),
                Err(e) => {
                    tracing::error!(error = %e, "could not start the low-priority thread");
                    None
                }
            }
        })
        .as_ref()
}

/// Lowers the calling thread's priority (on Linux the nice value is the thread's own, so the
/// threads answering requests keep theirs). Failing to is logged and harmless: the work then
/// runs at the default priority.
fn lower_own_priority() {
    #[cfg(unix)]
    {
        use rustix::process::{getpriority_process, setpriority_process};
        // A process started at a lower priority already (`nice issuer serve`) keeps its own.
        let own = getpriority_process(None).unwrap_or(0);
        if own < NICE
            && let Err(e) = setpriority_process(None, NICE)
        {
            tracing::warn!(error = %e, "could not lower the background thread's priority");
        }
    }
}

/// Runs `f` on the low-priority thread and waits for its answer without holding up an async
/// worker.
pub async fn run<T, F>(f: F) -> Result<T, Gone>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        if !tx.is_closed() {
            let _ = tx.send(f());
        }
    });
    worker().ok_or(Gone)?.send(job).map_err(|_| Gone)?;
    rx.await.map_err(|_| Gone)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    use rustix::process::getpriority_process;

    #[tokio::test]
    async fn a_job_runs_on_a_thread_of_lower_priority_and_answers() {
        let caller = getpriority_process(None).unwrap();
        let job = run(|| getpriority_process(None).unwrap()).await.unwrap();
        assert_eq!(job, caller.max(NICE));
        // The caller's own thread kept its priority.
        assert_eq!(getpriority_process(None).unwrap(), caller);
    }

    #[tokio::test]
    async fn a_job_that_panics_is_gone_and_the_next_still_runs() {
        let r: Result<(), Gone> = run(|| panic!("boom")).await;
        assert!(r.is_err());
        assert_eq!(run(|| 41 + 1).await.unwrap(), 42);
    }
}
