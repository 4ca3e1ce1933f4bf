//! The run journal: one SQLite file in the platform data dir holding every instance this app
//! deployed, every run, each stage's deployment name and correlation ID, and every event of
//! every run with its sequence number. Events are written here before they are published, so
//! any process (the CLI, the desktop, a restarted app) can rebuild a run with
//! [`Journal::snapshot`] and carry on from [`Journal::events`].
//!
//! Durability and sharing:
//! - WAL mode with `synchronous=FULL`: a commit is fsynced to the WAL before [`Journal::append`]
//!   returns, so an event a watcher was shown survives a power cut, not only a crash. Events
//!   come at polling speed (a few per second at most), so the fsync per event costs nothing
//!   that matters.
//! - Every write is one `BEGIN IMMEDIATE` transaction: two processes (CLI and desktop) or two
//!   handles share the file, waiting up to a busy timeout for each other, and `seq` is assigned
//!   inside the transaction that inserts the event, so it is strictly increasing per run
//!   whoever writes.
//! - A process watching a run [`Journal::claim`]s it and [`Journal::heartbeat`]s; another process
//!   sees a watcher whose heartbeat is older than [`HEARTBEAT_STALE_AFTER`] as gone.
//! - Opening reads before it writes: a file that is not SQLite, is damaged, is some other
//!   program's database or was written by a newer Landfall is refused with
//!   [`JournalError::Corrupt`] or [`JournalError::NewerVersion`] and left as it is; nothing is
//!   ever reset.
//!
//! Secrets: nothing here has a field for one. Inputs are stored as the caller gives them, and
//! the caller redacts secret inputs first; [`Journal::set_setting`] refuses keys that name a
//! secret.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rusqlite::types::Type;
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Row, Transaction, TransactionBehavior,
    params,
};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PlainDateTime, SignedDuration, UtcOffset};

use landfall_azure::ErrorReport;

use crate::events::{DeploymentEvent, EventEnvelope, Outcome, RunKind};
use crate::snapshot::{RunSnapshot, StageState, event_time, start_from};

/// The journal schema version this build writes (`PRAGMA user_version`).
pub const SCHEMA_VERSION: i64 = 1;

/// A watcher whose last heartbeat is older than this is taken to be gone.
pub const HEARTBEAT_STALE_AFTER: SignedDuration = SignedDuration::seconds(30);

/// `PRAGMA application_id` of a Landfall journal ("LFJN"), so another program's SQLite file
/// is never taken for one.
const APPLICATION_ID: i64 = 0x4C46_4A4E;

/// How long a write waits for another process's write before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How many recent samples [`Journal::expected_duration`] takes the median of, so the
/// estimate follows Azure when it gets faster or slower.
const DURATION_SAMPLES: i64 = 50;

/// Setting keys containing these words are refused: secrets live in the OS keyring.
const SECRET_WORDS: [&str; 5] = ["secret", "password", "token", "credential", "apikey"];

/// Timestamps are stored as fixed-width UTC text so that text order is time order.
const DB_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:9]Z");

/// Schema migrations: entry `i` takes the journal from version `i` to `i + 1`.
const MIGRATIONS: [&str; SCHEMA_VERSION as usize] = [r#"
CREATE TABLE instances (
    name TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    location TEXT NOT NULL,
    manifest_name TEXT NOT NULL,
    manifest_version TEXT NOT NULL,
    state TEXT NOT NULL,
    inputs TEXT NOT NULL,
    outputs TEXT NOT NULL,
    last_run_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (name, subscription_id, resource_group)
) STRICT;
CREATE INDEX instances_by_update ON instances (updated_at);

CREATE TABLE runs (
    run_id TEXT PRIMARY KEY NOT NULL,
    instance TEXT NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    location TEXT NOT NULL,
    manifest_version TEXT NOT NULL,
    preset TEXT,
    inputs TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    watcher_pid INTEGER,
    watcher_host TEXT,
    heartbeat_at TEXT
) STRICT;
CREATE INDEX runs_by_instance ON runs (instance, started_at);
CREATE INDEX runs_by_start ON runs (started_at);

CREATE TABLE stages (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    stage TEXT NOT NULL,
    deployment_name TEXT NOT NULL,
    correlation_id TEXT,
    state TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT,
    outputs TEXT NOT NULL DEFAULT 'null',
    error TEXT,
    PRIMARY KEY (run_id, stage)
) STRICT;

CREATE TABLE events (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    name TEXT NOT NULL,
    at TEXT,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
) STRICT;

-- One row per resource that succeeded in a run, kept with the event that finished it, so
-- expected durations are a lookup by type rather than a scan of every event.
CREATE TABLE resource_durations (
    run_id TEXT NOT NULL REFERENCES runs (run_id) ON DELETE CASCADE,
    resource_id TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    elapsed_secs REAL NOT NULL,
    PRIMARY KEY (run_id, resource_id)
) STRICT;
CREATE INDEX resource_durations_by_type ON resource_durations (resource_type);

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT;
"#];

const RUN_COLUMNS: &str = "run_id, instance, kind, state, subscription_id, tenant_id, \
    resource_group, location, manifest_version, preset, inputs, started_at, finished_at, \
    watcher_pid, watcher_host, heartbeat_at";

const INSTANCE_COLUMNS: &str = "name, subscription_id, resource_group, location, manifest_name, \
    manifest_version, state, inputs, outputs, last_run_id, created_at, updated_at";

const STAGE_COLUMNS: &str = "run_id, stage, deployment_name, correlation_id, state, started_at, \
    finished_at, outputs, error";

/// Journal failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JournalError {
    /// The journal's folder could not be created.
    #[error("could not create the journal's folder {}: {source}", path.display())]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// SQLite could not open the file at all (permissions, a folder in the way).
    #[error("could not open the journal at {}: {source}", path.display())]
    Open {
        /// The journal file.
        path: PathBuf,
        /// Why.
        #[source]
        source: rusqlite::Error,
    },
    /// The journal was written by a newer Landfall.
    #[error(
        "the journal at {} was written by a newer Landfall (journal version {found}; this \
         Landfall reads up to version {supported}): update Landfall to open it",
        path.display()
    )]
    NewerVersion {
        /// The journal file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The newest version this build reads.
        supported: i64,
    },
    /// The file is not a Landfall journal, or it is damaged. It was left as it is.
    #[error(
        "the journal at {} is damaged or is not a Landfall journal ({detail}); it was left as \
         it is: move it aside to start a new journal, or restore it from a backup",
        path.display()
    )]
    Corrupt {
        /// The journal file.
        path: PathBuf,
        /// What SQLite found.
        detail: String,
    },
    /// The file system would not let SQLite use write-ahead logging.
    #[error(
        "the journal at {} cannot use write-ahead logging (SQLite kept journal mode \
         '{mode}'): keep Landfall's data folder on a local disk",
        path.display()
    )]
    NoWal {
        /// The journal file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        mode: String,
    },
    /// Another process kept the journal locked for longer than the busy timeout.
    #[error(
        "the journal at {} stayed locked by another Landfall process for more than {} s: try \
         again when it has finished",
        path.display(),
        BUSY_TIMEOUT.as_secs()
    )]
    Busy {
        /// The journal file.
        path: PathBuf,
    },
    /// No run has that ID.
    #[error("the journal has no run '{run_id}'")]
    UnknownRun {
        /// The run ID asked for.
        run_id: String,
    },
    /// A run with that ID exists already.
    #[error("the journal already has a run '{run_id}'")]
    RunExists {
        /// The run ID.
        run_id: String,
    },
    /// A setting whose key names a secret.
    #[error(
        "the setting '{key}' looks like it holds a secret: secrets belong in the OS keyring, \
         never in the journal"
    )]
    SecretSetting {
        /// The key.
        key: String,
    },
    /// A stored value this build cannot read (written by a newer build, or edited by hand).
    #[error(
        "the journal at {} holds a value this Landfall cannot read (trying to {operation}): \
         {detail}",
        path.display()
    )]
    Unreadable {
        /// The journal file.
        path: PathBuf,
        /// What was being done.
        operation: &'static str,
        /// What could not be read.
        detail: String,
    },
    /// A value could not be turned into its stored form.
    #[error("could not store {what} in the journal: {detail}")]
    Encode {
        /// What was being stored.
        what: &'static str,
        /// Why.
        detail: String,
    },
    /// Any other SQLite failure.
    #[error("the journal at {} failed to {operation}: {source}", path.display())]
    Sqlite {
        /// The journal file.
        path: PathBuf,
        /// What was being done.
        operation: &'static str,
        /// SQLite's error.
        #[source]
        source: rusqlite::Error,
    },
}

/// Where a run is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum RunState {
    /// Started and not finished (its watcher may have died: see [`RunRecord::watcher`]).
    Running,
    /// Every stage succeeded.
    Succeeded,
    /// A stage failed.
    Failed,
    /// Cancelled in Azure.
    Canceled,
    /// The watcher stopped on purpose; the deployments go on and the run can be resumed.
    Detached,
}

impl From<Outcome> for RunState {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Succeeded => Self::Succeeded,
            Outcome::Failed => Self::Failed,
            Outcome::Canceled => Self::Canceled,
            Outcome::Detached => Self::Detached,
        }
    }
}

/// Where an instance is, as this app last saw it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum InstanceState {
    /// An install, update or retry is running.
    Deploying,
    /// The last run succeeded.
    Deployed,
    /// The last run failed.
    Failed,
    /// Its resource group is being deleted.
    TearingDown,
    /// Its resource group was deleted.
    Deleted,
}

/// The process watching a run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Watcher {
    /// Its process ID.
    pub pid: u32,
    /// The machine it runs on.
    pub host: String,
    /// Its last heartbeat.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub heartbeat_at: OffsetDateTime,
}

impl Watcher {
    /// True when its last heartbeat is more recent than [`HEARTBEAT_STALE_AFTER`] at `now`.
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now - self.heartbeat_at < HEARTBEAT_STALE_AFTER
    }
}

/// What [`Journal::claim`] got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This process is now the run's watcher.
    Claimed,
    /// Another process watches it and is alive.
    HeldBy(Watcher),
}

/// One run: an install, update, retry or teardown of an instance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct RunRecord {
    /// The run's ID.
    pub run_id: String,
    /// The instance's name.
    pub instance: String,
    /// What it does.
    pub kind: RunKind,
    /// Where it is.
    pub state: RunState,
    /// Subscription ID.
    pub subscription_id: String,
    /// Tenant ID (empty when unknown).
    pub tenant_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Region.
    pub location: String,
    /// The version of the bundle it deploys.
    pub manifest_version: String,
    /// The preset it started from, if any.
    pub preset: Option<String>,
    /// Its inputs with secret values already redacted by the caller.
    pub inputs: Json,
    /// When it started.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// When it finished.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// The process watching it, if one claimed it and has not released it.
    pub watcher: Option<Watcher>,
}

/// An instance this app deployed: one per name, subscription and resource group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct InstanceRecord {
    /// The instance's name.
    pub name: String,
    /// Subscription ID.
    pub subscription_id: String,
    /// Resource group.
    pub resource_group: String,
    /// Region.
    pub location: String,
    /// The bundle's name (`data-platform`).
    pub manifest_name: String,
    /// The bundle's version deployed.
    pub manifest_version: String,
    /// Where it is.
    pub state: InstanceState,
    /// Its inputs with secret values already redacted by the caller.
    pub inputs: Json,
    /// Its outputs (instance URL, endpoints).
    pub outputs: Json,
    /// The last run that touched it.
    pub last_run_id: Option<String>,
    /// When it was first recorded (kept as first written by [`Journal::upsert_instance`]).
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When it was last recorded.
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// One stage of a run: its named deployment in Azure and how it went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StageRecord {
    /// The run.
    pub run_id: String,
    /// The stage's name.
    pub stage: String,
    /// The deployment's name in Azure (empty when a stage failed before it had one).
    pub deployment_name: String,
    /// The deployment's correlation ID, once submitted.
    pub correlation_id: Option<String>,
    /// Where it is. `Pending` until the run decides to submit it; recorded `Running` just
    /// before its PUT, so a resumed run knows to ask Azure whether the deployment exists.
    pub state: StageState,
    /// When its deployment was submitted.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    /// When it ended.
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    /// Its outputs, secure outputs left out (`null` until it succeeded).
    pub outputs: Json,
    /// What failed.
    pub error: Option<ErrorReport>,
}

/// The run journal. `Send + Sync`: share one handle (an `Arc<Journal>`) across tasks; every
/// call holds the connection only for its own statements and never across an `await`.
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl fmt::Debug for Journal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Journal").field("path", &self.path).finish()
    }
}

impl Journal {
    /// Opens the journal at `path`, creating it and its folder when missing and bringing its
    /// schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, JournalError> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).map_err(|source| JournalError::CreateDir {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(&path, flags).map_err(|source| JournalError::Open {
                path: path.clone(),
                source,
            })?;
        Self::init(conn, path, true)
    }

    /// A journal that lives in memory only (demo runs, tests).
    pub fn open_in_memory() -> Result<Self, JournalError> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|source| JournalError::Open {
            path: path.clone(),
            source,
        })?;
        Self::init(conn, path, false)
    }

    fn init(mut conn: Connection, path: PathBuf, on_disk: bool) -> Result<Self, JournalError> {
        let fail = |operation| {
            let path = path.clone();
            move |e| sql_error(&path, operation, e)
        };
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(fail("set its busy timeout"))?;

        // Read before writing anything, so a foreign, newer or damaged file is left as it is.
        let read = "read its header";
        let found: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(fail(read))?;
        let application_id: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .map_err(fail(read))?;
        let objects: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))
            .map_err(fail(read))?;
        if objects > 0 && application_id != APPLICATION_ID {
            return Err(JournalError::Corrupt {
                path,
                detail: "it is an SQLite database of another program".into(),
            });
        }
        if found > SCHEMA_VERSION {
            return Err(JournalError::NewerVersion {
                path,
                found,
                supported: SCHEMA_VERSION,
            });
        }
        if found < 0 {
            return Err(JournalError::Corrupt {
                path,
                detail: format!("journal version {found} is not one Landfall writes"),
            });
        }
        let problems = check(&conn, "PRAGMA quick_check(5)").map_err(fail("check itself"))?;
        if !problems.is_empty() {
            return Err(JournalError::Corrupt {
                path,
                detail: problems.join("; "),
            });
        }

        if on_disk {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(fail("turn on write-ahead logging"))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(JournalError::NoWal { path, mode });
            }
        }
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(fail("set synchronous writes"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(fail("turn on foreign keys"))?;
        if found < SCHEMA_VERSION {
            migrate(&mut conn, &path)?;
        }
        Ok(Self {
            conn: Mutex::new(conn),
            path,
        })
    }

    /// The journal's file (`:memory:` for an in-memory journal).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records a new run. Its events follow through [`Journal::append`].
    pub fn create_run(&self, run: &RunRecord) -> Result<(), JournalError> {
        let op = "record a run";
        let inputs = encode_json(&run.inputs, "a run's inputs")?;
        let started_at = db_time(run.started_at)?;
        let finished_at = run.finished_at.map(db_time).transpose()?;
        let heartbeat_at = run
            .watcher
            .as_ref()
            .map(|w| db_time(w.heartbeat_at))
            .transpose()?;
        let mut conn = self.conn();
        let tx = self.begin(&mut conn, op)?;
        if run_state(&tx, &run.run_id).map_err(self.sql(op))?.is_some() {
            return Err(JournalError::RunExists {
                run_id: run.run_id.clone(),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO runs ({RUN_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            ),
            params![
                run.run_id,
                run.instance,
                enum_text(&run.kind),
                enum_text(&run.state),
                run.subscription_id,
                run.tenant_id,
                run.resource_group,
                run.location,
                run.manifest_version,
                run.preset,
                inputs,
                started_at,
                finished_at,
                run.watcher.as_ref().map(|w| w.pid),
                run.watcher.as_ref().map(|w| w.host.as_str()),
                heartbeat_at,
            ],
        )
        .map_err(self.sql(op))?;
        tx.commit().map_err(self.sql(op))
    }

    /// The run with that ID.
    pub fn run(&self, run_id: &str) -> Result<Option<RunRecord>, JournalError> {
        let conn = self.conn();
        conn.query_row(
            &format!("SELECT {RUN_COLUMNS} FROM runs WHERE run_id = ?1"),
            [run_id],
            run_from_row,
        )
        .optional()
        .map_err(self.sql("read a run"))
    }

    /// Every run, or an instance's runs, newest first.
    pub fn runs(&self, instance: Option<&str>) -> Result<Vec<RunRecord>, JournalError> {
        let conn = self.conn();
        let op = "list runs";
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE ?1 IS NULL OR instance = ?1 \
                 ORDER BY started_at DESC, rowid DESC"
            ))
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map([instance], run_from_row)
            .map_err(self.sql(op))?;
        rows.collect::<Result<_, _>>().map_err(self.sql(op))
    }

    /// An instance's most recent run.
    pub fn latest_run(&self, instance: &str) -> Result<Option<RunRecord>, JournalError> {
        let conn = self.conn();
        conn.query_row(
            &format!(
                "SELECT {RUN_COLUMNS} FROM runs WHERE instance = ?1 \
                 ORDER BY started_at DESC, rowid DESC LIMIT 1"
            ),
            [instance],
            run_from_row,
        )
        .optional()
        .map_err(self.sql("read an instance's latest run"))
    }

    /// Records an instance, or updates it (same name, subscription and resource group); its
    /// `created_at` stays as first recorded, and a `None` `last_run_id` keeps the one stored.
    pub fn upsert_instance(&self, instance: &InstanceRecord) -> Result<(), JournalError> {
        let inputs = encode_json(&instance.inputs, "an instance's inputs")?;
        let outputs = encode_json(&instance.outputs, "an instance's outputs")?;
        let created_at = db_time(instance.created_at)?;
        let updated_at = db_time(instance.updated_at)?;
        let conn = self.conn();
        conn.execute(
            &format!(
                "INSERT INTO instances ({INSTANCE_COLUMNS}) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
                 ON CONFLICT (name, subscription_id, resource_group) DO UPDATE SET \
                 location = excluded.location, manifest_name = excluded.manifest_name, \
                 manifest_version = excluded.manifest_version, state = excluded.state, \
                 inputs = excluded.inputs, outputs = excluded.outputs, \
                 last_run_id = COALESCE(excluded.last_run_id, instances.last_run_id), \
                 updated_at = excluded.updated_at"
            ),
            params![
                instance.name,
                instance.subscription_id,
                instance.resource_group,
                instance.location,
                instance.manifest_name,
                instance.manifest_version,
                enum_text(&instance.state),
                inputs,
                outputs,
                instance.last_run_id,
                created_at,
                updated_at,
            ],
        )
        .map_err(self.sql("record an instance"))?;
        Ok(())
    }

    /// Every instance, most recently updated first.
    pub fn instances(&self) -> Result<Vec<InstanceRecord>, JournalError> {
        let conn = self.conn();
        let op = "list instances";
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances ORDER BY updated_at DESC, name"
            ))
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map([], instance_from_row)
            .map_err(self.sql(op))?;
        rows.collect::<Result<_, _>>().map_err(self.sql(op))
    }

    /// The instance of that name (the most recently updated one should the same name have
    /// been deployed to two subscriptions or resource groups).
    pub fn instance(&self, name: &str) -> Result<Option<InstanceRecord>, JournalError> {
        let conn = self.conn();
        conn.query_row(
            &format!(
                "SELECT {INSTANCE_COLUMNS} FROM instances WHERE name = ?1 \
                 ORDER BY updated_at DESC LIMIT 1"
            ),
            [name],
            instance_from_row,
        )
        .optional()
        .map_err(self.sql("read an instance"))
    }

    /// Records a stage as given, replacing what was stored for it. [`Journal::append`] already
    /// keeps stages current from stage events; this is for what no event carries.
    pub fn set_stage(&self, stage: &StageRecord) -> Result<(), JournalError> {
        let op = "record a stage";
        let outputs = encode_json(&stage.outputs, "a stage's outputs")?;
        let error = stage
            .error
            .as_ref()
            .map(|e| encode_json(e, "a stage's error"))
            .transpose()?;
        let started_at = stage.started_at.map(db_time).transpose()?;
        let finished_at = stage.finished_at.map(db_time).transpose()?;
        let mut conn = self.conn();
        let tx = self.begin(&mut conn, op)?;
        if run_state(&tx, &stage.run_id)
            .map_err(self.sql(op))?
            .is_none()
        {
            return Err(JournalError::UnknownRun {
                run_id: stage.run_id.clone(),
            });
        }
        tx.execute(
            &format!(
                "INSERT INTO stages ({STAGE_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) \
                 ON CONFLICT (run_id, stage) DO UPDATE SET \
                 deployment_name = excluded.deployment_name, \
                 correlation_id = excluded.correlation_id, state = excluded.state, \
                 started_at = excluded.started_at, finished_at = excluded.finished_at, \
                 outputs = excluded.outputs, error = excluded.error"
            ),
            params![
                stage.run_id,
                stage.stage,
                stage.deployment_name,
                stage.correlation_id,
                stage.state.as_str(),
                started_at,
                finished_at,
                outputs,
                error,
            ],
        )
        .map_err(self.sql(op))?;
        tx.commit().map_err(self.sql(op))
    }

    /// A run's stages, in the order they were first recorded (the run's announced order).
    pub fn stages(&self, run_id: &str) -> Result<Vec<StageRecord>, JournalError> {
        let conn = self.conn();
        let op = "list a run's stages";
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT {STAGE_COLUMNS} FROM stages WHERE run_id = ?1 ORDER BY rowid"
            ))
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map([run_id], stage_from_row)
            .map_err(self.sql(op))?;
        rows.collect::<Result<_, _>>().map_err(self.sql(op))
    }

    /// Writes an event of a run and numbers it: `seq` is the run's last plus one, assigned in
    /// the transaction that inserts it. The same transaction keeps the run's state (on
    /// `runFinished`; a detached run that gets events again is running again), its stages
    /// and the duration history current.
    pub fn append(
        &self,
        run_id: &str,
        event: &DeploymentEvent,
    ) -> Result<EventEnvelope, JournalError> {
        let op = "append an event";
        let mut wire = serde_json::to_value(event).map_err(|e| JournalError::Encode {
            what: "an event",
            detail: e.to_string(),
        })?;
        let data = wire.get_mut("data").map(Json::take).unwrap_or(Json::Null);
        let data = encode_json(&data, "an event")?;
        let at = event_time(event).map(db_time).transpose()?;

        let mut conn = self.conn();
        let tx = self.begin(&mut conn, op)?;
        let Some(state) = run_state(&tx, run_id).map_err(self.sql(op))? else {
            return Err(JournalError::UnknownRun {
                run_id: run_id.to_owned(),
            });
        };
        let last: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )
            .map_err(self.sql(op))?;
        let seq = last + 1;
        tx.execute(
            "INSERT INTO events (run_id, seq, name, at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![run_id, seq, event.name(), at, data],
        )
        .map_err(self.sql(op))?;
        self.record_effects(&tx, run_id, &state, event)?;
        tx.commit().map_err(self.sql(op))?;
        Ok(EventEnvelope {
            seq: u64::try_from(seq).unwrap_or_default(),
            event: event.clone(),
        })
    }

    /// What an event changes besides the event log.
    fn record_effects(
        &self,
        tx: &Transaction<'_>,
        run_id: &str,
        state: &str,
        event: &DeploymentEvent,
    ) -> Result<(), JournalError> {
        let op = "append an event";
        let sql = self.sql(op);
        let is_finish = matches!(event, DeploymentEvent::RunFinished { .. });
        if !is_finish && state == enum_text(&RunState::Detached) {
            tx.execute(
                "UPDATE runs SET state = ?2, finished_at = NULL WHERE run_id = ?1",
                params![run_id, enum_text(&RunState::Running)],
            )
            .map_err(&sql)?;
        }
        match event {
            DeploymentEvent::RunStarted { stages, .. } => {
                for stage in stages {
                    tx.execute(
                        "INSERT INTO stages (run_id, stage, deployment_name, state) \
                         VALUES (?1, ?2, ?3, ?4) \
                         ON CONFLICT (run_id, stage) DO UPDATE SET deployment_name = \
                         CASE WHEN stages.deployment_name = '' THEN excluded.deployment_name \
                         ELSE stages.deployment_name END",
                        params![
                            run_id,
                            stage.name,
                            stage.deployment_name,
                            StageState::Pending.as_str()
                        ],
                    )
                    .map_err(&sql)?;
                }
            }
            DeploymentEvent::StageStarted {
                stage,
                deployment_name,
                correlation_id,
                reattached,
                at,
            } => {
                // A reattached deployment started when it was first submitted, not now.
                tx.execute(
                    "INSERT INTO stages \
                     (run_id, stage, deployment_name, correlation_id, state, started_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (run_id, stage) DO UPDATE SET \
                     deployment_name = excluded.deployment_name, \
                     correlation_id = COALESCE(excluded.correlation_id, stages.correlation_id), \
                     state = excluded.state, \
                     started_at = CASE WHEN ?7 AND stages.started_at IS NOT NULL \
                     THEN stages.started_at ELSE excluded.started_at END, \
                     finished_at = NULL, error = NULL",
                    params![
                        run_id,
                        stage,
                        deployment_name,
                        correlation_id,
                        StageState::Running.as_str(),
                        db_time(*at)?,
                        reattached,
                    ],
                )
                .map_err(&sql)?;
            }
            DeploymentEvent::StageSucceeded {
                stage,
                outputs,
                elapsed_secs,
                at,
            } => {
                let started = start_from(*at, *elapsed_secs).map(db_time).transpose()?;
                ensure_stage(tx, run_id, stage).map_err(&sql)?;
                tx.execute(
                    "UPDATE stages SET state = ?3, started_at = COALESCE(started_at, ?4), \
                     finished_at = ?5, outputs = ?6, error = NULL \
                     WHERE run_id = ?1 AND stage = ?2",
                    params![
                        run_id,
                        stage,
                        StageState::Succeeded.as_str(),
                        started,
                        db_time(*at)?,
                        encode_json(outputs, "a stage's outputs")?,
                    ],
                )
                .map_err(&sql)?;
            }
            DeploymentEvent::StageFailed { stage, error, at } => {
                ensure_stage(tx, run_id, stage).map_err(&sql)?;
                tx.execute(
                    "UPDATE stages SET state = ?3, finished_at = ?4, error = ?5 \
                     WHERE run_id = ?1 AND stage = ?2",
                    params![
                        run_id,
                        stage,
                        StageState::Failed.as_str(),
                        db_time(*at)?,
                        encode_json(error, "a stage's error")?,
                    ],
                )
                .map_err(&sql)?;
            }
            DeploymentEvent::StageCanceled { stage, at } => {
                ensure_stage(tx, run_id, stage).map_err(&sql)?;
                tx.execute(
                    "UPDATE stages SET state = ?3, finished_at = ?4, error = NULL \
                     WHERE run_id = ?1 AND stage = ?2",
                    params![run_id, stage, StageState::Canceled.as_str(), db_time(*at)?],
                )
                .map_err(&sql)?;
            }
            DeploymentEvent::ResourceSucceeded {
                resource_id,
                elapsed_secs,
                ..
            } => {
                let resource_type: Option<String> = tx
                    .query_row(
                        "SELECT json_extract(data, '$.resourceType') FROM events \
                         WHERE run_id = ?1 AND name = 'resourceStarted' \
                         AND lower(json_extract(data, '$.resourceId')) = lower(?2) \
                         ORDER BY seq DESC LIMIT 1",
                        params![run_id, resource_id],
                        |r| r.get(0),
                    )
                    .optional()
                    .map_err(&sql)?
                    .flatten();
                if let Some(resource_type) = resource_type.filter(|_| elapsed_secs.is_finite()) {
                    tx.execute(
                        "INSERT OR REPLACE INTO resource_durations \
                         (run_id, resource_id, resource_type, elapsed_secs) \
                         VALUES (?1, lower(?2), ?3, ?4)",
                        params![
                            run_id,
                            resource_id,
                            resource_type.to_ascii_lowercase(),
                            elapsed_secs
                        ],
                    )
                    .map_err(&sql)?;
                }
            }
            DeploymentEvent::RunFinished { outcome, at, .. } => {
                tx.execute(
                    "UPDATE runs SET state = ?2, finished_at = ?3 WHERE run_id = ?1",
                    params![run_id, enum_text(&RunState::from(*outcome)), db_time(*at)?],
                )
                .map_err(&sql)?;
            }
            DeploymentEvent::ResourceGroupReady { .. }
            | DeploymentEvent::ResourceStarted { .. }
            | DeploymentEvent::ResourceProgress { .. }
            | DeploymentEvent::ResourceFailed { .. }
            | DeploymentEvent::Progress { .. }
            | DeploymentEvent::Notice { .. } => {}
        }
        Ok(())
    }

    /// A run's events with `seq` after `after_seq`, in order (`0` for all of them).
    pub fn events(&self, run_id: &str, after_seq: u64) -> Result<Vec<EventEnvelope>, JournalError> {
        let conn = self.conn();
        self.read_events(&conn, run_id, after_seq)
    }

    fn read_events(
        &self,
        conn: &Connection,
        run_id: &str,
        after_seq: u64,
    ) -> Result<Vec<EventEnvelope>, JournalError> {
        let op = "read a run's events";
        let after = i64::try_from(after_seq).unwrap_or(i64::MAX);
        let mut stmt = conn
            .prepare_cached(
                "SELECT seq, name, data FROM events WHERE run_id = ?1 AND seq > ?2 ORDER BY seq",
            )
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map(params![run_id, after], event_from_row)
            .map_err(self.sql(op))?;
        rows.collect::<Result<_, _>>().map_err(self.sql(op))
    }

    /// A run's last sequence number (`0` before its first event).
    pub fn last_seq(&self, run_id: &str) -> Result<u64, JournalError> {
        let conn = self.conn();
        let last: i64 = conn
            .query_row(
                "SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?1",
                [run_id],
                |r| r.get(0),
            )
            .map_err(self.sql("read a run's last sequence number"))?;
        Ok(u64::try_from(last).unwrap_or_default())
    }

    /// A run's state rebuilt from its stored events; `None` when there is no such run.
    pub fn snapshot(&self, run_id: &str) -> Result<Option<RunSnapshot>, JournalError> {
        let events = {
            let mut conn = self.conn();
            let op = "read a run's events";
            // One read transaction, so the run and its events are seen at the same instant.
            let tx = conn.transaction().map_err(self.sql(op))?;
            if run_state(&tx, run_id).map_err(self.sql(op))?.is_none() {
                return Ok(None);
            }
            let events = self.read_events(&tx, run_id, 0)?;
            tx.commit().map_err(self.sql(op))?;
            events
        };
        Ok(Some(RunSnapshot::from_events(&events)))
    }

    /// Makes this process (`pid` on `host`) the run's watcher, unless another process is and
    /// its heartbeat is fresh at `now`. Claiming again from the same process renews the claim.
    pub fn claim(
        &self,
        run_id: &str,
        pid: u32,
        host: &str,
        now: OffsetDateTime,
    ) -> Result<Claim, JournalError> {
        let op = "claim a run";
        let heartbeat = db_time(now)?;
        let mut conn = self.conn();
        let tx = self.begin(&mut conn, op)?;
        let current = tx
            .query_row(
                "SELECT watcher_pid, watcher_host, heartbeat_at FROM runs WHERE run_id = ?1",
                [run_id],
                |r| watcher_from_row(r, 0),
            )
            .optional()
            .map_err(self.sql(op))?;
        let Some(current) = current else {
            return Err(JournalError::UnknownRun {
                run_id: run_id.to_owned(),
            });
        };
        if let Some(watcher) = current {
            let ours = watcher.pid == pid && watcher.host == host;
            if !ours && watcher.is_live(now) {
                return Ok(Claim::HeldBy(watcher));
            }
        }
        tx.execute(
            "UPDATE runs SET watcher_pid = ?2, watcher_host = ?3, heartbeat_at = ?4 \
             WHERE run_id = ?1",
            params![run_id, pid, host, heartbeat],
        )
        .map_err(self.sql(op))?;
        tx.commit().map_err(self.sql(op))?;
        Ok(Claim::Claimed)
    }

    /// Renews this process's claim on a run; false when it is no longer the watcher (another
    /// process took over after its heartbeat went stale), and then it should stop watching.
    pub fn heartbeat(
        &self,
        run_id: &str,
        pid: u32,
        host: &str,
        now: OffsetDateTime,
    ) -> Result<bool, JournalError> {
        let op = "renew a run's claim";
        let heartbeat = db_time(now)?;
        let mut conn = self.conn();
        let tx = self.begin(&mut conn, op)?;
        let changed = tx
            .execute(
                "UPDATE runs SET heartbeat_at = ?4 \
                 WHERE run_id = ?1 AND watcher_pid = ?2 AND watcher_host = ?3",
                params![run_id, pid, host, heartbeat],
            )
            .map_err(self.sql(op))?;
        if changed == 0 && run_state(&tx, run_id).map_err(self.sql(op))?.is_none() {
            return Err(JournalError::UnknownRun {
                run_id: run_id.to_owned(),
            });
        }
        tx.commit().map_err(self.sql(op))?;
        Ok(changed > 0)
    }

    /// Gives up this process's claim on a run; false when it did not hold it.
    pub fn release(&self, run_id: &str, pid: u32, host: &str) -> Result<bool, JournalError> {
        let conn = self.conn();
        let changed = conn
            .execute(
                "UPDATE runs SET watcher_pid = NULL, watcher_host = NULL, heartbeat_at = NULL \
                 WHERE run_id = ?1 AND watcher_pid = ?2 AND watcher_host = ?3",
                params![run_id, pid, host],
            )
            .map_err(self.sql("release a run"))?;
        Ok(changed > 0)
    }

    /// The median of the last 50 elapsed times of resources of that type
    /// that succeeded in past runs (type compared ignoring ASCII case); `None` without history.
    pub fn expected_duration(&self, resource_type: &str) -> Result<Option<f64>, JournalError> {
        let conn = self.conn();
        let op = "read duration history";
        let mut stmt = conn
            .prepare_cached(
                "SELECT elapsed_secs FROM resource_durations WHERE resource_type = ?1 \
                 ORDER BY rowid DESC LIMIT ?2",
            )
            .map_err(self.sql(op))?;
        let rows = stmt
            .query_map(
                params![resource_type.to_ascii_lowercase(), DURATION_SAMPLES],
                |r| r.get::<_, f64>(0),
            )
            .map_err(self.sql(op))?;
        let samples: Vec<f64> = rows.collect::<Result<_, _>>().map_err(self.sql(op))?;
        Ok(median(samples))
    }

    /// A setting (`lastSubscription`, `lastTenant`...).
    pub fn setting(&self, key: &str) -> Result<Option<String>, JournalError> {
        let conn = self.conn();
        conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()
        .map_err(self.sql("read a setting"))
    }

    /// Stores a setting. Keys that name a secret (token, password...) are refused.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), JournalError> {
        let folded: String = key
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect::<String>()
            .to_ascii_lowercase();
        if SECRET_WORDS.iter().any(|word| folded.contains(word)) {
            return Err(JournalError::SecretSetting {
                key: key.to_owned(),
            });
        }
        let conn = self.conn();
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )
        .map_err(self.sql("store a setting"))?;
        Ok(())
    }

    /// SQLite's full integrity check: the problems found, empty when the journal is sound.
    pub fn integrity_problems(&self) -> Result<Vec<String>, JournalError> {
        let conn = self.conn();
        check(&conn, "PRAGMA integrity_check").map_err(self.sql("check its integrity"))
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held rolled its transaction back when it unwound, so the
        // connection is still consistent.
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn begin<'c>(
        &self,
        conn: &'c mut Connection,
        operation: &'static str,
    ) -> Result<Transaction<'c>, JournalError> {
        // IMMEDIATE takes the write lock up front: a deferred transaction that reads first
        // cannot wait for another writer when it later needs to write (SQLITE_BUSY at once).
        conn.transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(self.sql(operation))
    }

    fn sql(&self, operation: &'static str) -> impl Fn(rusqlite::Error) -> JournalError + '_ {
        move |e| sql_error(&self.path, operation, e)
    }
}

/// A best-effort name for this machine, for [`Journal::claim`].
pub fn host_name() -> String {
    ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|var| std::env::var(var).ok())
        .or_else(|| fs::read_to_string("/etc/hostname").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), JournalError> {
    let op = "update its schema";
    let fail = |e| sql_error(path, op, e);
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(fail)?;
    // Read again under the write lock: another process may have migrated meanwhile.
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(fail)?;
    if version > SCHEMA_VERSION {
        return Err(JournalError::NewerVersion {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let from = usize::try_from(version).unwrap_or_default();
    for sql in MIGRATIONS.iter().skip(from) {
        tx.execute_batch(sql).map_err(fail)?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(fail)?;
    tx.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(fail)?;
    tx.commit().map_err(fail)
}

fn sql_error(path: &Path, operation: &'static str, error: rusqlite::Error) -> JournalError {
    let path = path.to_path_buf();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => JournalError::Corrupt {
            path,
            detail: error.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => JournalError::Busy { path },
        _ => match error {
            rusqlite::Error::FromSqlConversionFailure(column, _, source) => {
                JournalError::Unreadable {
                    path,
                    operation,
                    detail: format!("column {column}: {source}"),
                }
            }
            source => JournalError::Sqlite {
                path,
                operation,
                source,
            },
        },
    }
}

/// The rows of a check pragma other than `ok`.
fn check(conn: &Connection, pragma: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare(pragma)?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut problems = Vec::new();
    for row in rows {
        let row = row?;
        if row != "ok" {
            problems.push(row);
        }
    }
    Ok(problems)
}

fn run_state(tx: &Connection, run_id: &str) -> rusqlite::Result<Option<String>> {
    tx.query_row("SELECT state FROM runs WHERE run_id = ?1", [run_id], |r| {
        r.get(0)
    })
    .optional()
}

fn ensure_stage(tx: &Transaction<'_>, run_id: &str, stage: &str) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO stages (run_id, stage, deployment_name, state) VALUES (?1, ?2, '', ?3) \
         ON CONFLICT (run_id, stage) DO NOTHING",
        params![run_id, stage, StageState::Pending.as_str()],
    )?;
    Ok(())
}

fn median(mut samples: Vec<f64>) -> Option<f64> {
    samples.retain(|s| s.is_finite());
    if samples.is_empty() {
        return None;
    }
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    Some(if samples.len() % 2 == 1 {
        samples[mid]
    } else {
        (samples[mid - 1] + samples[mid]) / 2.0
    })
}

fn db_time(t: OffsetDateTime) -> Result<String, JournalError> {
    let encode = |detail: String| JournalError::Encode {
        what: "a timestamp",
        detail,
    };
    t.checked_to_offset(UtcOffset::UTC)
        .ok_or_else(|| encode(format!("{t} cannot be expressed in UTC")))?
        .format(DB_TIME)
        .map_err(|e| encode(e.to_string()))
}

fn encode_json<T: Serialize + ?Sized>(
    value: &T,
    what: &'static str,
) -> Result<String, JournalError> {
    serde_json::to_string(value).map_err(|e| JournalError::Encode {
        what,
        detail: e.to_string(),
    })
}

/// An enum's wire spelling (`running`), which is also how it is stored.
fn enum_text<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(Json::String(text)) => text,
        _ => String::new(),
    }
}

fn unreadable(column: usize, detail: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, Type::Text, detail.into())
}

fn enum_col<T: DeserializeOwned>(row: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_value(Json::String(text.clone()))
        .map_err(|_| unreadable(column, format!("'{text}' is not a known value")))
}

fn json_col<T: DeserializeOwned>(row: &Row<'_>, column: usize) -> rusqlite::Result<T> {
    let text: String = row.get(column)?;
    serde_json::from_str(&text).map_err(|e| unreadable(column, e.to_string()))
}

fn opt_json_col<T: DeserializeOwned>(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<T>> {
    let text: Option<String> = row.get(column)?;
    text.map(|t| serde_json::from_str(&t).map_err(|e| unreadable(column, e.to_string())))
        .transpose()
}

fn time_col(row: &Row<'_>, column: usize) -> rusqlite::Result<OffsetDateTime> {
    let text: String = row.get(column)?;
    parse_time(&text, column)
}

fn opt_time_col(row: &Row<'_>, column: usize) -> rusqlite::Result<Option<OffsetDateTime>> {
    let text: Option<String> = row.get(column)?;
    text.map(|t| parse_time(&t, column)).transpose()
}

fn parse_time(text: &str, column: usize) -> rusqlite::Result<OffsetDateTime> {
    PlainDateTime::parse(text, DB_TIME)
        .map(PlainDateTime::assume_utc)
        .map_err(|e| unreadable(column, format!("'{text}' is not a timestamp: {e}")))
}

/// The watcher stored in three columns from `first`, when there is one.
fn watcher_from_row(row: &Row<'_>, first: usize) -> rusqlite::Result<Option<Watcher>> {
    let pid: Option<u32> = row.get(first)?;
    let host: Option<String> = row.get(first + 1)?;
    let heartbeat_at = opt_time_col(row, first + 2)?;
    Ok(match (pid, host, heartbeat_at) {
        (Some(pid), Some(host), Some(heartbeat_at)) => Some(Watcher {
            pid,
            host,
            heartbeat_at,
        }),
        _ => None,
    })
}

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<RunRecord> {
    Ok(RunRecord {
        run_id: row.get(0)?,
        instance: row.get(1)?,
        kind: enum_col(row, 2)?,
        state: enum_col(row, 3)?,
        subscription_id: row.get(4)?,
        tenant_id: row.get(5)?,
        resource_group: row.get(6)?,
        location: row.get(7)?,
        manifest_version: row.get(8)?,
        preset: row.get(9)?,
        inputs: json_col(row, 10)?,
        started_at: time_col(row, 11)?,
        finished_at: opt_time_col(row, 12)?,
        watcher: watcher_from_row(row, 13)?,
    })
}

fn instance_from_row(row: &Row<'_>) -> rusqlite::Result<InstanceRecord> {
    Ok(InstanceRecord {
        name: row.get(0)?,
        subscription_id: row.get(1)?,
        resource_group: row.get(2)?,
        location: row.get(3)?,
        manifest_name: row.get(4)?,
        manifest_version: row.get(5)?,
        state: enum_col(row, 6)?,
        inputs: json_col(row, 7)?,
        outputs: json_col(row, 8)?,
        last_run_id: row.get(9)?,
        created_at: time_col(row, 10)?,
        updated_at: time_col(row, 11)?,
    })
}

fn stage_from_row(row: &Row<'_>) -> rusqlite::Result<StageRecord> {
    let state: String = row.get(4)?;
    Ok(StageRecord {
        run_id: row.get(0)?,
        stage: row.get(1)?,
        deployment_name: row.get(2)?,
        correlation_id: row.get(3)?,
        state: StageState::parse(&state)
            .ok_or_else(|| unreadable(4, format!("'{state}' is not a stage state")))?,
        started_at: opt_time_col(row, 5)?,
        finished_at: opt_time_col(row, 6)?,
        outputs: json_col(row, 7)?,
        error: opt_json_col(row, 8)?,
    })
}

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<EventEnvelope> {
    let seq: i64 = row.get(0)?;
    let name: String = row.get(1)?;
    let data: Json = json_col(row, 2)?;
    let mut wire = serde_json::Map::new();
    wire.insert("event".into(), Json::String(name));
    wire.insert("data".into(), data);
    let event = serde_json::from_value(Json::Object(wire))
        .map_err(|e| unreadable(2, format!("event {seq}: {e}")))?;
    Ok(EventEnvelope {
        seq: u64::try_from(seq).map_err(|_| unreadable(0, format!("sequence number {seq}")))?,
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_can_be_shared_across_tasks() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Journal>();
    }

    #[test]
    fn every_schema_version_has_a_migration() {
        assert_eq!(MIGRATIONS.len(), usize::try_from(SCHEMA_VERSION).unwrap());
    }

    #[test]
    fn stored_times_sort_as_text_in_time_order() {
        let base = OffsetDateTime::UNIX_EPOCH + SignedDuration::seconds(1_700_000_000);
        let whole = db_time(base).unwrap();
        let half = db_time(base + SignedDuration::milliseconds(500)).unwrap();
        assert!(whole < half, "{whole} < {half}");
        assert_eq!(
            parse_time(&half, 0).unwrap(),
            base + SignedDuration::milliseconds(500)
        );
        let offset = base.to_offset(UtcOffset::from_hms(2, 0, 0).unwrap());
        assert_eq!(db_time(offset).unwrap(), whole);
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(vec![f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn secret_setting_keys_are_refused() {
        let journal = Journal::open_in_memory().unwrap();
        for key in ["refresh_token", "clientSecret", "mysql-Password", "API.Key"] {
            let err = journal.set_setting(key, "x").unwrap_err();
            assert!(
                matches!(err, JournalError::SecretSetting { .. }),
                "{key}: {err}"
            );
            assert_eq!(journal.setting(key).unwrap(), None);
        }
        journal.set_setting("lastTenant", "t1").unwrap();
        journal.set_setting("lastTenant", "t2").unwrap();
        assert_eq!(
            journal.setting("lastTenant").unwrap().as_deref(),
            Some("t2")
        );
    }

    #[test]
    fn enums_are_stored_as_their_wire_spelling() {
        assert_eq!(enum_text(&RunState::Detached), "detached");
        assert_eq!(enum_text(&InstanceState::TearingDown), "tearingDown");
        assert_eq!(enum_text(&RunKind::Retry), "retry");
    }
}
