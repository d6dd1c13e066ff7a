//! SQLite access for the issuer.
//!
//! One database file (`issuer.sqlite3` in the data dir), WAL mode, a small r2d2 pool. Handlers
//! run their queries on tokio's blocking pool through [`Db::read`] and [`Db::write`]; `write`
//! opens an IMMEDIATE transaction so that writers queue on SQLite's lock up front instead of
//! failing on a lock upgrade. SQLite serialises writers, which is what makes capacity checks
//! and sequence numbers (revocations, admissions) safe without further locking.

pub mod schema;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::error::{AppError, AppResult};

/// A pool of connections to the issuer database.
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<SqliteConnectionManager>,
    /// Commits made through this pool (a commit hook on every connection): lets caches of
    /// derived answers (the public catalogue) know that nothing changed.
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").finish_non_exhaustive()
    }
}

fn configure(conn: &mut Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl Db {
    /// Opens (creating if needed, mode 0600) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, String> {
        crate::keys::ensure_private_file(path)
            .map_err(|e| format!("cannot create database {}: {e}", path.display()))?;
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        let manager = SqliteConnectionManager::file(path).with_init(move |conn| {
            configure(conn)?;
            let counter = counter.clone();
            conn.commit_hook(Some(move || {
                counter.fetch_add(1, Ordering::Relaxed);
                false // let the commit proceed
            }))
        });
        let pool = r2d2::Pool::builder()
            .max_size(8)
            .build(manager)
            .map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
        let mut conn = pool
            .get()
            .map_err(|e| format!("cannot open database {}: {e}", path.display()))?;
        schema::migrate(&mut conn).map_err(|e| format!("cannot migrate database {}: {e}", path.display()))?;
        Ok(Db { pool, commits })
    }

    /// How many transactions have committed through this pool so far. Writes by other processes
    /// (the `issuer` CLI beside a running server) are not counted.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Runs read-only work on a pooled connection.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// Runs work in an IMMEDIATE transaction, committed if `f` returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        })
        .await
        .map_err(AppError::internal)?
    }

    /// A connection for synchronous code (CLI commands, start-up, tests).
    pub fn conn(&self) -> AppResult<r2d2::PooledConnection<SqliteConnectionManager>> {
        Ok(self.pool.get()?)
    }
}
