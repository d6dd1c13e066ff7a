//! The gate's local store: one SQLite file (`gate.db` in the data directory).
//!
//! It holds everything the gate needs to decide alone: trusted keys, device configuration and
//! event facts, a copy of the issuer's revocation log (with its cursor and hash-chain head, so a
//! sync can prove it continues the copy), admissions (this gate's and other gates'), the outbox of
//! scan reports not yet acknowledged and the reports the issuer refused.
//!
//! Durability: WAL with `synchronous=FULL`, so a committed admission survives a power cut. The
//! store never creates a database when asked to open one: a missing or corrupted file is a clear
//! [`StoreError`], never an empty store that would admit everyone.

use std::path::{Path, PathBuf};

use og_shared::sync::{
    AdmissionRecord, Conflict, Direction, EventFacts, KeyInfo, Revocation, RevocationTarget, ScanReport, VerdictCode,
};
use og_shared::{DeploymentId, TicketClaims, TrustStore, UnixSeconds};
use rusqlite::{Connection, OpenFlags, OptionalExtension, Transaction, params};

use crate::decide::{GatePolicy, PartyPolicy, Passage};
use crate::schema;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "gate.db";
/// File name of the device credential (mode 0600) inside the data directory.
pub const CREDENTIAL_FILE: &str = "credential";

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("device not provisioned: no database at {0} (run `gate-agent import BUNDLE` or `gate-agent enroll`)")]
    Missing(PathBuf),
    #[error("the local database {path} is unreadable or corrupted ({source}); restore it or re-provision the device")]
    Corrupt { path: PathBuf, source: rusqlite::Error },
    #[error(transparent)]
    Schema(#[from] schema::SchemaError),
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("stored configuration is invalid: {0}")]
    BadConfig(String),
    #[error("I/O error on {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// The device's configuration, written at provisioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceConfig {
    pub deployment: DeploymentId,
    pub device_id: String,
    pub gate_name: String,
    pub issuer_url: Option<String>,
    pub policy: GatePolicy,
}

/// Counters shown by `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StatusCounts {
    pub outbox: u64,
    pub outbox_admitted: u64,
    pub held: u64,
    pub refused: u64,
    pub own_admissions: u64,
    pub other_admissions: u64,
    pub admissions_since: u64,
    pub revocations: u64,
    pub revocation_seq: u64,
    pub keys: u64,
    pub events: u64,
    /// Tickets the issuer reported as admitted more often than they admit.
    pub conflicts: u64,
}

/// The issuer data the gate last refused (a rollback, a bad signature), for staff (`status`, the
/// kiosk) until a sync succeeds again.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SyncRefusal {
    /// `og_shared::trust::TrustError::code`.
    pub code: String,
    /// One sentence saying why.
    pub reason: String,
    /// Since when the gate has been refusing for this reason (device clock).
    pub since: Option<UnixSeconds>,
}

/// An open local store.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    Ok(())
}

impl Store {
    /// Path of the database in `data_dir`.
    pub fn db_path(data_dir: &Path) -> PathBuf {
        data_dir.join(DB_FILE)
    }

    /// Opens an existing store; a missing file is [`StoreError::Missing`].
    /// Opens the store if the device has one (`None` before any provisioning).
    pub fn open_if_present(data_dir: &Path) -> Result<Option<Store>, StoreError> {
        if Self::db_path(data_dir).exists() {
            Self::open(data_dir).map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        let path = Self::db_path(data_dir);
        if !path.is_file() {
            return Err(StoreError::Missing(path));
        }
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(|source| {
            StoreError::Corrupt {
                path: path.clone(),
                source,
            }
        })?;
        Self::finish_open(conn, path)
    }

    /// Opens the store, creating the directory and database if needed (provisioning only).
    pub fn create(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(|source| StoreError::Io {
            path: data_dir.to_owned(),
            source,
        })?;
        let path = Self::db_path(data_dir);
        let conn = Connection::open(&path).map_err(|source| StoreError::Corrupt {
            path: path.clone(),
            source,
        })?;
        Self::finish_open(conn, path)
    }

    fn finish_open(mut conn: Connection, path: PathBuf) -> Result<Store, StoreError> {
        let corrupt = |source| StoreError::Corrupt {
            path: path.clone(),
            source,
        };
        configure(&conn).map_err(corrupt)?;
        // Reading the schema touches the file header: a garbage file fails here.
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))
            .map_err(corrupt)?;
        schema::migrate(&mut conn)?;
        Ok(Store { conn, path })
    }

    /// Runs SQLite's integrity check (a full read of the file).
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        let res: String = self.conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if res == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt {
                path: self.path.clone(),
                source: rusqlite::Error::InvalidQuery,
            })
        }
    }

    /// The underlying connection (for transactions spanning several helpers).
    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    // ---- meta and configuration ----

    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        get_meta(&self.conn, key)
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<(), StoreError> {
        set_meta(&self.conn, key, value)
    }

    /// What the gate refuses from the issuer, if anything (see `sync::sync_round`).
    pub fn sync_refusal(&self) -> Result<Option<SyncRefusal>, StoreError> {
        let Some(reason) = self.meta("sync_refused")? else {
            return Ok(None);
        };
        Ok(Some(SyncRefusal {
            code: self.meta("sync_refused_code")?.unwrap_or_default(),
            reason,
            since: self.meta("sync_refused_at")?.and_then(|t| t.parse().ok()),
        }))
    }

    /// The device configuration, or None before provisioning.
    pub fn config(&self) -> Result<Option<DeviceConfig>, StoreError> {
        let Some(dep) = self.meta("deployment")? else {
            return Ok(None);
        };
        let deployment = DeploymentId::parse(&dep).map_err(|_| StoreError::BadConfig("deployment".into()))?;
        let num = |k: &str| -> Result<Option<i64>, StoreError> {
            self.meta(k)?
                .map(|v| v.parse::<i64>().map_err(|_| StoreError::BadConfig(k.into())))
                .transpose()
        };
        let direction = match self.meta("direction")?.as_deref() {
            Some("exit") => Direction::Exit,
            _ => Direction::Entry,
        };
        let zone = num("zone")?.map(|z| z as u8);
        let policy = GatePolicy {
            zone,
            direction,
            clock_skew: num("clock_skew")?.unwrap_or(300),
            tolerance: num("rotating_tolerance")?.unwrap_or(og_shared::bound::DEFAULT_TOLERANCE),
            max_data_age: num("max_data_age")?,
            reentry_for_all: self.meta("reentry_for_all")?.as_deref() == Some("1"),
            party: match self.meta("party_policy")?.as_deref() {
                Some("one_per_scan") => PartyPolicy::OnePerScan,
                _ => PartyPolicy::WholeParty,
            },
        };
        Ok(Some(DeviceConfig {
            deployment,
            device_id: self.meta("device_id")?.unwrap_or_default(),
            gate_name: self.meta("gate_name")?.unwrap_or_else(|| "gate".into()),
            issuer_url: self.meta("issuer_url")?,
            policy,
        }))
    }

    /// Writes the device configuration.
    pub fn set_config(&self, c: &DeviceConfig) -> Result<(), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        write_config(&tx, c)?;
        tx.commit()?;
        Ok(())
    }

    /// Queued reports per event they name (None: not a ticket), for enrolment warnings.
    pub fn queued_per_event(&self) -> Result<Vec<(Option<u32>, u64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT json_extract(report, '$.event_id') AS e, count(*) FROM outbox GROUP BY e ORDER BY e")?;
        let rows = stmt.query_map([], |r| Ok((r.get::<_, Option<u32>>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ---- keys and events ----

    /// The trust store built from the stored keys (None before provisioning).
    pub fn trust_store(&self) -> Result<Option<TrustStore>, StoreError> {
        let Some(config) = self.config()? else {
            return Ok(None);
        };
        let mut trust = TrustStore::new(config.deployment);
        let mut stmt = self
            .conn
            .prepare("SELECT key_id, public_key, valid_from, valid_until FROM trust_keys")?;
        let rows = stmt.query_map([], |r| {
            Ok(KeyInfo {
                key_id: og_shared::KeyId(r.get(0)?),
                public_key: r.get(1)?,
                valid_from: r.get(2)?,
                valid_until: r.get(3)?,
            })
        })?;
        for k in rows {
            let k = k?;
            let t = k
                .to_trusted()
                .map_err(|_| StoreError::BadConfig(format!("stored key {} is invalid", k.key_id)))?;
            if !trust.add(t) {
                return Err(StoreError::BadConfig(format!(
                    "two different stored keys have the id {}",
                    k.key_id
                )));
            }
        }
        Ok(Some(trust))
    }

    // ---- revocations ----

    /// The revocation cursor: last applied seq and the chain hash up to it.
    pub fn revocation_cursor(&self) -> Result<(u64, [u8; 32]), StoreError> {
        revocation_cursor(&self.conn)
    }

    /// The whole revocation copy with the last checkpoint accepted for it, for
    /// `gate-agent export-revocations` (an issuer restored from a backup re-publishes it).
    pub fn revocation_export(&self) -> Result<og_shared::trust::RevocationExport, StoreError> {
        let (seq, hash) = self.revocation_cursor()?;
        let checkpoint = self
            .meta("checkpoint")?
            .and_then(|h| og_shared::trust::SignedCheckpoint::from_header(&h).ok())
            .filter(|c| c.seq == seq && c.hash == hex::encode(hash));
        Ok(og_shared::trust::RevocationExport {
            checkpoint,
            page: og_shared::sync::RevocationPage {
                from_seq: 0,
                base_hash: hex::encode(og_shared::sync::GENESIS_HASH),
                to_seq: seq,
                head_hash: hex::encode(hash),
                entries: revocations(&self.conn)?,
            },
        })
    }

    // ---- outbox ----

    /// Up to `limit` queued reports that are not held, oldest first.
    pub fn outbox_batch(&self, limit: usize) -> Result<Vec<ScanReport>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT report FROM outbox WHERE held = 0 ORDER BY created_at, rowid LIMIT ?1")?;
        let rows = stmt.query_map([limit as i64], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for r in rows {
            let json = r?;
            let rep: ScanReport =
                serde_json::from_str(&json).map_err(|e| StoreError::BadConfig(format!("outbox row: {e}")))?;
            out.push(rep);
        }
        Ok(out)
    }

    /// Removes acknowledged reports.
    pub fn delete_outbox(&mut self, nonces: &[String]) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        for n in nonces {
            tx.execute("DELETE FROM outbox WHERE nonce = ?1", [n])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Moves a report the issuer refused for good out of the outbox, keeping it and the reason.
    pub fn refuse_report(
        &mut self,
        nonce: &str,
        code: &str,
        message: &str,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO refused (nonce, report, code, message, refused_at)
             SELECT nonce, report, ?2, ?3, ?4 FROM outbox WHERE nonce = ?1",
            params![nonce, code, message, now],
        )?;
        tx.execute("DELETE FROM outbox WHERE nonce = ?1", [nonce])?;
        tx.commit()?;
        Ok(())
    }

    /// Marks reports as held (kept, not retried automatically) with the error that stopped them.
    pub fn hold_reports(&mut self, nonces: &[String], error: &str) -> Result<(), StoreError> {
        self.update_reports(
            "UPDATE outbox SET held = 1, last_error = ?2, attempts = attempts + 1 WHERE nonce = ?1",
            nonces,
            error,
        )
    }

    /// Records a failed attempt on reports that stay queued for a retry.
    pub fn note_attempt(&mut self, nonces: &[String], error: &str) -> Result<(), StoreError> {
        self.update_reports(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE nonce = ?1",
            nonces,
            error,
        )
    }

    /// Runs `sql` (`?1` the nonce, `?2` the error) for each report, in one transaction.
    fn update_reports(&mut self, sql: &str, nonces: &[String], error: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        {
            let mut stmt = tx.prepare(sql)?;
            for n in nonces {
                stmt.execute(params![n, error])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Number of reports waiting in the outbox (one query; `counts` runs a dozen).
    pub fn outbox_len(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM outbox", [], |r| r.get::<_, i64>(0))? as u64)
    }

    /// Counters for `status`; `since` bounds "admissions today".
    pub fn counts(&self, since: UnixSeconds) -> Result<StatusCounts, StoreError> {
        let c = &self.conn;
        let one = |sql: &str| -> Result<u64, StoreError> { Ok(c.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
        let admitted = VerdictCode::Admitted.as_str();
        Ok(StatusCounts {
            outbox: one("SELECT count(*) FROM outbox")?,
            outbox_admitted: c.query_row(
                "SELECT count(*) FROM outbox WHERE json_extract(report, '$.verdict') = ?1",
                [admitted],
                |r| r.get::<_, i64>(0),
            )? as u64,
            held: one("SELECT count(*) FROM outbox WHERE held = 1")?,
            refused: one("SELECT count(*) FROM refused")?,
            own_admissions: one("SELECT count(*) FROM admissions WHERE own = 1 AND direction = 'entry'")?,
            other_admissions: one("SELECT count(*) FROM admissions WHERE own = 0")?,
            admissions_since: c.query_row(
                "SELECT count(*) FROM admissions WHERE own = 1 AND direction = 'entry' AND at >= ?1",
                [since],
                |r| r.get::<_, i64>(0),
            )? as u64,
            revocations: one("SELECT count(*) FROM revocations")?,
            revocation_seq: self.revocation_cursor()?.0,
            keys: one("SELECT count(*) FROM trust_keys")?,
            events: one("SELECT count(*) FROM events")?,
            conflicts: one("SELECT count(*) FROM conflicts")?,
        })
    }
}

impl Store {
    /// Every conflict the issuer pushed, newest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT event_id, serial, allowed, admitted, gates, detected_at FROM conflicts
             ORDER BY detected_at DESC, serial",
        )?;
        let rows = stmt.query_map([], |r| {
            let gates: String = r.get(4)?;
            Ok(Conflict {
                event_id: r.get(0)?,
                serial: r.get(1)?,
                allowed: r.get(2)?,
                admitted: r.get(3)?,
                gates: serde_json::from_str(&gates).unwrap_or_default(),
                detected_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

// ---- helpers usable inside a caller's transaction ----

/// Records (or updates) the conflicts the issuer pushed.
pub(crate) fn upsert_conflicts(tx: &Transaction<'_>, conflicts: &[Conflict]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO conflicts (event_id, serial, allowed, admitted, gates, detected_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (event_id, serial) DO UPDATE SET
             allowed = excluded.allowed, admitted = excluded.admitted, gates = excluded.gates,
             detected_at = excluded.detected_at",
    )?;
    for c in conflicts {
        let gates = serde_json::to_string(&c.gates).unwrap_or_else(|_| "[]".into());
        stmt.execute(params![
            c.event_id,
            c.serial,
            c.allowed,
            c.admitted,
            gates,
            c.detected_at
        ])?;
    }
    Ok(())
}

/// Whether the issuer reported this ticket in a conflict.
pub(crate) fn in_conflict(c: &Connection, event_id: u32, serial: u32) -> Result<bool, StoreError> {
    Ok(c.query_row(
        "SELECT 1 FROM conflicts WHERE event_id = ?1 AND serial = ?2",
        params![event_id, serial],
        |_| Ok(()),
    )
    .optional()?
    .is_some())
}

pub(crate) fn get_meta(c: &Connection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(
        c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?,
    )
}

pub(crate) fn set_meta(c: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// Writes the device configuration (inside the caller's transaction).
pub(crate) fn write_config(tx: &Transaction<'_>, c: &DeviceConfig) -> Result<(), StoreError> {
    set_meta(tx, "deployment", c.deployment.as_str())?;
    set_meta(tx, "device_id", &c.device_id)?;
    set_meta(tx, "gate_name", &c.gate_name)?;
    if let Some(u) = &c.issuer_url {
        set_meta(tx, "issuer_url", u)?;
    }
    match c.policy.zone {
        Some(z) => set_meta(tx, "zone", &z.to_string())?,
        None => {
            tx.execute("DELETE FROM meta WHERE key = 'zone'", [])?;
        }
    }
    let dir = match c.policy.direction {
        Direction::Entry => "entry",
        Direction::Exit => "exit",
    };
    set_meta(tx, "direction", dir)?;
    set_meta(tx, "clock_skew", &c.policy.clock_skew.to_string())?;
    set_meta(tx, "rotating_tolerance", &c.policy.tolerance.to_string())?;
    if let Some(m) = c.policy.max_data_age {
        set_meta(tx, "max_data_age", &m.to_string())?;
    }
    set_meta(tx, "reentry_for_all", if c.policy.reentry_for_all { "1" } else { "0" })?;
    set_meta(tx, "party_policy", c.policy.party.as_str())?;
    Ok(())
}

/// Keeps only the event facts of `ids` (an enrolment narrows the scope to its token's events).
pub(crate) fn retain_events(tx: &Transaction<'_>, ids: &[u32]) -> Result<(), StoreError> {
    let ids = serde_json::to_string(ids).map_err(|e| StoreError::BadConfig(e.to_string()))?;
    tx.execute(
        "DELETE FROM events WHERE event_id NOT IN (SELECT value FROM json_each(?1))",
        [ids],
    )?;
    Ok(())
}

pub(crate) fn replace_keys(tx: &Transaction<'_>, keys: &[KeyInfo]) -> Result<(), StoreError> {
    for k in keys {
        k.to_trusted()
            .map_err(|_| StoreError::BadConfig(format!("key {} is invalid", k.key_id)))?;
    }
    tx.execute("DELETE FROM trust_keys", [])?;
    for k in keys {
        tx.execute(
            "INSERT INTO trust_keys (key_id, public_key, valid_from, valid_until) VALUES (?1, ?2, ?3, ?4)",
            params![k.key_id.0, k.public_key, k.valid_from, k.valid_until],
        )?;
    }
    Ok(())
}

pub(crate) fn replace_events(tx: &Transaction<'_>, events: &[EventFacts]) -> Result<(), StoreError> {
    tx.execute("DELETE FROM events", [])?;
    for e in events {
        let facts = serde_json::to_string(e).map_err(|e| StoreError::BadConfig(e.to_string()))?;
        tx.execute(
            "INSERT INTO events (event_id, facts) VALUES (?1, ?2)",
            params![e.event_id, facts],
        )?;
    }
    Ok(())
}

/// The stored facts of every event, in id order. Facts written by an older issuer (without
/// `holder_binding` or `paper_exceptions`) read as `optional` with no exceptions.
pub fn event_facts(c: &Connection) -> Result<Vec<EventFacts>, StoreError> {
    let mut stmt = c.prepare("SELECT facts FROM events ORDER BY event_id")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for facts in rows {
        let facts = facts?;
        out.push(
            serde_json::from_str(&facts)
                .map_err(|_| StoreError::BadConfig("stored event facts do not parse".into()))?,
        );
    }
    Ok(out)
}

pub(crate) fn event_ids(c: &Connection) -> Result<Vec<u32>, StoreError> {
    let mut stmt = c.prepare("SELECT event_id FROM events ORDER BY event_id")?;
    let ids = stmt.query_map([], |r| r.get::<_, u32>(0))?;
    Ok(ids.collect::<Result<_, _>>()?)
}

pub(crate) fn revocation_cursor(c: &Connection) -> Result<(u64, [u8; 32]), StoreError> {
    let seq = get_meta(c, "revocation_seq")?
        .map(|s| s.parse::<u64>())
        .transpose()
        .map_err(|_| StoreError::BadConfig("revocation_seq".into()))?
        .unwrap_or(0);
    let mut hash = og_shared::sync::GENESIS_HASH;
    if let Some(h) = get_meta(c, "revocation_hash")? {
        hex::decode_to_slice(&h, &mut hash).map_err(|_| StoreError::BadConfig("revocation_hash".into()))?;
    }
    Ok((seq, hash))
}

/// The indexed (kind, target) of an entry. A `superseded` or `device_key` entry is indexed by
/// its serial; its generation or key tag is read back from the stored entry bytes. (The kind is
/// a free integer column: the new kind 5 needs no migration.)
fn target_key(t: &RevocationTarget) -> (i64, Vec<u8>) {
    match t {
        RevocationTarget::Ticket { serial } => (1, serial.to_be_bytes().to_vec()),
        RevocationTarget::Purchase { tag } => (2, tag.0.to_vec()),
        RevocationTarget::Account { tag } => (3, tag.0.to_vec()),
        RevocationTarget::Superseded { serial, .. } => (4, serial.to_be_bytes().to_vec()),
        RevocationTarget::DeviceKey { serial, .. } => (5, serial.to_be_bytes().to_vec()),
    }
}

/// Appends verified revocation entries and moves the cursor (`replace`: the copy is discarded
/// first, for a full snapshot).
pub(crate) fn apply_revocations(
    tx: &Transaction<'_>,
    entries: &[Revocation],
    new_seq: u64,
    new_hash: &[u8; 32],
    replace: bool,
) -> Result<(), StoreError> {
    if replace {
        tx.execute("DELETE FROM revocations", [])?;
    }
    let mut stmt =
        tx.prepare_cached("INSERT OR REPLACE INTO revocations (seq, kind, target, entry) VALUES (?1, ?2, ?3, ?4)")?;
    for e in entries {
        let (kind, target) = target_key(&e.target);
        stmt.execute(params![e.seq as i64, kind, target, e.to_bytes().to_vec()])?;
    }
    set_meta(tx, "revocation_seq", &new_seq.to_string())?;
    set_meta(tx, "revocation_hash", &hex::encode(new_hash))?;
    Ok(())
}

/// Every entry of the local revocation copy, in log order.
pub fn revocations(c: &Connection) -> Result<Vec<Revocation>, StoreError> {
    let bad = || StoreError::BadConfig("a stored revocation entry is invalid".into());
    let mut stmt = c.prepare("SELECT entry FROM revocations ORDER BY seq")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    let mut out = Vec::new();
    for b in rows {
        let b: [u8; og_shared::sync::REVOCATION_LEN] = b?.as_slice().try_into().map_err(|_| bad())?;
        out.push(Revocation::from_bytes(&b).ok_or_else(bad)?);
    }
    Ok(out)
}

/// What the local revocation copy revokes (a reset must keep all of it).
pub(crate) fn revocation_targets(c: &Connection) -> Result<Vec<RevocationTarget>, StoreError> {
    Ok(revocations(c)?.into_iter().map(|r| r.target).collect())
}

/// The first revocation covering a code with these claims, made (for a rotating code) by the
/// device key with tag `holder_key_tag`.
pub(crate) fn revocation_for(
    c: &Connection,
    t: &TicketClaims,
    holder_key_tag: Option<og_shared::ticket::Tag>,
) -> Result<Option<RevocationTarget>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT entry FROM revocations
         WHERE (kind IN (1, 4, 5) AND target = ?1) OR (kind = 2 AND target = ?2) OR (kind = 3 AND target = ?3)
         ORDER BY seq",
    )?;
    let mut rows = stmt.query(params![
        t.serial.to_be_bytes().to_vec(),
        t.purchase_tag.0.to_vec(),
        t.account_tag.0.to_vec()
    ])?;
    while let Some(r) = rows.next()? {
        let bytes: Vec<u8> = r.get(0)?;
        let entry = <[u8; og_shared::sync::REVOCATION_LEN]>::try_from(bytes.as_slice())
            .ok()
            .and_then(|b| Revocation::from_bytes(&b))
            .ok_or_else(|| StoreError::BadConfig("a stored revocation entry does not parse".into()))?;
        // A `superseded` entry for this serial may name a generation at or below this code's,
        // a `device_key` entry another phone than the one that made this code.
        if entry.target.covers_code(t, holder_key_tag) {
            return Ok(Some(entry.target));
        }
    }
    Ok(None)
}

fn dir_str(d: Direction) -> &'static str {
    match d {
        Direction::Entry => "entry",
        Direction::Exit => "exit",
    }
}

/// Earlier passages of a ticket, oldest first.
pub(crate) fn passages(c: &Connection, event_id: u32, serial: u32) -> Result<Vec<Passage>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT at, gate, direction, generation FROM admissions WHERE event_id = ?1 AND serial = ?2 ORDER BY at, id",
    )?;
    let rows = stmt.query_map(params![event_id, serial], |r| {
        let d: String = r.get(2)?;
        Ok(Passage {
            at: r.get(0)?,
            gate: r.get(1)?,
            direction: if d == "exit" { Direction::Exit } else { Direction::Entry },
            generation: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Records this gate's passage.
pub(crate) fn insert_own_passage(
    tx: &Transaction<'_>,
    nonce: &str,
    event_id: u32,
    (serial, generation): (u32, u8),
    gate: &str,
    at: UnixSeconds,
    direction: Direction,
) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO admissions (nonce, event_id, serial, generation, gate, at, direction, own)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1)",
        params![nonce, event_id, serial, generation, gate, at, dir_str(direction)],
    )?;
    Ok(())
}

/// Records admissions reported by other gates (idempotent by nonce).
pub(crate) fn insert_remote_admissions(tx: &Transaction<'_>, recs: &[AdmissionRecord]) -> Result<(), StoreError> {
    let mut stmt = tx.prepare_cached(
        "INSERT OR IGNORE INTO admissions (nonce, event_id, serial, gate, at, direction, own, issuer_seq, generation)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 0, ?7, ?8)",
    )?;
    for a in recs {
        stmt.execute(params![
            a.nonce,
            a.event_id,
            a.serial,
            a.gate,
            a.admitted_at,
            dir_str(a.direction),
            a.seq as i64,
            a.generation
        ])?;
    }
    Ok(())
}

/// Queues a scan report.
pub(crate) fn queue_report(tx: &Transaction<'_>, r: &ScanReport) -> Result<(), StoreError> {
    let json = serde_json::to_string(r).map_err(|e| StoreError::BadConfig(e.to_string()))?;
    tx.execute(
        "INSERT INTO outbox (nonce, report, created_at) VALUES (?1, ?2, ?3)",
        params![r.nonce, json, r.scanned_at],
    )?;
    Ok(())
}

/// Writes the device credential with mode 0600.
pub fn write_credential(data_dir: &Path, credential: &str) -> Result<(), StoreError> {
    let path = data_dir.join(CREDENTIAL_FILE);
    let io = |source| StoreError::Io {
        path: path.clone(),
        source,
    };
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(&path).map_err(io)?;
    f.write_all(credential.as_bytes()).map_err(io)?;
    f.sync_all().map_err(io)?;
    Ok(())
}

/// Reads the device credential, if the device was enrolled online.
pub fn read_credential(data_dir: &Path) -> Option<String> {
    std::fs::read_to_string(data_dir.join(CREDENTIAL_FILE))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_a_missing_database_is_an_error_not_an_empty_store() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(Store::open(dir.path()), Err(StoreError::Missing(_))));
        assert!(!Store::db_path(dir.path()).exists(), "open must not create the file");
    }

    #[test]
    fn a_garbage_file_is_reported_as_corrupted() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(Store::db_path(dir.path()), vec![0x5a; 8192]).unwrap();
        let err = Store::open(dir.path()).err().expect("refused");
        assert!(err.to_string().contains("corrupted"), "{err}");
    }

    #[test]
    fn a_new_store_uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::create(dir.path()).unwrap();
        let mode: String = s.conn.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
        let sync: i64 = s.conn.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
    }

    #[test]
    fn a_version_one_snapshot_is_upgraded_keeping_admissions_and_queued_reports() {
        let dir = tempfile::tempdir().unwrap();
        {
            let mut c = Connection::open(Store::db_path(dir.path())).unwrap();
            schema::migrate_to(&mut c, 1).unwrap();
            c.execute(
                "INSERT INTO admissions (nonce, event_id, serial, gate, at, direction, own)
                 VALUES ('n1', 1, 1001, 'north', 100, 'entry', 1)",
                [],
            )
            .unwrap();
            c.execute(
                "INSERT INTO outbox (nonce, report, created_at) VALUES ('n1', '{}', 100)",
                [],
            )
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let v: u32 = s.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, schema::CURRENT_VERSION);
        let p = passages(&s.conn, 1, 1001).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].gate, "north");
        let held: i64 = s
            .conn
            .query_row("SELECT held FROM outbox WHERE nonce = 'n1'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(held, 0);
    }

    #[test]
    fn refused_reports_leave_the_outbox_but_are_kept_and_held_reports_are_not_resent() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::create(dir.path()).unwrap();
        let report = |nonce: &str| ScanReport {
            nonce: nonce.into(),
            scanned_at: 5,
            verdict: VerdictCode::Admitted,
            reason: "ok".into(),
            event_id: Some(1),
            serial: Some(2),
            generation: 0,
            offer: Some(og_shared::Offer::Solo),
            admitted_index: Some(1),
            gate: "g".into(),
            zone: None,
            direction: Direction::Entry,
            offline: true,
        };
        let tx = s.conn_mut().transaction().unwrap();
        for n in ["a", "b", "c"] {
            queue_report(&tx, &report(n)).unwrap();
        }
        tx.commit().unwrap();
        s.refuse_report("a", "nonce_conflict", "m", 9).unwrap();
        s.hold_reports(&["b".into()], "400 bad_request").unwrap();
        let left: Vec<String> = s.outbox_batch(10).unwrap().into_iter().map(|r| r.nonce).collect();
        assert_eq!(left, vec!["c".to_string()], "held and refused rows are not resent");
        let c = s.counts(0).unwrap();
        assert_eq!((c.outbox, c.held, c.refused), (2, 1, 1), "nothing is lost");
    }

    #[test]
    fn a_database_from_a_newer_build_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        {
            let c = Connection::open(Store::db_path(dir.path())).unwrap();
            c.pragma_update(None, "user_version", 99).unwrap();
        }
        let err = Store::open(dir.path()).err().expect("refused");
        assert!(err.to_string().contains("newer"), "{err}");
    }

    #[test]
    fn revocations_are_found_by_ticket_purchase_or_account() {
        use og_shared::sync::RevocationReason;
        use og_shared::ticket::{Tag, TicketFlags, Zones};
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::create(dir.path()).unwrap();
        let claims = TicketClaims {
            key_id: og_shared::KeyId(1),
            event_id: 1,
            serial: 5,
            generation: 1,
            offer: og_shared::Offer::Solo,
            admits: 1,
            purchase_tag: Tag([3; 6]),
            account_tag: Tag([4; 6]),
            valid_from: 0,
            valid_until: 10,
            zones: Zones::ALL,
            flags: TicketFlags::default(),
        };
        assert_eq!(revocation_for(s.conn(), &claims, None).unwrap(), None);
        let rev = |seq, target| Revocation {
            seq,
            target,
            reason: RevocationReason::Refunded,
            at: 1,
        };
        for (i, target) in [
            RevocationTarget::Account { tag: Tag([4; 6]) },
            RevocationTarget::Purchase { tag: Tag([3; 6]) },
            RevocationTarget::Ticket { serial: 5 },
        ]
        .into_iter()
        .enumerate()
        {
            let tx = s.conn_mut().transaction().unwrap();
            tx.execute("DELETE FROM revocations", []).unwrap();
            apply_revocations(&tx, &[rev(i as u64 + 1, target)], i as u64 + 1, &[0; 32], false).unwrap();
            tx.commit().unwrap();
            assert_eq!(revocation_for(s.conn(), &claims, None).unwrap(), Some(target));
        }
        // Another serial with other tags is not covered.
        let other = TicketClaims {
            serial: 6,
            purchase_tag: Tag([9; 6]),
            account_tag: Tag([9; 6]),
            ..claims
        };
        assert_eq!(revocation_for(s.conn(), &other, None).unwrap(), None);
    }

    #[test]
    fn a_superseded_entry_refuses_older_codes_of_the_ticket_and_spares_the_newer_one() {
        use og_shared::sync::RevocationReason;
        use og_shared::ticket::{Tag, TicketFlags, Zones};
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::create(dir.path()).unwrap();
        let code = |generation| TicketClaims {
            key_id: og_shared::KeyId(1),
            event_id: 1,
            serial: 5,
            generation,
            offer: og_shared::Offer::Duo,
            admits: 1,
            purchase_tag: Tag([3; 6]),
            account_tag: Tag([4; 6]),
            valid_from: 0,
            valid_until: 10,
            zones: Zones::ALL,
            flags: TicketFlags::default(),
        };
        let target = RevocationTarget::Superseded {
            serial: 5,
            generation: 2,
        };
        let tx = s.conn_mut().transaction().unwrap();
        let entry = Revocation {
            seq: 1,
            target,
            reason: RevocationReason::Transferred,
            at: 1,
        };
        apply_revocations(&tx, &[entry], 1, &[0; 32], false).unwrap();
        tx.commit().unwrap();
        assert_eq!(revocation_for(s.conn(), &code(0), None).unwrap(), Some(target));
        assert_eq!(revocation_for(s.conn(), &code(1), None).unwrap(), Some(target));
        assert_eq!(revocation_for(s.conn(), &code(2), None).unwrap(), None);
        assert_eq!(revocation_for(s.conn(), &code(3), None).unwrap(), None);
    }

    #[test]
    fn a_device_key_entry_refuses_only_the_replaced_phones_codes_of_that_ticket() {
        use og_shared::sync::RevocationReason;
        use og_shared::ticket::{Tag, TicketFlags, Zones};
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::create(dir.path()).unwrap();
        let claims = |serial| TicketClaims {
            key_id: og_shared::KeyId(1),
            event_id: 1,
            serial,
            generation: 0,
            offer: og_shared::Offer::Solo,
            admits: 1,
            purchase_tag: Tag([3; 6]),
            account_tag: Tag([4; 6]),
            valid_from: 0,
            valid_until: 10,
            zones: Zones::ALL,
            flags: TicketFlags(TicketFlags::HOLDER_BOUND),
        };
        let (old_phone, new_phone) = (Tag([7; 6]), Tag([8; 6]));
        let target = RevocationTarget::DeviceKey {
            serial: 5,
            key_tag: old_phone,
        };
        let tx = s.conn_mut().transaction().unwrap();
        let entry = Revocation {
            seq: 1,
            target,
            reason: RevocationReason::Other,
            at: 1,
        };
        apply_revocations(&tx, &[entry], 1, &[0; 32], false).unwrap();
        tx.commit().unwrap();
        assert_eq!(
            revocation_for(s.conn(), &claims(5), Some(old_phone)).unwrap(),
            Some(target)
        );
        assert_eq!(revocation_for(s.conn(), &claims(5), Some(new_phone)).unwrap(), None);
        assert_eq!(revocation_for(s.conn(), &claims(6), Some(old_phone)).unwrap(), None);
        assert_eq!(revocation_for(s.conn(), &claims(5), None).unwrap(), None);
        assert_eq!(
            revocations(s.conn()).unwrap(),
            vec![entry],
            "the entry reads back whole"
        );
    }

    #[test]
    fn a_version_four_database_with_event_facts_from_an_older_issuer_reads_them_as_phone_optional() {
        use og_shared::sync::HolderBinding;
        let dir = tempfile::tempdir().unwrap();
        {
            let mut c = Connection::open(Store::db_path(dir.path())).unwrap();
            schema::migrate_to(&mut c, 4).unwrap();
            c.execute(
                "INSERT INTO events (event_id, facts) VALUES (1, ?1)",
                [r#"{"event_id":1,"name":"Final","sport":"rugby","venue":"Stade","starts_at":10,"doors_open":5,"doors_close":20,"zones":[]}"#],
            )
            .unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        let facts = event_facts(s.conn()).unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].holder_binding, HolderBinding::Optional);
        assert!(facts[0].paper_exceptions.is_empty());
        // Facts of a newer issuer keep their policy through the store.
        let required = og_shared::sync::EventFacts {
            holder_binding: HolderBinding::Required,
            paper_exceptions: vec![1001],
            ..facts[0].clone()
        };
        let mut s = s;
        let tx = s.conn_mut().transaction().unwrap();
        replace_events(&tx, std::slice::from_ref(&required)).unwrap();
        tx.commit().unwrap();
        assert_eq!(event_facts(s.conn()).unwrap(), vec![required]);
    }
}
