//! The issuer's storage: one pool on SQLite (the default, one file in the data dir) or on
//! PostgreSQL (several issuer replicas over one database), the schema migrations of both, and
//! the query API the rules are written against ([`sql`]).
//!
//! Work runs on tokio's blocking pool through [`Db::read`] and [`Db::write`], always inside one
//! transaction:
//! - SQLite: `write` opens an IMMEDIATE transaction, so writers queue on SQLite's lock up front
//!   instead of failing on a lock upgrade. SQLite serialises writers.
//! - PostgreSQL: `write` starts a READ COMMITTED transaction and first takes one transaction-level
//!   advisory lock ([`WRITE_LOCK`]), so writers from every replica are serialised exactly as
//!   SQLite serialises them: each sees everything committed before it. The commit under the lock
//!   does not wait for the disk; `write` returns only once a second, tiny synchronous commit has
//!   flushed the WAL past it, so nothing is answered before it is durable, while the lock is
//!   never held across an fsync and concurrent writers share flushes. (As with SQLite's WAL
//!   mode, another reader may see a commit a few milliseconds before it is on disk; a server
//!   crash in that window loses it together with everything after it, never a part.) That one rule is what
//!   keeps capacity (no oversell), the revocation log and the admissions sequence (gap-free, in
//!   commit order), scan intake (idempotent by nonce) and webhooks (one issuance) correct across
//!   replicas, with the same query text as on SQLite. Reads run in a REPEATABLE READ read-only
//!   transaction (a consistent snapshot, like a SQLite read).
//! - PostgreSQL round trips, each a wake-up of a server process and of an issuer thread: a write
//!   sends its `BEGIN` with its lock, and its `COMMIT` with the synchronous commit (one round
//!   trip each), and a pooled connection is not tested before use; one the server has closed is
//!   found by the first thing sent on it and replaced (`on_live_connection`). A write is its statements plus two round trips,
//!   a read its statements plus two, and a read of one statement ([`Db::read_one`]: the session
//!   behind a request, whether background work is due) one round trip.
//! - One narrower scope ([`WriteScope::Account`], [`Db::write_scoped`]) for a buyer's own
//!   writes (cart, checkout, card, the webhook that issues their tickets): the write lock is taken
//!   **shared**, plus an exclusive lock on the buyer's account. Buyers' writes then run beside
//!   each other but never beside an exclusive writer, so every rule written for one writer at a
//!   time still holds; what two buyers' writes share they take by conditional updates on rows
//!   (an event's seats, an offer's tickets), which PostgreSQL re-checks on the row's newest
//!   version, in event-id order (no deadlock). On SQLite both scopes are the one writer.
//! - One more ([`WriteScope::Shared`]) for scan intake, the busiest writer on an event day: the
//!   write lock shared, the scans inserted beside other gates' batches (a nonce's unique key makes
//!   a second copy wait for the first and then do nothing), and the admissions log appended under
//!   its own lock ([`Log::Admissions`], [`Connection::lock_log`]) taken just before its head is
//!   read and held to the commit, so `seq` stays gap-free and in commit order and every batch
//!   counts a ticket's entries with every earlier batch's in view. The mail workers of all
//!   replicas use it too: each claims due mails with `FOR UPDATE SKIP LOCKED` and then touches
//!   only the mails it claimed ([`mail_outbox`]).

pub mod accounts;
pub mod carts;
pub mod devices;
pub mod events;
pub mod locks;
pub mod mail_outbox;
pub mod mail_tokens;
pub mod offers;
pub mod operator_sessions;
pub mod operator_tokens;
pub mod ops_audit;
pub mod order_lines;
pub mod orders;
pub mod paper_exceptions;
pub mod payments;
pub mod purchases;
pub mod rate_hits;
pub mod refresh_tokens;
pub mod refunds_due;
pub mod revocations;
pub mod scans;
pub mod schema;
pub mod signing_keys;
pub mod sql;
pub mod ticket_bindings;
pub mod ticket_transfers;
pub mod tickets;
pub mod transfer_invites;
pub mod webhook_outbox;
pub mod webhook_seen;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use r2d2_postgres::PostgresConnectionManager;
use r2d2_sqlite::SqliteConnectionManager;

pub use sql::{Connection, Engine, Transaction};

use crate::error::{AppError, AppResult};

use locks::ACCOUNT_LOCKS;
pub use locks::{Log, WRITE_LOCK};

/// Which other writers a write transaction excludes (on PostgreSQL; SQLite has one writer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteScope {
    /// Every other writer: the rule for everything but a buyer's own writes.
    All,
    /// Writers of the same account, and every [`WriteScope::All`] writer. Only for work that
    /// changes the account's own rows and touches shared rows by conditional updates alone (see
    /// the module documentation).
    Account(i64),
    /// Every other writer but [`WriteScope::All`]: buyers' writes and other `Shared` writers run
    /// beside it. Only for work that appends to a commit-ordered log under that log's own lock
    /// ([`Connection::lock_log`], taken before it reads the log's head and held to the commit)
    /// and otherwise only inserts rows that tolerate a concurrent twin (`ON CONFLICT`, in a
    /// fixed order so two such writers never wait for each other in a circle) or updates rows
    /// of its own (see the module documentation), or that claims queued rows with `FOR UPDATE
    /// SKIP LOCKED` and then changes only the rows it claimed (the mail worker,
    /// [`mail_outbox`]).
    Shared,
}

/// A transaction that writes a WAL record and commits synchronously: when it returns, every
/// commit made before it on this server is on disk (WAL is flushed in order).
const DURABLE: &str = "BEGIN; SELECT pg_logical_emit_message(true, 'og-durable', ''); COMMIT";

/// Connections per replica to PostgreSQL unless the URL says otherwise (`pool_max_conns`, see
/// [`pool_size_from_url`]). The server's cores do the work: connections beyond about twice its
/// cores, summed over the replicas, do not add throughput, they queue inside PostgreSQL (its lock
/// manager, snapshots, more processes to switch between). In the checkout bench (3 replicas and
/// PostgreSQL on 2 cores) 6 per replica gave a checkout p99 of 24-102 ms (median 54) where 12
/// gave 49-153 ms (median 78), alternated (BENCHMARKS.md). A larger server: raise it in the URL.
pub const POSTGRES_POOL_SIZE: u32 = 6;

/// The URL's own parameter for the pool size (pgx's name for it): read by the issuer, never sent
/// to the server.
const POOL_SIZE_PARAM: &str = "pool_max_conns";

/// Splits the pool size (`pool_max_conns=N`, 1 to 100) off a PostgreSQL URL: the URL the
/// driver is given, without it, and the size (the default when absent).
pub fn pool_size_from_url(url: &str) -> Result<(String, u32), String> {
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), POSTGRES_POOL_SIZE));
    };
    let mut size = POSTGRES_POOL_SIZE;
    let mut rest = Vec::new();
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some((POOL_SIZE_PARAM, v)) => {
                size =
                    v.parse().ok().filter(|n| (1..=100).contains(n)).ok_or_else(|| {
                        format!("{POOL_SIZE_PARAM} in the database URL must be a number from 1 to 100")
                    })?;
            }
            _ => rest.push(pair),
        }
    }
    let url = if rest.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", rest.join("&"))
    };
    Ok((url, size))
}

/// Where the issuer keeps its data: `sqlite:PATH` or `postgres://...`.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Sqlite(PathBuf),
    Postgres(String),
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A PostgreSQL URL may carry a password: never print it.
        match self {
            DatabaseUrl::Sqlite(p) => write!(f, "sqlite:{}", p.display()),
            DatabaseUrl::Postgres(_) => f.write_str("postgres://(hidden)"),
        }
    }
}

impl DatabaseUrl {
    /// Parses `sqlite:PATH`, `sqlite://PATH`, `postgres://...` or `postgresql://...`.
    pub fn parse(s: &str) -> Result<DatabaseUrl, String> {
        let s = s.trim();
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(s.to_owned()));
        }
        if let Some(path) = s.strip_prefix("sqlite://").or_else(|| s.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err("a sqlite: database URL needs a file path, e.g. sqlite:/var/lib/og/issuer.sqlite3".into());
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        Err(format!(
            "unsupported database URL (expected sqlite:PATH or postgres://USER@HOST/DB): {}",
            s.split("://").next().unwrap_or("")
        ))
    }

    /// The same PostgreSQL URL with `password` put in it (percent-encoded, so any character is
    /// allowed), for a password kept in a file (`--database-password-file`). A URL must name
    /// its user and no password of its own; a SQLite file has no password.
    pub fn with_password(self, password: &str) -> Result<DatabaseUrl, String> {
        let DatabaseUrl::Postgres(url) = self else {
            return Err("a database password file goes with a postgres:// URL, not a SQLite file".into());
        };
        let (scheme, rest) = url.split_once("://").expect("parse keeps the scheme");
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let Some(at) = rest[..authority_end].rfind('@') else {
            return Err("a database password file needs the user in the URL: postgres://USER@HOST/DB".into());
        };
        if rest[..at].contains(':') {
            return Err(
                "the database URL has a password and a password file is given too: keep it in one place".into(),
            );
        }
        let mut encoded = String::with_capacity(password.len() * 3);
        for b in password.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                encoded.push(b as char);
            } else {
                encoded.push_str(&format!("%{b:02X}"));
            }
        }
        Ok(DatabaseUrl::Postgres(format!(
            "{scheme}://{}:{encoded}{}",
            &rest[..at],
            &rest[at..]
        )))
    }

    /// Which engine the URL names.
    pub fn engine(&self) -> Engine {
        match self {
            DatabaseUrl::Sqlite(_) => Engine::Sqlite,
            DatabaseUrl::Postgres(_) => Engine::Postgres,
        }
    }
}

#[derive(Clone)]
enum Pool {
    Sqlite(r2d2::Pool<SqliteConnectionManager>),
    Postgres(r2d2::Pool<PgManager>),
}

/// A PostgreSQL connection with its prepared statements.
pub struct PgConn {
    /// Always `Some` until dropped (see `Drop`).
    client: Option<postgres::Client>,
    cache: sql::StatementCache,
}

impl PgConn {
    fn client(&mut self) -> &mut postgres::Client {
        self.client.as_mut().expect("a live connection holds its client")
    }
}

impl Drop for PgConn {
    /// Closing the blocking client runs its own small runtime, which tokio forbids on an async
    /// thread (the pool is dropped there when the server stops): close it on a plain thread then.
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            std::thread::spawn(move || drop(client));
        }
    }
}

/// r2d2's PostgreSQL manager, with a statement cache per connection.
struct PgManager(PostgresConnectionManager<postgres::NoTls>);

/// A failed connection, said in full. The driver's own message for a server's refusal is only
/// "db error"; an operator needs the server's words ("password authentication failed for user
/// ...", "database ... does not exist"), which never hold the password.
#[derive(Debug)]
struct ConnectError(postgres::Error);

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(db) = self.0.as_db_error() {
            return write!(f, "the server said {}: {}", db.severity(), db.message());
        }
        let mut said = self.0.to_string();
        let mut source = std::error::Error::source(&self.0);
        while let Some(e) = source {
            let more = e.to_string();
            if !said.contains(&more) {
                said.push_str(": ");
                said.push_str(&more);
            }
            source = e.source();
        }
        f.write_str(&said)
    }
}

impl std::error::Error for ConnectError {}

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = ConnectError;

    fn connect(&self) -> Result<PgConn, ConnectError> {
        // Prepared statements keep PostgreSQL's own choice (`plan_cache_mode = auto`): after a
        // few executions a statement whose plan does not depend on its values (by key, by
        // account, by order) is no longer planned again, which is most of a buyer's statements.
        // The reads that do depend on them ask for it ([`Connection::plan_as_key_lookups`]).
        let client = self.0.connect().map_err(ConnectError)?;
        Ok(PgConn {
            client: Some(client),
            cache: sql::StatementCache::new(),
        })
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), ConnectError> {
        self.0.is_valid(conn.client()).map_err(ConnectError)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        self.0.has_broken(conn.client())
    }
}

/// A pool of connections to the issuer database.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    /// Commits made through this pool: lets caches of derived answers (the public catalogue)
    /// know that nothing changed here. On PostgreSQL other replicas write too, which is why the
    /// catalogue cache also expires after at most one second.
    commits: Arc<AtomicU64>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("engine", &self.engine())
            .finish_non_exhaustive()
    }
}

fn configure(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

impl Db {
    /// Opens the database the URL names and brings its schema up to date.
    pub fn connect(url: &DatabaseUrl) -> Result<Db, String> {
        match url {
            DatabaseUrl::Sqlite(path) => Db::open(path),
            DatabaseUrl::Postgres(url) => Db::open_postgres(url),
        }
    }

    /// Opens (creating if needed, mode 0600) a SQLite file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Db, String> {
        crate::secrets::ensure_private_file(path)
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
        Ok(Db {
            pool: Pool::Sqlite(pool),
            commits,
        })
    }

    /// Connects to PostgreSQL and brings its schema up to date (several replicas starting at
    /// once migrate one after the other, under an advisory lock).
    fn open_postgres(url: &str) -> Result<Db, String> {
        let (url, pool_size) = pool_size_from_url(url)?;
        let config: postgres::Config = url.parse().map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
        // The blocking client runs its own small runtime: keep it off any async thread.
        let pool = on_plain_thread(move || {
            let manager = PgManager(PostgresConnectionManager::new(config, postgres::NoTls));
            // Connections are opened as needed (one kept idle), at most `pool_size` (see
            // POSTGRES_POOL_SIZE): N replicas share the server's cores and its max_connections.
            let pool = r2d2::Pool::builder()
                .max_size(pool_size)
                .min_idle(Some(1))
                // No test query before each use: `begun` finds a closed connection on its first
                // statement and takes another.
                .test_on_check_out(false)
                .connection_timeout(Duration::from_secs(10))
                .build(manager)
                .map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
            let mut conn = pool.get().map_err(|e| format!("cannot connect to PostgreSQL: {e}"))?;
            schema::migrate_postgres(conn.client())
                .map_err(|e| format!("cannot migrate the PostgreSQL database: {e}"))?;
            Ok::<_, String>(pool)
        })?;
        Ok(Db {
            pool: Pool::Postgres(pool),
            commits: Arc::new(AtomicU64::new(0)),
        })
    }

    /// The engine behind this pool.
    pub fn engine(&self) -> Engine {
        match self.pool {
            Pool::Sqlite(_) => Engine::Sqlite,
            Pool::Postgres(_) => Engine::Postgres,
        }
    }

    /// How many transactions have committed through this pool so far. Writes by other processes
    /// (the `issuer` CLI beside a running server, other replicas) are not counted.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Folds SQLite's write-ahead log into the database file (benchmarks, maintenance); nothing
    /// to do on PostgreSQL.
    pub fn checkpoint(&self) -> AppResult<()> {
        if let Pool::Sqlite(pool) = &self.pool {
            pool.get()
                .map_err(sql::Error::pool)?
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .map_err(sql::Error::from)?;
        }
        Ok(())
    }

    /// Runs read-only work in one consistent snapshot.
    pub async fn read<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection<'_>) -> AppResult<T> + Send + 'static,
    {
        self.on_blocking_pool(move |db| db.read_here(f)).await
    }

    /// Runs a read of one statement (the session behind a request, the account a payment
    /// belongs to, whether any background work is due): on PostgreSQL the statement runs on its
    /// own, its own consistent snapshot, one round trip instead of three (`BEGIN`, it, `COMMIT`).
    /// A second statement in `f` is refused ([`sql::Error::SecondStatement`]): work of several
    /// statements reads one snapshot through [`Db::read`]. `f` may run twice: a connection the
    /// server has closed is found by the statement, and the read is tried again on another. The
    /// statement runs outside a READ ONLY transaction, so an `execute` in `f` is refused
    /// ([`sql::Error::WriteInRead`]).
    pub async fn read_one<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: Fn(&Connection<'_>) -> AppResult<T> + Send + 'static,
    {
        self.on_blocking_pool(move |db| db.read_one_here(f)).await
    }

    /// [`Db::read_one`] for synchronous code (tests).
    pub fn read_one_sync<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send,
        F: Fn(&Connection<'_>) -> AppResult<T> + Send,
    {
        self.off_async(|| self.read_one_here(f))
    }

    fn read_one_here<T, F>(&self, f: F) -> AppResult<T>
    where
        F: Fn(&Connection<'_>) -> AppResult<T>,
    {
        match &self.pool {
            // One statement is its own snapshot on SQLite too.
            Pool::Sqlite(pool) => {
                let conn = pool.get().map_err(sql::Error::pool)?;
                f(&Connection::sqlite(&conn).single())
            }
            // A read changes nothing: running it again on another connection is safe.
            Pool::Postgres(pool) => on_live_connection(pool, |conn| {
                let PgConn { client, cache } = conn;
                let client = client.as_mut().expect("a live connection holds its client");
                f(&Connection::postgres_autocommit(client, cache))
            })
            .map(|(_, out)| out),
        }
    }

    /// Runs work in a write transaction, committed if `f` returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        self.write_scoped(WriteScope::All, f).await
    }

    /// [`Db::write`] excluding only the writers `scope` names.
    pub async fn write_scoped<T, F>(&self, scope: WriteScope, f: F) -> AppResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send + 'static,
    {
        self.on_blocking_pool(move |db| db.write_here(scope, f)).await
    }

    /// [`Db::read`] for synchronous code (CLI commands, start-up, tests).
    pub fn read_sync<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send,
        F: FnOnce(&Connection<'_>) -> AppResult<T> + Send,
    {
        self.off_async(|| self.read_here(f))
    }

    /// [`Db::write`] for synchronous code (CLI commands, start-up, tests).
    pub fn write_sync<T, F>(&self, f: F) -> AppResult<T>
    where
        T: Send,
        F: FnOnce(&Transaction<'_>) -> AppResult<T> + Send,
    {
        self.off_async(|| self.write_here(WriteScope::All, f))
    }

    /// Runs the blocking work of an async call (`read`, `read_one`, `write_scoped`) on tokio's
    /// blocking pool.
    async fn on_blocking_pool<T, W>(&self, work: W) -> AppResult<T>
    where
        T: Send + 'static,
        W: FnOnce(Db) -> AppResult<T> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || work(db))
            .await
            .map_err(AppError::internal)?
    }

    /// Runs the work of a synchronous call (`read_sync`, `read_one_sync`, `write_sync`): here on
    /// SQLite, on a plain thread on PostgreSQL (the caller may be an async task).
    fn off_async<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        match self.pool {
            Pool::Sqlite(_) => work(),
            Pool::Postgres(_) => on_plain_thread(work),
        }
    }

    fn read_here<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&Connection<'_>) -> AppResult<T>,
    {
        match &self.pool {
            Pool::Sqlite(pool) => {
                // A deferred transaction: every statement of `f` reads the same snapshot.
                let mut conn = pool.get().map_err(sql::Error::pool)?;
                let tx = conn.transaction().map_err(sql::Error::from)?;
                f(&Connection::sqlite(&tx))
            }
            Pool::Postgres(pool) => {
                let mut conn = begun(pool, "START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
                let PgConn { client, cache } = &mut *conn;
                let client = client.as_mut().expect("a live connection holds its client");
                let conn = Connection::postgres_begun(client, cache);
                let out = f(&conn)?;
                conn.commit()?;
                Ok(out)
            }
        }
    }

    fn write_here<T, F>(&self, scope: WriteScope, f: F) -> AppResult<T>
    where
        F: FnOnce(&Transaction<'_>) -> AppResult<T>,
    {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.get().map_err(sql::Error::pool)?;
                let tx = conn
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(sql::Error::from)?;
                let out = f(&Connection::sqlite(&tx))?;
                tx.commit().map_err(sql::Error::from)?;
                Ok(out)
            }
            Pool::Postgres(pool) => {
                // Serialised with every other writer (the lock), committed without waiting for
                // the disk, so the lock is held for the work only and not for an fsync...
                let lock = match scope {
                    WriteScope::All => format!("pg_advisory_xact_lock({WRITE_LOCK})"),
                    // Shared first, as every writer takes the write lock first: a buyer's write
                    // waits for an exclusive writer and never holds its account while it does.
                    WriteScope::Account(id) => format!(
                        "pg_advisory_xact_lock_shared({WRITE_LOCK}), pg_advisory_xact_lock({ACCOUNT_LOCKS}, {})",
                        (id & 0x7fff_ffff) as i32
                    ),
                    WriteScope::Shared => format!("pg_advisory_xact_lock_shared({WRITE_LOCK})"),
                };
                // (Numbers only: the text is built, not bound, so that it goes with the BEGIN.)
                let begin = format!("BEGIN; SELECT set_config('synchronous_commit', 'off', true), {lock}");
                let mut conn = begun(pool, &begin)?;
                let PgConn { client, cache } = &mut *conn;
                let client = client.as_mut().expect("a live connection holds its client");
                let conn = Connection::postgres_begun(client, cache);
                let out = f(&conn)?;
                // ...then made durable before anyone is answered, outside the lock: a tiny
                // synchronous commit, sent with the COMMIT, flushes the WAL up to and past ours,
                // and writers waiting there at once share one flush (group commit).
                conn.commit_then(DURABLE)?;
                self.commits.fetch_add(1, Ordering::Relaxed);
                Ok(out)
            }
        }
    }
}

/// Creates an empty, uniquely named PostgreSQL database on the server `server_url` points at
/// and answers its URL; [`drop_scratch_database`] removes it. For tests and benchmarks, which
/// each get their own database (`OG_TEST_DATABASE_URL` names the server).
pub fn create_scratch_database(server_url: &str, prefix: &str) -> Result<String, String> {
    let name = format!(
        "{prefix}_{}_{}",
        std::process::id(),
        hex::encode(&crate::secrets::random_32()[..6])
    );
    admin(server_url, &format!("CREATE DATABASE {name}"))?;
    Ok(with_database(server_url, &name))
}

/// Drops a database made by [`create_scratch_database`] (closing its connections first).
pub fn drop_scratch_database(server_url: &str, database_url: &str) -> Result<(), String> {
    let name = database_url
        .rsplit('/')
        .next()
        .and_then(|n| n.split('?').next())
        .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .ok_or("not a scratch database URL")?;
    admin(server_url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
}

/// The PostgreSQL server tests use when none is named (`OG_TEST_DATABASE_URL`).
pub const DEFAULT_TEST_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database of its own for one test (or benchmark), dropped with this value.
#[derive(Debug)]
pub struct ScratchDatabase {
    server: String,
    url: String,
}

impl ScratchDatabase {
    /// A new empty database on the server `OG_TEST_DATABASE_URL` names (default
    /// [`DEFAULT_TEST_SERVER`]). Panics with one sentence saying how to start a server when none
    /// answers: a PostgreSQL test cannot run without one.
    pub fn create(prefix: &str) -> ScratchDatabase {
        let server = std::env::var("OG_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_SERVER.to_owned());
        let url = create_scratch_database(&server, prefix).unwrap_or_else(|e| panic!("{e}"));
        ScratchDatabase { server, url }
    }

    /// For the tests of the issuer that run on either engine: a scratch PostgreSQL database
    /// when `OG_TEST_ENGINE=postgres`, else `None` (the data dir's SQLite file).
    pub fn for_engine_under_test(prefix: &str) -> Option<ScratchDatabase> {
        match std::env::var("OG_TEST_ENGINE").as_deref() {
            Ok("postgres") => Some(ScratchDatabase::create(prefix)),
            _ => None,
        }
    }

    /// Its URL.
    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::Postgres(self.url.clone())
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let _ = drop_scratch_database(&self.server, &self.url);
    }
}

fn admin(server_url: &str, statement: &str) -> Result<(), String> {
    // The scratch database's URL keeps a pool size the server URL names; this one connection
    // does not pass it to the server.
    let (server_url, _) = pool_size_from_url(server_url)?;
    let config: postgres::Config = server_url.parse().map_err(|e| format!("invalid PostgreSQL URL: {e}"))?;
    on_plain_thread(|| {
        let mut client = config.connect(postgres::NoTls).map_err(|e| {
            format!(
                "no PostgreSQL server answers at the configured address ({e}); start one (e.g. `pg_ctlcluster 15 main start`, \
                 or `.ci/run` does it) or point OG_TEST_DATABASE_URL at one"
            )
        })?;
        client.batch_execute(statement).map_err(|e| e.to_string())
    })
}

/// `server_url` with its database name replaced by `name`.
fn with_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let base = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

/// Runs `first` (the first thing sent on a connection: a transaction's `BEGIN`, or the one
/// statement of a [`Db::read_one`]) on a pooled PostgreSQL connection, and answers the connection
/// with what `first` gave. The pool does not test a connection before handing it out (that would
/// be one more round trip each time): when `first` fails because the server had closed the
/// connection (it restarted, or ended it), the connection is dropped, the pool discards it
/// (`has_broken`), and `first` runs again on the next one. `first` must do nothing that running
/// it twice would double; the connection it failed on had done nothing.
fn on_live_connection<T>(
    pool: &r2d2::Pool<PgManager>,
    mut first: impl FnMut(&mut PgConn) -> AppResult<T>,
) -> AppResult<(r2d2::PooledConnection<PgManager>, T)> {
    let mut closed = 0;
    loop {
        let mut conn = pool.get().map_err(sql::Error::pool)?;
        match first(&mut conn) {
            Ok(out) => return Ok((conn, out)),
            Err(_) if conn.client().is_closed() && closed <= pool.max_size() => closed += 1,
            Err(e) => return Err(e),
        }
    }
}

/// A pooled PostgreSQL connection on which `begin` (a `BEGIN` and what goes with it, one round
/// trip) has run ([`on_live_connection`]).
fn begun(pool: &r2d2::Pool<PgManager>, begin: &str) -> AppResult<r2d2::PooledConnection<PgManager>> {
    on_live_connection(pool, |conn| {
        conn.client().batch_execute(begin).map_err(|e| {
            if !conn.client().is_closed() {
                // The BEGIN went through and what came with it failed: end that transaction
                // before the connection goes back to the pool.
                let _ = conn.client().batch_execute("ROLLBACK");
            }
            sql::Error::from(e).into()
        })
    })
    .map(|(conn, ())| conn)
}

/// Runs `f` on a thread that is not one of tokio's: the blocking PostgreSQL client starts its
/// own runtime, which tokio refuses inside an async task.
fn on_plain_thread<T: Send, F: FnOnce() -> T + Send>(f: F) -> T {
    std::thread::scope(|s| s.spawn(f).join()).unwrap_or_else(|p| std::panic::resume_unwind(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_from_a_file_is_put_in_the_url_so_that_the_driver_reads_it_back_whole() {
        let password = "p@ss:w/rd?#% é&x=1";
        for url in [
            "postgres://og@db:5432/og",
            "postgresql://og@db/og?sslmode=disable&pool_max_conns=3",
        ] {
            let DatabaseUrl::Postgres(with) = DatabaseUrl::parse(url).unwrap().with_password(password).unwrap() else {
                unreachable!()
            };
            let (driver_url, _) = pool_size_from_url(&with).unwrap();
            let config: postgres::Config = driver_url.parse().unwrap();
            assert_eq!(config.get_password(), Some(password.as_bytes()), "{url}");
            assert_eq!(config.get_user(), Some("og"));
            assert_eq!(config.get_dbname(), Some("og"));
        }
        let refused = |url: &str| DatabaseUrl::parse(url).unwrap().with_password("pw").unwrap_err();
        assert!(refused("postgres://db/og").contains("needs the user"));
        assert!(refused("postgres://og:other@db/og").contains("keep it in one place"));
        assert!(refused("sqlite:/tmp/x.sqlite3").contains("not a SQLite file"));
    }

    #[test]
    fn the_pool_size_is_read_off_the_url_and_not_passed_to_the_server() {
        let u = "postgres://og@db:5432/og";
        assert_eq!(pool_size_from_url(u).unwrap(), (u.to_owned(), POSTGRES_POOL_SIZE));
        assert_eq!(
            pool_size_from_url("postgres://og@db/og?pool_max_conns=20").unwrap(),
            ("postgres://og@db/og".to_owned(), 20)
        );
        assert_eq!(
            pool_size_from_url("postgres://og@db/og?sslmode=disable&pool_max_conns=3&connect_timeout=5").unwrap(),
            ("postgres://og@db/og?sslmode=disable&connect_timeout=5".to_owned(), 3)
        );
        for bad in ["0", "101", "many", ""] {
            let err = pool_size_from_url(&format!("postgres://og@db/og?pool_max_conns={bad}")).unwrap_err();
            assert!(err.contains("pool_max_conns"), "{err}");
        }
    }

    #[test]
    fn database_urls_name_their_engine_and_hide_passwords() {
        assert_eq!(
            DatabaseUrl::parse("sqlite:/tmp/x.sqlite3").unwrap(),
            DatabaseUrl::Sqlite("/tmp/x.sqlite3".into())
        );
        let pg = DatabaseUrl::parse("postgres://og:secret@db/og").unwrap();
        assert_eq!(pg.engine(), Engine::Postgres);
        assert!(!format!("{pg:?}").contains("secret"));
        let err = DatabaseUrl::parse("mysql://x").unwrap_err();
        assert!(err.contains("sqlite:PATH or postgres://"), "{err}");
        assert!(DatabaseUrl::parse("sqlite:").is_err());
    }

    #[test]
    fn a_scratch_database_url_keeps_the_server_and_options() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(with_database("postgres://u@h", "t2"), "postgres://u@h/t2");
        assert_eq!(
            with_database("postgresql://u@h/db?sslmode=disable", "t3"),
            "postgresql://u@h/t3?sslmode=disable"
        );
    }
}
