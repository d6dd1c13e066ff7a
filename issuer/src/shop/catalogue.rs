//! The public catalogue, read from SQLite at most once per change and per second.
//!
//! Browsing is most of the traffic when sales open (issue 3 asks for 20,000 catalogue requests a
//! second), and every request used to query SQLite on the blocking pool. This cache keeps the
//! answers (the event list per filter, one event, the filter facets, and the list API's JSON
//! bytes) and reuses one only while no transaction has committed through the issuer's pool since
//! it was read ([`crate::store::Db::commits`]) and for at most [`TTL`]. A purchase therefore shows on
//! the next page view; writes by another process (the `issuer` CLI beside a running server) show
//! within [`TTL`]. Pages are still rendered per request: they carry the visitor's own navigation.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;

use crate::error::AppResult;
use crate::shop::orders::{self as shop, EventFilter, EventView};
use crate::store::Db;

/// The longest an answer is reused, even with no commit seen.
pub const TTL: Duration = Duration::from_secs(1);

/// Entries kept per kind before the oldest are dropped (filters come from visitors).
const MAX_ENTRIES: usize = 1000;

/// Sport, venue and day values to filter on.
pub type Facets = (Vec<String>, Vec<String>, Vec<String>);

struct Entry<V> {
    commits: u64,
    at: Instant,
    value: V,
}

struct Map<K, V> {
    inner: Mutex<HashMap<K, Entry<V>>>,
}

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map {
            inner: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash, V: Clone> Map<K, V> {
    fn get(&self, key: &K, commits: u64, now: Instant) -> Option<V> {
        let m = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        m.get(key)
            .filter(|e| e.commits == commits && now.duration_since(e.at) < TTL)
            .map(|e| e.value.clone())
    }

    fn put(&self, key: K, commits: u64, now: Instant, value: V) {
        let mut m = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if m.len() >= MAX_ENTRIES {
            m.retain(|_, e| e.commits == commits && now.duration_since(e.at) < TTL);
            if m.len() >= MAX_ENTRIES {
                m.clear();
            }
        }
        m.insert(
            key,
            Entry {
                commits,
                at: now,
                value,
            },
        );
    }
}

/// Filters as a cache key.
type FilterKey = (Option<String>, Option<String>, Option<String>);

fn key(f: &EventFilter) -> FilterKey {
    (f.sport.clone(), f.day.clone(), f.venue.clone())
}

/// Cached catalogue answers of one issuer (one in its `AppState`).
#[derive(Default)]
pub struct CatalogueCache {
    lists: Map<FilterKey, Arc<Vec<EventView>>>,
    list_json: Map<FilterKey, Bytes>,
    events: Map<i64, Arc<EventView>>,
    facets: Map<(), Arc<Facets>>,
}

impl std::fmt::Debug for CatalogueCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CatalogueCache")
    }
}

/// Reads through the cache: `read` runs on the database only on a miss.
async fn through<K, V, F>(db: &Db, map: &Map<K, V>, k: K, read: F) -> AppResult<V>
where
    K: Eq + Hash,
    V: Clone + Send + 'static,
    F: FnOnce(&crate::store::sql::Connection) -> AppResult<V> + Send + 'static,
{
    // The commit count is taken before reading, so a commit during the read makes the entry stale.
    let commits = db.commits();
    let now = Instant::now();
    if let Some(v) = map.get(&k, commits, now) {
        return Ok(v);
    }
    let v = db.read(read).await?;
    map.put(k, commits, now, v.clone());
    Ok(v)
}

impl CatalogueCache {
    /// Events matching `f`, soonest first.
    pub async fn list(&self, db: &Db, f: EventFilter) -> AppResult<Arc<Vec<EventView>>> {
        let k = key(&f);
        through(db, &self.lists, k, move |c| Ok(Arc::new(shop::list_events(c, &f)?))).await
    }

    /// The list API's answer: [`CatalogueCache::list`] serialised once per cached list.
    pub async fn list_json(&self, db: &Db, f: EventFilter) -> AppResult<Bytes> {
        let k = key(&f);
        let commits = db.commits();
        let now = Instant::now();
        if let Some(b) = self.list_json.get(&k, commits, now) {
            return Ok(b);
        }
        let events = self.list(db, f).await?;
        let b = serde_json::to_vec(&serde_json::json!({ "events": *events }))
            .map(Bytes::from)
            .map_err(crate::error::AppError::internal)?;
        self.list_json.put(k, commits, now, b.clone());
        Ok(b)
    }

    /// One event (404 if unknown; errors are not cached).
    pub async fn event(&self, db: &Db, id: i64) -> AppResult<Arc<EventView>> {
        through(db, &self.events, id, move |c| Ok(Arc::new(shop::get_event(c, id)?))).await
    }

    /// Values the catalogue page offers as filters.
    pub async fn facets(&self, db: &Db) -> AppResult<Arc<Facets>> {
        through(db, &self.facets, (), |c| Ok(Arc::new(shop::facets(c)?))).await
    }
}
