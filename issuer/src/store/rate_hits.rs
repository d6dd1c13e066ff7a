//! The queries of the rate limits' hits (`rate_hits`: one row per hit, by bucket and time):
//! hits counted in a window, a hit recorded, hits older than a day forgotten. The rules (which
//! buckets, windows and limits, the per-account login slowdown) are in `shop::auth`
//! (`rate_limit`, `login_delay`, `record_login_failure`), which calls these.

use super::sql::{Connection, Result, params};

/// Forgets every hit before `before`.
pub fn delete_before(tx: &Connection, before: i64) -> Result<()> {
    tx.execute("DELETE FROM rate_hits WHERE at < ?1", [before])?;
    Ok(())
}

/// How many hits a bucket has after `after`, and when the oldest of them was.
pub fn count_and_oldest_after(conn: &Connection, bucket: &str, after: i64) -> Result<(i64, Option<i64>)> {
    conn.query_row(
        "SELECT count(*), min(at) FROM rate_hits WHERE bucket = ?1 AND at > ?2",
        params![bucket, after],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// How many hits a bucket has after `after`, and when the latest of them was.
pub fn count_and_latest_after(conn: &Connection, bucket: &str, after: i64) -> Result<(i64, Option<i64>)> {
    conn.query_row(
        "SELECT count(*), max(at) FROM rate_hits WHERE bucket = ?1 AND at > ?2",
        params![bucket, after],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Records a hit in a bucket at `at`.
pub fn insert(tx: &Connection, bucket: &str, at: i64) -> Result<()> {
    tx.execute(
        "INSERT INTO rate_hits (bucket, at) VALUES (?1, ?2)",
        params![bucket, at],
    )?;
    Ok(())
}
