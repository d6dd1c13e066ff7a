//! One query API over both engines: SQLite (rusqlite) and PostgreSQL (the `postgres` crate).
//!
//! Every rule of the issuer is written once, against these types: [`Connection`] (a transaction
//! on either engine), [`Row`], [`params!`](crate::params), [`OptionalExtension`]. The query text
//! is the same on both engines wherever the dialects agree, which is almost everywhere: SQLite's
//! `?N` placeholders are rewritten to PostgreSQL's `$N` here, integers are `BIGINT` on
//! PostgreSQL (so an `i64` binds to every integer column), booleans are stored as 0/1 integers on
//! both. The few statements that cannot be written the same way ask [`Connection::engine`] and
//! carry a comment saying why; they all live in the storage-facing modules, never in routes.
//!
//! Why not sqlx: the issuer's rules are synchronous functions over one transaction (run on
//! tokio's blocking pool), and sqlx's SQLite driver cannot share a workspace with rusqlite 0.40
//! (one crate may link `sqlite3`; see FIELD-NOTES). A thin layer over the two well-kept
//! synchronous drivers keeps the rules unchanged and both engines on the same SQL.

use std::cell::{Cell, RefCell};
use std::fmt;

use postgres::types::{IsNull, Type};

/// Which database engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// A value bound to a statement or read from a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

/// A borrowed value read from a row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl Value {
    fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Integer(i) => ValueRef::Integer(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(s) => ValueRef::Text(s),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

/// Errors of the storage layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `query_row` found no row (what [`OptionalExtension::optional`] turns into `None`).
    #[error("query returned no rows")]
    QueryReturnedNoRows,
    /// A column held a value of another type than the code asked for.
    #[error("column {column}: {message}")]
    Conversion { column: usize, message: String },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("{}", postgres_message(.0))]
    Postgres(#[from] postgres::Error),
    /// No connection could be had from the pool (the database is down or saturated).
    #[error("database pool: {0}")]
    Pool(String),
    /// Work given to `Db::read_one` ran a second statement (a defect: it needs `Db::read`).
    #[error("a second statement in a single-statement read (it needs a transaction: Db::read)")]
    SecondStatement,
    /// Work given to `Db::read_one` tried to change something (a defect: it needs `Db::write`);
    /// its statement runs outside a READ ONLY transaction, so the store refuses it instead.
    #[error("a change in a single-statement read (it needs Db::write)")]
    WriteInRead,
}

/// PostgreSQL's own words for an error (the driver's `Display` says only "db error").
fn postgres_message(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({}): {}", db.severity(), db.code().code(), db.message()),
        None => match std::error::Error::source(e) {
            Some(s) => format!("{e}: {s}"),
            None => e.to_string(),
        },
    }
}

impl Error {
    /// True when the statement broke a UNIQUE constraint (or primary key) on either engine.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            Error::Postgres(e) => e.code() == Some(&postgres::error::SqlState::UNIQUE_VIOLATION),
            _ => false,
        }
    }

    /// The pool gave no connection.
    pub fn pool(e: r2d2::Error) -> Error {
        Error::Pool(e.to_string())
    }

    /// A conversion error for column `column`.
    pub fn conversion(column: usize, message: impl Into<String>) -> Error {
        Error::Conversion {
            column,
            message: message.into(),
        }
    }
}

/// The storage layer's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `query_row(...).optional()`: no row is `None`, not an error.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::QueryReturnedNoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Binding values

/// A Rust value that can be bound to a statement parameter.
pub trait ToSql {
    fn to_value(&self) -> Value;
}

macro_rules! int_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_value(&self) -> Value {
                Value::Integer(*self as i64)
            }
        }
    )*};
}
int_to_sql!(i64, i32, i16, i8, u32, u16, u8);

impl ToSql for u64 {
    fn to_value(&self) -> Value {
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToSql for usize {
    fn to_value(&self) -> Value {
        Value::Integer(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl ToSql for bool {
    fn to_value(&self) -> Value {
        Value::Integer(i64::from(*self))
    }
}
impl ToSql for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}
impl ToSql for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_owned())
    }
}
impl ToSql for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}
impl ToSql for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl ToSql for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}
impl<const N: usize> ToSql for [u8; N] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}
impl<T: ToSql> ToSql for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}
impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}
impl ToSql for Value {
    fn to_value(&self) -> Value {
        self.clone()
    }
}

/// The parameters of one statement: `params![a, b]`, `[a]`, `[]`.
pub trait Params {
    fn into_values(self) -> Vec<Value>;
}

impl Params for &[&dyn ToSql] {
    fn into_values(self) -> Vec<Value> {
        self.iter().map(|v| v.to_value()).collect()
    }
}

impl Params for [&dyn ToSql; 0] {
    fn into_values(self) -> Vec<Value> {
        Vec::new()
    }
}

impl Params for Vec<Value> {
    fn into_values(self) -> Vec<Value> {
        self
    }
}

macro_rules! array_params {
    ($($n:literal),*) => {$(
        impl<T: ToSql> Params for [T; $n] {
            fn into_values(self) -> Vec<Value> {
                self.iter().map(|v| v.to_value()).collect()
            }
        }
        impl<T: ToSql> Params for &[T; $n] {
            fn into_values(self) -> Vec<Value> {
                self.iter().map(|v| v.to_value()).collect()
            }
        }
    )*};
}
array_params!(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);

/// `params![a, b, c]`: a list of values of different types for one statement.
#[macro_export]
macro_rules! params {
    () => {
        &[] as &[&dyn $crate::store::sql::ToSql]
    };
    ($($p:expr),+ $(,)?) => {
        &[$(&$p as &dyn $crate::store::sql::ToSql),+] as &[&dyn $crate::store::sql::ToSql]
    };
}
pub use crate::params;

// ---------------------------------------------------------------------------------------------
// Reading values

/// A Rust value that can be read from a column.
pub trait FromSql: Sized {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String>;
}

macro_rules! int_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
                match value {
                    ValueRef::Integer(i) => <$t>::try_from(i)
                        .map_err(|_| format!("{i} does not fit {}", stringify!($t))),
                    other => Err(format!("expected an integer, found {}", kind(other))),
                }
            }
        }
    )*};
}
int_from_sql!(i64, i32, i16, i8, u64, u32, u16, u8, usize);

fn kind(v: ValueRef<'_>) -> &'static str {
    match v {
        ValueRef::Null => "NULL",
        ValueRef::Integer(_) => "an integer",
        ValueRef::Real(_) => "a real",
        ValueRef::Text(_) => "text",
        ValueRef::Blob(_) => "a blob",
    }
}

impl FromSql for bool {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Integer(i) => Ok(i != 0),
            other => Err(format!("expected a boolean integer, found {}", kind(other))),
        }
    }
}
impl FromSql for f64 {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Real(f) => Ok(f),
            ValueRef::Integer(i) => Ok(i as f64),
            other => Err(format!("expected a number, found {}", kind(other))),
        }
    }
}
impl FromSql for String {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Text(s) => Ok(s.to_owned()),
            other => Err(format!("expected text, found {}", kind(other))),
        }
    }
}
impl FromSql for Vec<u8> {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(format!("expected a blob, found {}", kind(other))),
        }
    }
}
impl<const N: usize> FromSql for [u8; N] {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Blob(b) => b
                .try_into()
                .map_err(|_| format!("expected {N} bytes, found {}", b.len())),
            other => Err(format!("expected a blob, found {}", kind(other))),
        }
    }
}
impl<T: FromSql> FromSql for Option<T> {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        match value {
            ValueRef::Null => Ok(None),
            v => T::from_sql(v).map(Some),
        }
    }
}
impl FromSql for Value {
    fn from_sql(value: ValueRef<'_>) -> Result<Self, String> {
        Ok(match value {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(i) => Value::Integer(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(s) => Value::Text(s.to_owned()),
            ValueRef::Blob(b) => Value::Blob(b.to_vec()),
        })
    }
}

/// One row of a result.
pub struct Row<'a> {
    inner: RowInner<'a>,
}

enum RowInner<'a> {
    Sqlite(&'a rusqlite::Row<'a>),
    Values(&'a [Value]),
}

impl Row<'_> {
    /// The value of column `idx` (0-based) as `T`.
    pub fn get<I: RowIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        let idx = idx.index();
        let value = match &self.inner {
            RowInner::Sqlite(r) => match r.get_ref(idx)? {
                rusqlite::types::ValueRef::Null => ValueRef::Null,
                rusqlite::types::ValueRef::Integer(i) => ValueRef::Integer(i),
                rusqlite::types::ValueRef::Real(f) => ValueRef::Real(f),
                rusqlite::types::ValueRef::Text(t) => {
                    ValueRef::Text(std::str::from_utf8(t).map_err(|e| Error::conversion(idx, e.to_string()))?)
                }
                rusqlite::types::ValueRef::Blob(b) => ValueRef::Blob(b),
            },
            RowInner::Values(v) => v
                .get(idx)
                .ok_or_else(|| Error::conversion(idx, "no such column"))?
                .as_ref(),
        };
        T::from_sql(value).map_err(|m| Error::conversion(idx, m))
    }
}

/// A column index (0-based).
pub trait RowIndex {
    fn index(self) -> usize;
}
impl RowIndex for usize {
    fn index(self) -> usize {
        self
    }
}

// ---------------------------------------------------------------------------------------------
// Connections

/// A connection inside a transaction, on either engine. `Transaction` is the same type: every
/// piece of work runs in a transaction (see `store::Db`).
pub struct Connection<'a> {
    inner: ConnInner<'a>,
    /// For a single-statement read (`Db::read_one`), whether its statement is still to come;
    /// `None` for a transaction, which runs any number.
    single: Option<Cell<bool>>,
}

/// The same type as [`Connection`]: the name says the work writes.
pub type Transaction<'a> = Connection<'a>;

enum ConnInner<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(RefCell<PgTx<'a>>),
}

/// Prepared statements of one PostgreSQL connection, by their SQLite-dialect text: a statement is
/// parsed once per connection, then each use is one round trip.
pub type StatementCache = std::collections::HashMap<String, postgres::Statement>;

/// An open transaction on a PostgreSQL connection. The store begins it with its first statement
/// in the same round trip (`store::Db`), and [`Connection::commit`] ends it with whatever must
/// follow the `COMMIT` (again one round trip), which `postgres::Transaction` cannot do: it sends
/// `BEGIN` and `COMMIT` on their own. Dropped without a commit, it rolls back, as
/// `postgres::Transaction` does.
struct PgTx<'a> {
    client: &'a mut postgres::Client,
    cache: &'a mut StatementCache,
    /// Until committed (or rolled back on drop).
    open: bool,
}

impl PgTx<'_> {
    fn statement(&mut self, sql: &str) -> Result<postgres::Statement> {
        if let Some(s) = self.cache.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&to_postgres(sql))?;
        self.cache.insert(sql.to_owned(), s.clone());
        Ok(s)
    }
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if self.open {
            // A connection this fails on is broken: the pool discards it (`has_broken`).
            let _ = self.client.batch_execute("ROLLBACK");
        }
    }
}

impl fmt::Debug for Connection<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection").field("engine", &self.engine()).finish()
    }
}

impl<'a> Connection<'a> {
    /// Wraps a SQLite connection (the caller owns the transaction).
    pub fn sqlite(conn: &'a rusqlite::Connection) -> Connection<'a> {
        Connection {
            inner: ConnInner::Sqlite(conn),
            single: None,
        }
    }

    /// Wraps a PostgreSQL connection on which the caller has just begun a transaction, and the
    /// connection's statement cache; [`Connection::commit`] ends the transaction, dropping the
    /// connection without it rolls back.
    pub(crate) fn postgres_begun(client: &'a mut postgres::Client, cache: &'a mut StatementCache) -> Connection<'a> {
        Connection {
            inner: ConnInner::Postgres(RefCell::new(PgTx {
                client,
                cache,
                open: true,
            })),
            single: None,
        }
    }

    /// Wraps a PostgreSQL connection outside any transaction, for one statement
    /// ([`Connection::single`]): it runs on its own, its own consistent snapshot, with no `BEGIN`
    /// and `COMMIT` round trips around it.
    pub(crate) fn postgres_autocommit(
        client: &'a mut postgres::Client,
        cache: &'a mut StatementCache,
    ) -> Connection<'a> {
        Connection {
            inner: ConnInner::Postgres(RefCell::new(PgTx {
                client,
                cache,
                open: false,
            })),
            single: None,
        }
        .single()
    }

    /// This connection for one query only: a second one is refused ([`Error::SecondStatement`]),
    /// as it would not read the first one's snapshot, and so is any `execute`
    /// ([`Error::WriteInRead`]): the query runs outside a READ ONLY transaction.
    pub(crate) fn single(mut self) -> Connection<'a> {
        self.single = Some(Cell::new(true));
        self
    }

    /// Counts a statement against [`Connection::single`].
    fn one_more_statement(&self) -> Result<()> {
        match &self.single {
            Some(left) if !left.replace(false) => Err(Error::SecondStatement),
            _ => Ok(()),
        }
    }

    /// Before a statement that may change something ([`Connection::execute`], `execute_batch`):
    /// refused on a [`Connection::single`] read, any number in a transaction.
    fn one_more_change(&self) -> Result<()> {
        match self.single {
            Some(_) => Err(Error::WriteInRead),
            None => Ok(()),
        }
    }

    /// Commits a PostgreSQL transaction (SQLite transactions are committed by their owner).
    pub fn commit(self) -> Result<()> {
        self.commit_then("")
    }

    /// Commits a PostgreSQL transaction and runs `then` (statements without parameters, after a
    /// `;`) in the same round trip; nothing of `then` runs if the commit fails. SQLite
    /// transactions are committed by their owner and `then` is not run.
    pub(crate) fn commit_then(self, then: &str) -> Result<()> {
        match self.inner {
            ConnInner::Sqlite(_) => Ok(()),
            ConnInner::Postgres(tx) => {
                let mut tx = tx.into_inner();
                if !tx.open {
                    // A single statement outside a transaction: nothing to end.
                    return Ok(());
                }
                // Sent, the transaction is over whatever the answer: a failed COMMIT ends it
                // too, and a connection that broke on the way is discarded by the pool.
                tx.open = false;
                let sql = if then.is_empty() {
                    "COMMIT".to_owned()
                } else {
                    format!("COMMIT; {then}")
                };
                let done = tx.client.batch_execute(&sql);
                if done.is_err() {
                    // A statement of `then` that failed left its own transaction open: close it
                    // before the connection goes back to the pool (after a failed COMMIT there
                    // is none, and this only warns).
                    let _ = tx.client.batch_execute("ROLLBACK");
                }
                Ok(done?)
            }
        }
    }

    /// The engine behind this connection, for the few statements the dialects write differently.
    pub fn engine(&self) -> Engine {
        match self.inner {
            ConnInner::Sqlite(_) => Engine::Sqlite,
            ConnInner::Postgres(_) => Engine::Postgres,
        }
    }

    /// SQL for the JSON array (as text) of `expr` over a group: `json_group_array` on SQLite,
    /// `json_agg` on PostgreSQL (which answers NULL for no rows, SQLite `[]`).
    pub fn json_array_agg(&self, expr: &str) -> String {
        match self.engine() {
            Engine::Sqlite => format!("json_group_array({expr})"),
            Engine::Postgres => format!("COALESCE(CAST(json_agg({expr}) AS TEXT), '[]')"),
        }
    }

    /// Takes the lock of a commit-ordered log, held to the end of the transaction: a writer in
    /// [`super::WriteScope::Shared`] takes it before it reads the log's head. Nothing to do on
    /// SQLite, whose one writer already excludes every other.
    pub fn lock_log(&self, log: super::locks::Log) -> Result<()> {
        match self.engine() {
            Engine::Sqlite => Ok(()),
            Engine::Postgres => self.query_row(
                "SELECT pg_advisory_xact_lock(?1, ?2)",
                params![super::locks::LOG_LOCKS, log as i32],
                |_| Ok(()),
            ),
        }
    }

    /// Plans every later statement of this transaction as what it is, a lookup by key: with its
    /// values (PostgreSQL's `plan_cache_mode = force_custom_plan`), for reads such as "these
    /// serials", where a plan made once for any values walks the whole event; and never as a
    /// sequential scan (`enable_seqscan = off`), which PostgreSQL chose for "these 50 serials"
    /// whenever its statistics were older than a log growing all day (an event's first hour,
    /// or autovacuum off), reading every admission again for each statement. Both to the end of
    /// the transaction; only for transactions whose later statements all name a key or an
    /// index's leading column. SQLite plans each statement when it is prepared, from its indexes,
    /// and has nothing to change.
    pub fn plan_as_key_lookups(&self) -> Result<()> {
        match self.engine() {
            Engine::Sqlite => Ok(()),
            Engine::Postgres => self.query_row(
                "SELECT set_config('plan_cache_mode', 'force_custom_plan', true),
                        set_config('enable_seqscan', 'off', true)",
                [],
                |_| Ok(()),
            ),
        }
    }

    /// `n` new ticket serials, ascending. SQLite has one writer, so the next numbers after the
    /// highest are free; on PostgreSQL buyers' payments issue tickets side by side
    /// (`WriteScope::Account`), so the numbers come from the `ticket_serials` sequence
    /// (migration 11), which no two transactions share. A serial is signed into the ticket's
    /// code before its row exists, so the table's own key default cannot give it.
    pub fn new_ticket_serials(&self, n: usize) -> Result<Vec<i64>> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        match self.engine() {
            Engine::Sqlite => {
                let first: i64 =
                    self.query_row("SELECT COALESCE(MAX(serial), 0) + 1 FROM tickets", [], |r| r.get(0))?;
                Ok((first..first + n).collect())
            }
            Engine::Postgres => self.query_all(
                "SELECT nextval('ticket_serials') FROM generate_series(1, CAST(?1 AS BIGINT))",
                [n],
                |r| r.get(0),
            ),
        }
    }

    /// SQL for "`column` is one of the integers of the JSON array in parameter `param`, or that
    /// parameter is NULL": JSON functions are named differently on the two engines.
    pub fn in_json_ids_or_all(&self, column: &str, param: u32) -> String {
        match self.engine() {
            Engine::Sqlite => format!("(?{param} IS NULL OR {column} IN (SELECT value FROM json_each(?{param})))"),
            Engine::Postgres => format!(
                "(CAST(?{param} AS JSON) IS NULL OR {column} IN \
                 (SELECT CAST(value AS BIGINT) FROM json_array_elements_text(CAST(?{param} AS JSON))))"
            ),
        }
    }

    /// Runs a statement; answers the number of rows changed.
    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.one_more_change()?;
        let values = params.into_values();
        match &self.inner {
            ConnInner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                Ok(stmt.execute(rusqlite::params_from_iter(values.iter()))?)
            }
            ConnInner::Postgres(tx) => {
                let mut tx = tx.borrow_mut();
                let stmt = tx.statement(sql)?;
                let refs = pg_params(&values);
                Ok(tx.client.execute(&stmt, &refs)? as usize)
            }
        }
    }

    /// Runs several statements separated by `;`, without parameters (schema work).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        self.one_more_change()?;
        match &self.inner {
            ConnInner::Sqlite(c) => Ok(c.execute_batch(sql)?),
            ConnInner::Postgres(tx) => Ok(tx.borrow_mut().client.batch_execute(sql)?),
        }
    }

    /// The first row of a query, read by `f`; [`Error::QueryReturnedNoRows`] when there is none.
    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.one_more_statement()?;
        let values = params.into_values();
        match &self.inner {
            ConnInner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
                match rows.next()? {
                    Some(r) => f(&Row {
                        inner: RowInner::Sqlite(r),
                    }),
                    None => Err(Error::QueryReturnedNoRows),
                }
            }
            ConnInner::Postgres(tx) => {
                let mut tx = tx.borrow_mut();
                let stmt = tx.statement(sql)?;
                let refs = pg_params(&values);
                let rows = tx.client.query(&stmt, &refs)?;
                match rows.first() {
                    Some(r) => {
                        let values = pg_row(r)?;
                        f(&Row {
                            inner: RowInner::Values(&values),
                        })
                    }
                    None => Err(Error::QueryReturnedNoRows),
                }
            }
        }
    }

    /// Every row of a query, each read by `f`.
    pub fn query_all<T, P, F>(&self, sql: &str, params: P, mut f: F) -> Result<Vec<T>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        self.one_more_statement()?;
        let values = params.into_values();
        let mut out = Vec::new();
        match &self.inner {
            ConnInner::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(values.iter()))?;
                while let Some(r) = rows.next()? {
                    out.push(f(&Row {
                        inner: RowInner::Sqlite(r),
                    })?);
                }
            }
            ConnInner::Postgres(tx) => {
                let rows = {
                    let mut tx = tx.borrow_mut();
                    let stmt = tx.statement(sql)?;
                    let refs = pg_params(&values);
                    tx.client.query(&stmt, &refs)?
                };
                for r in rows {
                    let values = pg_row(&r)?;
                    out.push(f(&Row {
                        inner: RowInner::Values(&values),
                    })?);
                }
            }
        }
        Ok(out)
    }

    /// A statement to run once or several times (`prepare_cached` keeps SQLite's compiled form).
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'_, 'a>> {
        Ok(Statement {
            conn: self,
            sql: sql.to_owned(),
        })
    }

    /// Same as [`Connection::prepare_cached`].
    pub fn prepare(&self, sql: &str) -> Result<Statement<'_, 'a>> {
        self.prepare_cached(sql)
    }
}

/// A statement bound to a connection (rusqlite's shape, so rules read the same on both engines).
pub struct Statement<'c, 'a> {
    conn: &'c Connection<'a>,
    sql: String,
}

impl Statement<'_, '_> {
    /// Every row, each read by `f` (read eagerly: the answer is an iterator over the results).
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<std::vec::IntoIter<Result<T>>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        let mut f = f;
        let mut out = Vec::new();
        // Errors of `f` are per row (rusqlite's shape); errors of the query itself are returned.
        self.conn.query_all(&self.sql, params, |r| {
            out.push(f(r));
            Ok(())
        })?;
        Ok(out.into_iter())
    }

    /// The first row, read by `f`.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.conn.query_row(&self.sql, params, f)
    }

    /// Runs the statement; answers the number of rows changed.
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        self.conn.execute(&self.sql, params)
    }

    /// Whether the query returns at least one row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        self.conn
            .query_row(&self.sql, params, |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
    }
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL specifics

/// `?N` -> `$N` and `?` -> `$k` (k counting up), outside quoted strings and identifiers.
pub fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1u32;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    out.push_str(&digits);
                }
            }
            None => out.push(c),
        }
    }
    out
}

fn pg_params(values: &[Value]) -> Vec<&(dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// Binds a value to whatever type PostgreSQL inferred for the parameter: the query text is
/// SQLite's, where a parameter has no declared type.
impl postgres::types::ToSql for Value {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Integer(i) => match *ty {
                Type::INT8 => i.to_sql(ty, out),
                Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                Type::BOOL => (*i != 0).to_sql(ty, out),
                Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                Type::FLOAT4 => (*i as f32).to_sql(ty, out),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    i.to_string().to_sql(&Type::TEXT, out)
                }
                _ => Err(format!("cannot bind an integer to a parameter of type {ty}").into()),
            },
            Value::Real(f) => match *ty {
                Type::FLOAT8 => f.to_sql(ty, out),
                Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                _ => Err(format!("cannot bind a real to a parameter of type {ty}").into()),
            },
            Value::Text(s) => match *ty {
                Type::BYTEA => s.as_bytes().to_sql(ty, out),
                Type::JSON => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
                Type::INT8 => s.parse::<i64>()?.to_sql(ty, out),
                _ => {
                    out.extend_from_slice(s.as_bytes());
                    Ok(IsNull::No)
                }
            },
            Value::Blob(b) => match *ty {
                Type::BYTEA => b.as_slice().to_sql(ty, out),
                _ => Err(format!("cannot bind bytes to a parameter of type {ty}").into()),
            },
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

/// Reads a PostgreSQL row into values, by the declared type of each column.
fn pg_row(row: &postgres::Row) -> Result<Vec<Value>> {
    let mut out = Vec::with_capacity(row.len());
    for (i, col) in row.columns().iter().enumerate() {
        let v = match *col.type_() {
            Type::INT8 => row.try_get::<_, Option<i64>>(i)?.map(Value::Integer),
            Type::INT4 => row.try_get::<_, Option<i32>>(i)?.map(|v| Value::Integer(v.into())),
            Type::INT2 => row.try_get::<_, Option<i16>>(i)?.map(|v| Value::Integer(v.into())),
            Type::BOOL => row.try_get::<_, Option<bool>>(i)?.map(|v| Value::Integer(v.into())),
            Type::FLOAT8 => row.try_get::<_, Option<f64>>(i)?.map(Value::Real),
            Type::FLOAT4 => row.try_get::<_, Option<f32>>(i)?.map(|v| Value::Real(v.into())),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                row.try_get::<_, Option<String>>(i)?.map(Value::Text)
            }
            Type::BYTEA => row.try_get::<_, Option<Vec<u8>>>(i)?.map(Value::Blob),
            Type::VOID => None,
            // SUM over integers is NUMERIC on PostgreSQL (an integer on SQLite).
            Type::NUMERIC => row.try_get::<_, Option<Numeric>>(i)?.map(|n| n.0),
            ref t if t.name() == "citext" => row.try_get::<_, Option<String>>(i)?.map(Value::Text),
            ref other => {
                return Err(Error::conversion(
                    i,
                    format!("column type {other} is not read by the store: cast it to BIGINT or TEXT in the query"),
                ));
            }
        };
        out.push(v.unwrap_or(Value::Null));
    }
    Ok(out)
}

/// A NUMERIC column read as an integer when it is one (a SUM), else as a real.
struct Numeric(Value);

impl<'a> postgres::types::FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        // Binary NUMERIC: ndigits, weight, sign, dscale (i16/u16 each), then base-10000 digits.
        let word = |i: usize| -> std::result::Result<u16, String> {
            raw.get(i * 2..i * 2 + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "truncated NUMERIC".to_owned())
        };
        let ndigits = usize::from(word(0)?);
        let weight = i32::from(word(1)? as i16);
        let sign = word(2)?;
        if sign == 0xC000 {
            return Ok(Numeric(Value::Real(f64::NAN)));
        }
        let mut int: i128 = 0;
        let mut real = 0f64;
        let mut fractional = false;
        for d in 0..ndigits {
            let digit = i128::from(word(4 + d)?);
            let power = weight - d as i32;
            if power >= 0 {
                int += digit * 10_000i128.pow(power as u32);
            } else if digit != 0 {
                fractional = true;
            }
            real += digit as f64 * 10_000f64.powi(power);
        }
        let negative = sign == 0x4000;
        Ok(Numeric(match (fractional, i64::try_from(int)) {
            (false, Ok(v)) => Value::Integer(if negative { -v } else { v }),
            _ => Value::Real(if negative { -real } else { real }),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as R};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(R::Null),
            Value::Integer(i) => ToSqlOutput::Borrowed(R::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(R::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(R::Text(s.as_bytes())),
            Value::Blob(b) => ToSqlOutput::Borrowed(R::Blob(b)),
        })
    }
}

/// A database error is an internal error of the request that met it.
impl From<Error> for crate::error::AppError {
    fn from(e: Error) -> crate::error::AppError {
        crate::error::AppError::Internal(format!("database: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_and_bare_placeholders_become_dollar_parameters() {
        assert_eq!(
            to_postgres("SELECT a FROM t WHERE a = ?1 AND b = ?2 OR c = ?1"),
            "SELECT a FROM t WHERE a = $1 AND b = $2 OR c = $1"
        );
        assert_eq!(
            to_postgres("INSERT INTO t VALUES (?, ?)"),
            "INSERT INTO t VALUES ($1, $2)"
        );
    }

    #[test]
    fn a_question_mark_inside_a_string_is_left_alone() {
        assert_eq!(to_postgres("SELECT 'why?' WHERE a = ?1"), "SELECT 'why?' WHERE a = $1");
    }

    #[test]
    fn no_row_is_none_with_optional_and_other_errors_stay_errors() {
        let no: Result<i64> = Err(Error::QueryReturnedNoRows);
        assert_eq!(no.optional().unwrap(), None);
        let bad: Result<i64> = Err(Error::conversion(0, "x"));
        assert!(bad.optional().is_err());
    }

    #[test]
    fn sqlite_rows_read_through_the_same_api() {
        let c = rusqlite::Connection::open_in_memory().unwrap();
        let conn = Connection::sqlite(&c);
        conn.execute_batch("CREATE TABLE t (a INTEGER, b TEXT, c BLOB)")
            .unwrap();
        conn.execute("INSERT INTO t VALUES (?1, ?2, ?3)", params![7_i64, "x", vec![1u8, 2]])
            .unwrap();
        let (a, b, c): (i64, String, Vec<u8>) = conn
            .query_row("SELECT a, b, c FROM t WHERE a = ?1", [7], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .unwrap();
        assert_eq!((a, b.as_str(), c), (7, "x", vec![1, 2]));
        let none = conn
            .query_row("SELECT a FROM t WHERE a = 8", [], |r| r.get::<_, i64>(0))
            .optional()
            .unwrap();
        assert_eq!(none, None);
        let err = conn
            .query_row("SELECT b FROM t", [], |r| r.get::<_, i64>(0))
            .unwrap_err();
        assert!(err.to_string().contains("expected an integer"), "{err}");
    }
}
