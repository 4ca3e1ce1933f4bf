//! The run journal and run snapshots: durability, sharing between handles and processes,
//! refusal of damaged or newer files, and the fold of events into a run's state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use landfall_azure::{ErrorCode, ErrorReport};
use landfall_engine::events::{PlannedItem, StageSummary};
use landfall_engine::journal::{
    Claim, InstanceRecord, InstanceState, Journal, JournalError, RunRecord, RunState,
    SCHEMA_VERSION, StageRecord, Watcher,
};
use landfall_engine::snapshot::{ResourceState, RunProgress, RunSnapshot, StageState};
use landfall_engine::{DeploymentEvent, EventEnvelope, Outcome, RunKind};
use proptest::prelude::*;
use serde_json::{Value as Json, json};
use time::{OffsetDateTime, SignedDuration};

const SUB: &str = "00000000-0000-0000-0000-000000000001";
const RG: &str = "rg-acme";

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::UNIX_EPOCH + SignedDuration::seconds(1_750_000_000 + secs)
}

fn rid(kind: &str) -> String {
    format!("/subscriptions/{SUB}/resourceGroups/{RG}/providers/{kind}")
}

fn run_record(run_id: &str, kind: RunKind, started: OffsetDateTime) -> RunRecord {
    RunRecord {
        run_id: run_id.into(),
        instance: "acme".into(),
        kind,
        state: RunState::Running,
        subscription_id: SUB.into(),
        tenant_id: "tenant-1".into(),
        resource_group: RG.into(),
        location: "westeurope".into(),
        manifest_version: "1.4.0".into(),
        preset: Some("small".into()),
        inputs: json!({"name": "acme", "mysqlAdminPassword": "<redacted>", "userNodeCount": 3}),
        started_at: started,
        finished_at: None,
        watcher: None,
    }
}

fn report(code: ErrorCode, message: &str) -> ErrorReport {
    ErrorReport {
        code,
        message: message.into(),
        details: None,
        remediation: None,
        retry_after_seconds: None,
        correlation_id: None,
    }
}

fn notice(message: &str, secs: i64) -> DeploymentEvent {
    DeploymentEvent::Notice {
        message: message.into(),
        at: at(secs),
    }
}

fn planned(kind: &str, name: &str, expected: f64) -> PlannedItem {
    PlannedItem {
        resource_id: rid(&format!("{kind}/{name}")),
        resource_type: kind.into(),
        resource_name: name.into(),
        expected_secs: expected,
    }
}

fn stage_summary(name: &str, depends_on: &[&str], resources: Vec<PlannedItem>) -> StageSummary {
    StageSummary {
        name: name.into(),
        label: name[..1].to_uppercase() + &name[1..],
        depends_on: depends_on.iter().map(|s| (*s).to_owned()).collect(),
        deployment_name: format!("acme-{name}"),
        resources,
        expected_secs: 30.0,
    }
}

fn resource_started(stage: &str, id: &str, kind: &str, name: &str, secs: i64) -> DeploymentEvent {
    DeploymentEvent::ResourceStarted {
        stage: stage.into(),
        resource_id: id.into(),
        resource_type: kind.into(),
        resource_name: name.into(),
        expected_secs: 30.0,
        at: at(secs),
    }
}

fn resource_succeeded(stage: &str, id: &str, elapsed: f64, secs: i64) -> DeploymentEvent {
    DeploymentEvent::ResourceSucceeded {
        stage: stage.into(),
        resource_id: id.into(),
        elapsed_secs: elapsed,
        at: at(secs),
    }
}

fn stage_started(stage: &str, secs: i64) -> DeploymentEvent {
    DeploymentEvent::StageStarted {
        stage: stage.into(),
        deployment_name: format!("acme-{stage}"),
        correlation_id: Some(format!("corr-{stage}")),
        reattached: false,
        at: at(secs),
    }
}

fn append_all(journal: &Journal, run_id: &str, events: &[DeploymentEvent]) -> Vec<EventEnvelope> {
    events
        .iter()
        .map(|e| journal.append(run_id, e).unwrap())
        .collect()
}

fn seqs(events: &[EventEnvelope]) -> Vec<u64> {
    events.iter().map(|e| e.seq).collect()
}

// ---------------------------------------------------------------------------------------------
// Sharing and durability

#[test]
fn seq_is_strictly_increasing_across_two_handles_on_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    Journal::open(&path)
        .unwrap()
        .create_run(&run_record("r1", RunKind::Install, at(0)))
        .unwrap();
    const EACH: u64 = 60;
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let path = path.clone();
            thread::spawn(move || {
                let journal = Journal::open(&path).unwrap();
                (0..EACH)
                    .map(|i| {
                        let event = notice(&format!("writer {w} event {i}"), 1);
                        journal.append("r1", &event).unwrap().seq
                    })
                    .collect::<Vec<u64>>()
            })
        })
        .collect();
    let mut all = BTreeSet::new();
    for writer in writers {
        let mine = writer.join().unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
        for seq in mine {
            assert!(all.insert(seq), "seq {seq} handed out twice");
        }
    }
    assert_eq!(all, (1..=2 * EACH).collect::<BTreeSet<_>>());
    let journal = Journal::open(&path).unwrap();
    assert_eq!(
        seqs(&journal.events("r1", 0).unwrap()),
        (1..=2 * EACH).collect::<Vec<_>>()
    );
    assert_eq!(
        seqs(&journal.events("r1", 2 * EACH - 2).unwrap()),
        vec![2 * EACH - 1, 2 * EACH]
    );
    assert_eq!(journal.last_seq("r1").unwrap(), 2 * EACH);
}

#[test]
fn reopening_after_drop_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("folder").join("journal.db");
    let run = run_record("r1", RunKind::Install, at(0));
    let instance = InstanceRecord {
        name: "acme".into(),
        subscription_id: SUB.into(),
        resource_group: RG.into(),
        location: "westeurope".into(),
        manifest_name: "data-platform".into(),
        manifest_version: "1.4.0".into(),
        state: InstanceState::Deploying,
        inputs: run.inputs.clone(),
        outputs: Json::Null,
        last_run_id: Some("r1".into()),
        created_at: at(0),
        updated_at: at(0) + SignedDuration::nanoseconds(123_456_789),
    };
    let events = vec![
        DeploymentEvent::RunStarted {
            run_id: "r1".into(),
            instance: "acme".into(),
            kind: RunKind::Install,
            subscription_id: SUB.into(),
            resource_group: RG.into(),
            location: "westeurope".into(),
            stages: vec![stage_summary("network", &[], vec![])],
            expected_secs: 30.0,
            at: at(0),
        },
        stage_started("network", 1),
        notice("half way", 2),
    ];
    let written = {
        let journal = Journal::open(&path).unwrap();
        journal.create_run(&run).unwrap();
        journal.upsert_instance(&instance).unwrap();
        journal.set_setting("lastSubscription", SUB).unwrap();
        assert_eq!(
            journal.claim("r1", 42, "host-a", at(1)).unwrap(),
            Claim::Claimed
        );
        append_all(&journal, "r1", &events)
    };

    let journal = Journal::open(&path).unwrap();
    let mut expected_run = run.clone();
    expected_run.watcher = Some(Watcher {
        pid: 42,
        host: "host-a".into(),
        heartbeat_at: at(1),
    });
    assert_eq!(journal.run("r1").unwrap(), Some(expected_run));
    assert_eq!(journal.instances().unwrap(), vec![instance.clone()]);
    assert_eq!(journal.instance("acme").unwrap(), Some(instance));
    assert_eq!(journal.events("r1", 0).unwrap(), written);
    assert_eq!(
        journal.setting("lastSubscription").unwrap().as_deref(),
        Some(SUB)
    );
    assert_eq!(
        journal.stages("r1").unwrap(),
        vec![StageRecord {
            run_id: "r1".into(),
            stage: "network".into(),
            deployment_name: "acme-network".into(),
            correlation_id: Some("corr-network".into()),
            state: StageState::Running,
            started_at: Some(at(1)),
            finished_at: None,
            outputs: Json::Null,
            error: None,
        }]
    );
    // The next event carries on from the stored sequence.
    assert_eq!(journal.append("r1", &notice("after", 3)).unwrap().seq, 4);
}

#[test]
fn the_journal_file_is_in_wal_mode_with_foreign_keys() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let journal = Journal::open(&path).unwrap();
    journal
        .create_run(&run_record("r1", RunKind::Install, at(0)))
        .unwrap();
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    // Stages and events cannot point at a run that does not exist.
    let err = journal.append("no-such-run", &notice("x", 0)).unwrap_err();
    assert!(matches!(err, JournalError::UnknownRun { .. }), "{err}");
    let err = journal
        .set_stage(&StageRecord {
            run_id: "no-such-run".into(),
            stage: "network".into(),
            deployment_name: "d".into(),
            correlation_id: None,
            state: StageState::Running,
            started_at: None,
            finished_at: None,
            outputs: Json::Null,
            error: None,
        })
        .unwrap_err();
    assert!(matches!(err, JournalError::UnknownRun { .. }), "{err}");
    let err = journal
        .create_run(&run_record("r1", RunKind::Install, at(5)))
        .unwrap_err();
    assert!(matches!(err, JournalError::RunExists { .. }), "{err}");
}

#[test]
fn a_journal_from_a_newer_landfall_is_refused_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.pragma_update(None, "user_version", SCHEMA_VERSION + 98)
        .unwrap();
    drop(raw);
    let before = std::fs::read(&path).unwrap();

    let err = Journal::open(&path).unwrap_err();
    match &err {
        JournalError::NewerVersion {
            path: p,
            found,
            supported,
        } => {
            assert_eq!(p, &path);
            assert_eq!(*found, SCHEMA_VERSION + 98);
            assert_eq!(*supported, SCHEMA_VERSION);
        }
        other => panic!("expected NewerVersion, got {other:?}"),
    }
    let message = err.to_string();
    assert!(message.contains("update Landfall"), "{message}");
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

/// Opening `path` must fail with `Corrupt` and leave the file byte for byte as it was.
fn assert_refused_as_corrupt(path: &Path) -> String {
    let before = std::fs::read(path).unwrap();
    let err = Journal::open(path).unwrap_err();
    assert!(
        matches!(&err, JournalError::Corrupt { path: p, .. } if p == path),
        "expected Corrupt, got {err:?}"
    );
    assert_eq!(std::fs::read(path).unwrap(), before, "the file was changed");
    // A second attempt gives the same answer: nothing was reset by the first.
    assert!(matches!(
        Journal::open(path).unwrap_err(),
        JournalError::Corrupt { .. }
    ));
    err.to_string()
}

#[test]
fn a_garbage_file_is_refused_as_corrupt_and_left_as_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let garbage: Vec<u8> = (0..16 * 1024)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect();
    std::fs::write(&path, &garbage).unwrap();
    let message = assert_refused_as_corrupt(&path);
    assert!(message.contains("left as it is"), "{message}");
    assert!(message.contains("move it aside"), "{message}");
}

/// The bytes of a journal of about 200 pages, closed cleanly.
fn sizeable_journal_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let journal = Journal::open(&path).unwrap();
        journal
            .create_run(&run_record("r1", RunKind::Install, at(0)))
            .unwrap();
        let padding = "x".repeat(2000);
        for i in 0..200 {
            journal.append("r1", &notice(&padding, i)).unwrap();
        }
    }
    // Dropping the last handle checkpointed the WAL into the file and removed it.
    assert!(!dir.path().join("journal.db-wal").exists());
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.len() > 100 * 4096,
        "journal is only {} bytes",
        bytes.len()
    );
    bytes
}

#[test]
fn a_truncated_journal_is_refused_as_corrupt_and_left_as_it_is() {
    let bytes = sizeable_journal_bytes();
    let dir = tempfile::tempdir().unwrap();
    for cut in [bytes.len() / 2, 4096 + 1000, 4096, 50] {
        let path = dir.path().join(format!("cut-{cut}.db"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        assert_refused_as_corrupt(&path);
    }
}

#[test]
fn a_journal_with_a_damaged_page_is_refused_as_corrupt() {
    let mut bytes = sizeable_journal_bytes();
    let page = bytes.len() / 4096 / 2 * 4096;
    bytes[page..page + 4096].fill(0xab);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    std::fs::write(&path, &bytes).unwrap();
    assert_refused_as_corrupt(&path);
}

#[test]
fn another_programs_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    let raw = rusqlite::Connection::open(&path).unwrap();
    raw.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT);")
        .unwrap();
    drop(raw);
    let message = assert_refused_as_corrupt(&path);
    assert!(message.contains("another program"), "{message}");
}

#[test]
fn journal_records_have_no_field_for_a_secret() {
    const SECRET_WORDS: [&str; 5] = ["secret", "password", "token", "credential", "key"];
    fn keys(value: &Json, out: &mut Vec<String>) {
        match value {
            Json::Object(map) => {
                for (k, v) in map {
                    out.push(k.clone());
                    // The caller's (already redacted) inputs and the outputs are values, not
                    // fields of the journal.
                    if k != "inputs" && k != "outputs" {
                        keys(v, out);
                    }
                }
            }
            Json::Array(items) => items.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }
    let mut run = run_record("r1", RunKind::Install, at(0));
    run.finished_at = Some(at(1));
    run.watcher = Some(Watcher {
        pid: 1,
        host: "h".into(),
        heartbeat_at: at(0),
    });
    let stage = StageRecord {
        run_id: "r1".into(),
        stage: "s".into(),
        deployment_name: "d".into(),
        correlation_id: Some("c".into()),
        state: StageState::Failed,
        started_at: Some(at(0)),
        finished_at: Some(at(1)),
        outputs: json!({"vnetId": "x"}),
        error: Some(report(ErrorCode::Conflict, "boom")),
    };
    let (_, snapshot) = failed_install();
    let mut found = Vec::new();
    for value in [
        serde_json::to_value(&run).unwrap(),
        serde_json::to_value(&stage).unwrap(),
        serde_json::to_value(&snapshot).unwrap(),
    ] {
        keys(&value, &mut found);
    }
    assert!(found.len() > 40, "{found:?}");
    for key in &found {
        let folded = key.to_ascii_lowercase();
        assert!(
            !SECRET_WORDS.iter().any(|w| folded.contains(w)),
            "field '{key}' names a secret"
        );
    }

    // The same for every column of the stored schema.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mut stmt = raw
        .prepare(
            "SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p \
             WHERE m.type = 'table'",
        )
        .unwrap();
    let columns: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(columns.len() > 30, "{columns:?}");
    for (table, column) in columns {
        let folded = column.to_ascii_lowercase();
        assert!(
            column == "key" || !SECRET_WORDS.iter().any(|w| folded.contains(w)),
            "{table}.{column} names a secret"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Snapshots

const VNET: &str = "Microsoft.Network/virtualNetworks";
const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";
const WORKSPACE: &str = "Microsoft.OperationalInsights/workspaces";
const STORAGE: &str = "Microsoft.Storage/storageAccounts";
const MYSQL: &str = "Microsoft.DBforMySQL/flexibleServers";

fn vnet_id() -> String {
    rid(&format!("{VNET}/acme-vnet"))
}
fn subnet_id() -> String {
    rid(&format!("{VNET}/acme-vnet/subnets/mysql"))
}
fn workspace_id() -> String {
    rid(&format!("{WORKSPACE}/acme-logs"))
}
fn storage_id() -> String {
    rid(&format!("{STORAGE}/acmedata"))
}
fn mysql_id() -> String {
    rid(&format!("{MYSQL}/acme-mysql"))
}

fn quota_error() -> ErrorReport {
    report(
        ErrorCode::QuotaExceeded,
        "Operation could not be completed as it results in exceeding approved Total Regional \
         Cores quota.",
    )
}

/// An install: network and monitoring in parallel, then data, whose MySQL server fails on
/// quota. The vnet's operation reports its ID in upper case; the subnet is not in the plan.
fn failed_install_events() -> Vec<DeploymentEvent> {
    let run_started = DeploymentEvent::RunStarted {
        run_id: "r1".into(),
        instance: "acme".into(),
        kind: RunKind::Install,
        subscription_id: SUB.into(),
        resource_group: RG.into(),
        location: "westeurope".into(),
        stages: vec![
            stage_summary("network", &[], vec![planned(VNET, "acme-vnet", 10.0)]),
            stage_summary(
                "monitoring",
                &[],
                vec![planned(WORKSPACE, "acme-logs", 25.0)],
            ),
            stage_summary(
                "data",
                &["network", "monitoring"],
                vec![
                    planned(STORAGE, "acmedata", 20.0),
                    planned(MYSQL, "acme-mysql", 480.0),
                ],
            ),
        ],
        expected_secs: 520.0,
        at: at(0),
    };
    vec![
        run_started,
        DeploymentEvent::ResourceGroupReady {
            resource_group_id: format!("/subscriptions/{SUB}/resourceGroups/{RG}"),
            at: at(1),
        },
        stage_started("network", 2),
        stage_started("monitoring", 2),
        resource_started("network", &vnet_id().to_uppercase(), VNET, "acme-vnet", 3),
        resource_started("monitoring", &workspace_id(), WORKSPACE, "acme-logs", 3),
        DeploymentEvent::ResourceProgress {
            stage: "network".into(),
            resource_id: vnet_id(),
            provisioning_state: "Updating".into(),
            at: at(5),
        },
        resource_started("network", &subnet_id(), SUBNET, "acme-vnet/mysql", 6),
        resource_succeeded("network", &vnet_id(), 7.0, 10),
        resource_succeeded("network", &subnet_id(), 4.0, 10),
        DeploymentEvent::StageSucceeded {
            stage: "network".into(),
            outputs: json!({"vnetId": vnet_id()}),
            elapsed_secs: 8.0,
            at: at(10),
        },
        DeploymentEvent::Progress {
            done: 2,
            total: 5,
            elapsed_secs: 10.0,
            eta_secs: 500.0,
        },
        resource_succeeded("monitoring", &workspace_id(), 20.0, 23),
        DeploymentEvent::StageSucceeded {
            stage: "monitoring".into(),
            outputs: json!({"workspaceId": workspace_id()}),
            elapsed_secs: 22.0,
            at: at(24),
        },
        stage_started("data", 25),
        resource_started("data", &storage_id(), STORAGE, "acmedata", 26),
        resource_started("data", &mysql_id(), MYSQL, "acme-mysql", 26),
        DeploymentEvent::ResourceFailed {
            stage: "data".into(),
            resource_id: mysql_id(),
            resource_type: MYSQL.into(),
            error: quota_error(),
            at: at(40),
        },
        notice("Waiting for the data stage's other operations to end.", 41),
        resource_succeeded("data", &storage_id(), 20.0, 46),
        DeploymentEvent::StageFailed {
            stage: "data".into(),
            error: quota_error(),
            at: at(47),
        },
        DeploymentEvent::Progress {
            done: 5,
            total: 5,
            elapsed_secs: 47.0,
            eta_secs: 0.0,
        },
        DeploymentEvent::RunFinished {
            outcome: Outcome::Failed,
            outputs: Json::Null,
            error: Some(quota_error()),
            elapsed_secs: 47.0,
            at: at(47),
        },
    ]
}

/// The failed install, journaled, and its snapshot.
fn failed_install() -> (Journal, RunSnapshot) {
    let journal = Journal::open_in_memory().unwrap();
    journal
        .create_run(&run_record("r1", RunKind::Install, at(0)))
        .unwrap();
    append_all(&journal, "r1", &failed_install_events());
    let snapshot = journal.snapshot("r1").unwrap().unwrap();
    (journal, snapshot)
}

#[test]
fn snapshot_of_parallel_stages_with_a_failed_resource() {
    let (journal, s) = failed_install();
    assert_eq!(s.run_id, "r1");
    assert_eq!(s.instance, "acme");
    assert_eq!(s.kind, Some(RunKind::Install));
    assert_eq!(s.target.resource_group, RG);
    assert_eq!(s.target.location, "westeurope");
    assert_eq!(
        s.resource_group_id.as_deref(),
        Some(format!("/subscriptions/{SUB}/resourceGroups/{RG}").as_str())
    );
    assert_eq!(s.outcome, Some(Outcome::Failed));
    assert_eq!(s.error, Some(quota_error()));
    assert_eq!(s.started_at, Some(at(0)));
    assert_eq!(s.finished_at, Some(at(47)));
    assert_eq!(s.as_of, Some(at(47)));
    assert_eq!(s.last_seq, 23);
    assert_eq!(
        s.progress,
        RunProgress {
            done: 5,
            total: 5,
            elapsed_secs: 47.0,
            eta_secs: 0.0
        }
    );
    assert_eq!(s.notices.len(), 1);
    assert_eq!(s.notices[0].seq, 19);

    let names: Vec<_> = s.stages.iter().map(|st| st.name.as_str()).collect();
    assert_eq!(names, ["network", "monitoring", "data"]);

    let network = s.stage("network").unwrap();
    assert_eq!(network.state, StageState::Succeeded);
    assert_eq!(network.label, "Network");
    assert_eq!(network.deployment_name, "acme-network");
    assert_eq!(network.correlation_id.as_deref(), Some("corr-network"));
    assert_eq!(network.started_at, Some(at(2)));
    assert_eq!(network.finished_at, Some(at(10)));
    assert_eq!(network.elapsed_secs, Some(8.0));
    assert_eq!(network.outputs, json!({"vnetId": vnet_id()}));
    let ids: Vec<_> = network
        .resources
        .iter()
        .map(|r| (r.resource_name.as_str(), r.planned, r.state))
        .collect();
    assert_eq!(
        ids,
        [
            ("acme-vnet", true, ResourceState::Succeeded),
            ("acme-vnet/mysql", false, ResourceState::Succeeded)
        ]
    );
    let vnet = network.resource(&vnet_id()).unwrap();
    assert_eq!(vnet.resource_id, vnet_id(), "the plan's ID is kept");
    assert_eq!(vnet.started_at, Some(at(3)));
    assert_eq!(vnet.elapsed_secs, Some(7.0));
    assert_eq!(vnet.provisioning_state.as_deref(), Some("Succeeded"));
    let subnet = network.resource(&subnet_id()).unwrap();
    assert_eq!(subnet.resource_type, SUBNET);
    assert_eq!(subnet.expected_secs, 30.0);

    let monitoring = s.stage("monitoring").unwrap();
    assert_eq!(monitoring.state, StageState::Succeeded);
    assert_eq!(monitoring.elapsed_secs, Some(22.0));

    let data = s.stage("data").unwrap();
    assert_eq!(data.state, StageState::Failed);
    assert_eq!(data.depends_on, ["network", "monitoring"]);
    assert_eq!(data.error, Some(quota_error()));
    assert_eq!(data.elapsed_secs, Some(22.0));
    let mysql = data.resource(&mysql_id()).unwrap();
    assert_eq!(mysql.state, ResourceState::Failed);
    assert_eq!(mysql.error.as_ref().unwrap().code, ErrorCode::QuotaExceeded);
    assert_eq!(mysql.elapsed_secs, Some(14.0));
    assert_eq!(mysql.finished_at, Some(at(40)));
    let storage = data.resource(&storage_id()).unwrap();
    assert_eq!(storage.state, ResourceState::Succeeded);
    assert_eq!(storage.elapsed_secs, Some(20.0));

    // The journal's own records agree with the snapshot.
    let run = journal.run("r1").unwrap().unwrap();
    assert_eq!(run.state, RunState::Failed);
    assert_eq!(run.finished_at, Some(at(47)));
    let stages = journal.stages("r1").unwrap();
    let states: Vec<_> = stages
        .iter()
        .map(|st| (st.stage.as_str(), st.state))
        .collect();
    assert_eq!(
        states,
        [
            ("network", StageState::Succeeded),
            ("monitoring", StageState::Succeeded),
            ("data", StageState::Failed)
        ]
    );
    assert_eq!(stages[0].outputs, json!({"vnetId": vnet_id()}));
    assert_eq!(stages[2].error, Some(quota_error()));
    assert_eq!(stages[2].correlation_id.as_deref(), Some("corr-data"));
    assert_eq!(stages[2].started_at, Some(at(25)));
    assert_eq!(stages[2].finished_at, Some(at(47)));
}

#[test]
fn snapshot_while_running_measures_elapsed_to_the_latest_event() {
    let events = failed_install_events();
    let mut s = RunSnapshot::default();
    for (i, event) in events.iter().take(8).enumerate() {
        s.apply(&EventEnvelope {
            seq: i as u64 + 1,
            event: event.clone(),
        });
    }
    assert_eq!(s.outcome, None);
    assert_eq!(s.as_of, Some(at(6)));
    let network = s.stage("network").unwrap();
    assert_eq!(network.state, StageState::Running);
    assert_eq!(network.elapsed_secs, Some(4.0));
    let vnet = network.resource(&vnet_id()).unwrap();
    assert_eq!(vnet.state, ResourceState::Running);
    assert_eq!(vnet.elapsed_secs, Some(3.0));
    assert_eq!(vnet.provisioning_state.as_deref(), Some("Updating"));
    let data = s.stage("data").unwrap();
    assert_eq!(data.state, StageState::Pending);
    assert!(
        data.resources
            .iter()
            .all(|r| r.state == ResourceState::Pending && r.elapsed_secs.is_none())
    );
    // No progress event yet: counted from the rows, ETA from the expected total.
    assert_eq!(
        s.progress,
        RunProgress {
            done: 0,
            total: 5,
            elapsed_secs: 6.0,
            eta_secs: 514.0
        }
    );
}

#[test]
fn a_retry_run_finishes_what_the_failed_one_left() {
    let (journal, _) = failed_install();
    journal
        .create_run(&run_record("r2", RunKind::Retry, at(100)))
        .unwrap();
    let retry = vec![
        DeploymentEvent::RunStarted {
            run_id: "r2".into(),
            instance: "acme".into(),
            kind: RunKind::Retry,
            subscription_id: SUB.into(),
            resource_group: RG.into(),
            location: "westeurope".into(),
            stages: vec![stage_summary(
                "data",
                &[],
                vec![
                    planned(STORAGE, "acmedata", 20.0),
                    planned(MYSQL, "acme-mysql", 480.0),
                ],
            )],
            expected_secs: 480.0,
            at: at(100),
        },
        stage_started("data", 101),
        resource_started("data", &storage_id(), STORAGE, "acmedata", 102),
        resource_started("data", &mysql_id(), MYSQL, "acme-mysql", 102),
        resource_succeeded("data", &storage_id(), 2.0, 104),
        resource_succeeded("data", &mysql_id(), 400.0, 502),
        DeploymentEvent::StageSucceeded {
            stage: "data".into(),
            outputs: json!({"mysqlHost": "acme-mysql.mysql.database.azure.com"}),
            elapsed_secs: 402.0,
            at: at(503),
        },
        DeploymentEvent::RunFinished {
            outcome: Outcome::Succeeded,
            outputs: json!({"instanceUrl": "https://acme.example.com"}),
            error: None,
            elapsed_secs: 403.0,
            at: at(503),
        },
    ];
    append_all(&journal, "r2", &retry);
    let s = journal.snapshot("r2").unwrap().unwrap();
    assert_eq!(s.kind, Some(RunKind::Retry));
    assert_eq!(s.outcome, Some(Outcome::Succeeded));
    assert_eq!(
        s.outputs,
        json!({"instanceUrl": "https://acme.example.com"})
    );
    assert_eq!(s.error, None);
    assert_eq!(s.stages.len(), 1);
    let data = &s.stages[0];
    assert_eq!(data.state, StageState::Succeeded);
    assert_eq!(data.elapsed_secs, Some(402.0));
    let states: Vec<_> = data.resources.iter().map(|r| r.state).collect();
    assert_eq!(states, [ResourceState::Succeeded, ResourceState::Succeeded]);
    assert_eq!(
        s.progress,
        RunProgress {
            done: 2,
            total: 2,
            elapsed_secs: 403.0,
            eta_secs: 0.0
        }
    );

    // The failed run is unchanged; the instance's runs list newest first.
    assert_eq!(
        journal.snapshot("r1").unwrap().unwrap().outcome,
        Some(Outcome::Failed)
    );
    let runs: Vec<_> = journal
        .runs(Some("acme"))
        .unwrap()
        .into_iter()
        .map(|r| (r.run_id, r.state))
        .collect();
    assert_eq!(
        runs,
        [
            ("r2".to_owned(), RunState::Succeeded),
            ("r1".to_owned(), RunState::Failed)
        ]
    );
    assert_eq!(journal.latest_run("acme").unwrap().unwrap().run_id, "r2");
    assert!(journal.runs(Some("other")).unwrap().is_empty());
    assert_eq!(journal.runs(None).unwrap().len(), 2);
    assert_eq!(journal.snapshot("r3").unwrap(), None);
    // Storage took 20 s then 2 s: the median of two is their mean.
    assert_eq!(journal.expected_duration(STORAGE).unwrap(), Some(11.0));
    assert_eq!(journal.expected_duration(MYSQL).unwrap(), Some(400.0));
}

#[test]
fn re_applied_events_are_ignored() {
    let (journal, snapshot) = failed_install();
    let events = journal.events("r1", 0).unwrap();
    let mut s = RunSnapshot::default();
    for e in &events {
        assert!(s.apply(e));
    }
    assert_eq!(s, snapshot);
    for e in events.iter().rev() {
        assert!(!s.apply(e), "seq {} applied twice", e.seq);
    }
    assert_eq!(s, snapshot);
    // Re-delivery of an older page in the middle of live events changes nothing either.
    let mut s = RunSnapshot::default();
    for (i, e) in events.iter().enumerate() {
        s.apply(e);
        for old in &events[..i / 2] {
            s.apply(old);
        }
    }
    assert_eq!(s, snapshot);
    let mut doubled: Vec<EventEnvelope> = events.iter().chain(events.iter()).cloned().collect();
    doubled.reverse();
    assert_eq!(RunSnapshot::from_events(&doubled), snapshot);
}

#[test]
fn a_detached_run_that_is_resumed_runs_again() {
    let journal = Journal::open_in_memory().unwrap();
    journal
        .create_run(&run_record("r1", RunKind::Install, at(0)))
        .unwrap();
    let detached = DeploymentEvent::RunFinished {
        outcome: Outcome::Detached,
        outputs: Json::Null,
        error: None,
        elapsed_secs: 5.0,
        at: at(5),
    };
    journal.append("r1", &stage_started("network", 1)).unwrap();
    journal.append("r1", &detached).unwrap();
    assert_eq!(
        journal.run("r1").unwrap().unwrap().state,
        RunState::Detached
    );
    journal
        .append(
            "r1",
            &DeploymentEvent::StageStarted {
                stage: "network".into(),
                deployment_name: "acme-network".into(),
                correlation_id: None,
                reattached: true,
                at: at(60),
            },
        )
        .unwrap();
    let run = journal.run("r1").unwrap().unwrap();
    assert_eq!(run.state, RunState::Running);
    assert_eq!(run.finished_at, None);
    let stage = &journal.stages("r1").unwrap()[0];
    assert_eq!(
        stage.started_at,
        Some(at(1)),
        "reattaching keeps the first start"
    );
    assert_eq!(stage.correlation_id.as_deref(), Some("corr-network"));
    let s = journal.snapshot("r1").unwrap().unwrap();
    assert_eq!(s.outcome, None);
    assert_eq!(s.stages[0].started_at, Some(at(1)));
    assert!(s.stages[0].reattached);
}

// ---------------------------------------------------------------------------------------------
// History and watchers

#[test]
fn expected_duration_is_the_median_of_past_runs() {
    let journal = Journal::open_in_memory().unwrap();
    let succeed = |run: &str, elapsed: f64| {
        journal
            .create_run(&run_record(run, RunKind::Install, at(0)))
            .unwrap();
        let id = storage_id();
        // Azure's casing of the type varies between the plan and operations.
        let kind = if elapsed > 15.0 {
            STORAGE.to_uppercase()
        } else {
            STORAGE.into()
        };
        journal
            .append(run, &resource_started("data", &id, &kind, "acmedata", 0))
            .unwrap();
        journal
            .append(
                run,
                &resource_succeeded("data", &id.to_lowercase(), elapsed, 1),
            )
            .unwrap();
    };
    assert_eq!(journal.expected_duration(STORAGE).unwrap(), None);
    succeed("a", 10.0);
    succeed("b", 30.0);
    succeed("c", 20.0);
    assert_eq!(journal.expected_duration(STORAGE).unwrap(), Some(20.0));
    assert_eq!(
        journal.expected_duration(&STORAGE.to_lowercase()).unwrap(),
        Some(20.0)
    );
    succeed("d", 40.0);
    assert_eq!(journal.expected_duration(STORAGE).unwrap(), Some(25.0));
    // Failed resources and resources never seen starting are not history.
    journal
        .create_run(&run_record("e", RunKind::Install, at(0)))
        .unwrap();
    journal
        .append(
            "e",
            &resource_started("data", &mysql_id(), MYSQL, "acme-mysql", 0),
        )
        .unwrap();
    journal
        .append(
            "e",
            &DeploymentEvent::ResourceFailed {
                stage: "data".into(),
                resource_id: mysql_id(),
                resource_type: MYSQL.into(),
                error: quota_error(),
                at: at(9),
            },
        )
        .unwrap();
    journal
        .append("e", &resource_succeeded("data", &workspace_id(), 3.0, 9))
        .unwrap();
    assert_eq!(journal.expected_duration(MYSQL).unwrap(), None);
    assert_eq!(journal.expected_duration(WORKSPACE).unwrap(), None);
    assert_eq!(journal.expected_duration(STORAGE).unwrap(), Some(25.0));
}

#[test]
fn a_second_handle_sees_a_stale_watcher_and_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let cli = Journal::open(&path).unwrap();
    let desktop = Journal::open(&path).unwrap();
    cli.create_run(&run_record("r1", RunKind::Install, at(0)))
        .unwrap();

    assert_eq!(
        cli.claim("r1", 100, "laptop", at(0)).unwrap(),
        Claim::Claimed
    );
    let held = desktop.claim("r1", 200, "laptop", at(10)).unwrap();
    let Claim::HeldBy(watcher) = held else {
        panic!("expected the CLI to hold the run, got {held:?}");
    };
    assert_eq!((watcher.pid, watcher.host.as_str()), (100, "laptop"));
    assert!(watcher.is_live(at(10)));

    assert!(cli.heartbeat("r1", 100, "laptop", at(20)).unwrap());
    assert!(matches!(
        desktop.claim("r1", 200, "laptop", at(45)).unwrap(),
        Claim::HeldBy(_)
    ));
    // The CLI died after its heartbeat at 20 s: 31 s later the desktop sees it gone.
    let seen = desktop.run("r1").unwrap().unwrap().watcher.unwrap();
    assert_eq!(seen.heartbeat_at, at(20));
    assert!(!seen.is_live(at(51)));
    assert_eq!(
        desktop.claim("r1", 200, "laptop", at(51)).unwrap(),
        Claim::Claimed
    );
    // A CLI that comes back finds it lost the run and must stop watching.
    assert!(!cli.heartbeat("r1", 100, "laptop", at(52)).unwrap());
    assert!(!cli.release("r1", 100, "laptop").unwrap());
    assert!(desktop.heartbeat("r1", 200, "laptop", at(53)).unwrap());
    // Claiming again from the holder renews.
    assert_eq!(
        desktop.claim("r1", 200, "laptop", at(54)).unwrap(),
        Claim::Claimed
    );
    assert!(desktop.release("r1", 200, "laptop").unwrap());
    assert_eq!(cli.run("r1").unwrap().unwrap().watcher, None);
    assert_eq!(
        cli.claim("r1", 100, "laptop", at(55)).unwrap(),
        Claim::Claimed
    );

    assert!(matches!(
        cli.claim("nope", 1, "laptop", at(0)).unwrap_err(),
        JournalError::UnknownRun { .. }
    ));
    assert!(matches!(
        cli.heartbeat("nope", 1, "laptop", at(0)).unwrap_err(),
        JournalError::UnknownRun { .. }
    ));
}

#[test]
fn instances_are_keyed_by_name_subscription_and_group() {
    let journal = Journal::open_in_memory().unwrap();
    let mut acme = InstanceRecord {
        name: "acme".into(),
        subscription_id: SUB.into(),
        resource_group: RG.into(),
        location: "westeurope".into(),
        manifest_name: "data-platform".into(),
        manifest_version: "1.4.0".into(),
        state: InstanceState::Deploying,
        inputs: json!({"name": "acme"}),
        outputs: Json::Null,
        last_run_id: Some("r1".into()),
        created_at: at(0),
        updated_at: at(0),
    };
    journal.upsert_instance(&acme).unwrap();
    let mut other = acme.clone();
    other.name = "globex".into();
    other.updated_at = at(5);
    journal.upsert_instance(&other).unwrap();
    acme.state = InstanceState::Deployed;
    acme.outputs = json!({"instanceUrl": "https://acme.example.com"});
    acme.last_run_id = None;
    acme.created_at = at(9);
    acme.updated_at = at(10);
    journal.upsert_instance(&acme).unwrap();

    let stored = journal.instance("acme").unwrap().unwrap();
    assert_eq!(stored.state, InstanceState::Deployed);
    assert_eq!(
        stored.created_at,
        at(0),
        "created_at stays as first recorded"
    );
    assert_eq!(stored.last_run_id.as_deref(), Some("r1"));
    assert_eq!(stored.outputs, acme.outputs);
    let names: Vec<_> = journal
        .instances()
        .unwrap()
        .into_iter()
        .map(|i| i.name)
        .collect();
    assert_eq!(names, ["acme", "globex"]);
    assert_eq!(journal.instance("initech").unwrap(), None);
}

// ---------------------------------------------------------------------------------------------
// Kill during write

const KILL_ENV: &str = "LANDFALL_JOURNAL_KILL_TEST";
const KILL_RUN: &str = "killed";

/// Run as a child process by `a_writer_killed_mid_write_leaves_a_sound_journal`: appends to
/// the journal named by `LANDFALL_JOURNAL_KILL_TEST` until it is killed, printing each
/// committed sequence number.
#[test]
#[ignore = "a child process of a_writer_killed_mid_write_leaves_a_sound_journal"]
fn kill_test_writer() {
    let Ok(path) = std::env::var(KILL_ENV) else {
        return;
    };
    let journal = Journal::open(path).unwrap();
    match journal.create_run(&run_record(KILL_RUN, RunKind::Install, at(0))) {
        Ok(()) | Err(JournalError::RunExists { .. }) => {}
        Err(e) => panic!("{e}"),
    }
    // Big enough events that the WAL passes its checkpoint size now and then, so some kills
    // land during a checkpoint.
    let padding = "p".repeat(12_000);
    let stdout = std::io::stdout();
    for i in 0u64.. {
        let id = rid(&format!("{STORAGE}/st{i}"));
        let event = match i % 3 {
            0 => resource_started("data", &id, STORAGE, "st", 0),
            1 => resource_succeeded("data", &id, 5.0, 5),
            _ => notice(&padding, 5),
        };
        let seq = journal.append(KILL_RUN, &event).unwrap().seq;
        let mut out = stdout.lock();
        writeln!(out, "committed {seq}").unwrap();
        out.flush().unwrap();
        drop(out);
        // A breath between commits, as a real tracker has, lets the other writer in: SQLite's
        // busy handler polls, so a writer looping flat out can starve it.
        thread::sleep(Duration::from_micros(300));
    }
}

#[test]
fn a_writer_killed_mid_write_leaves_a_sound_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let exe = std::env::current_exe().unwrap();
    let started = Instant::now();
    let mut parent_seqs = Vec::new();
    let mut killed_after = Vec::new();
    let mut wal_sizes = Vec::new();
    for round in 0..8u64 {
        let mut child = Command::new(&exe)
            .args(["kill_test_writer", "--exact", "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(KILL_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let committed = Arc::new(Mutex::new(0u64));
        let reader = {
            let committed = Arc::clone(&committed);
            let stdout = child.stdout.take().unwrap();
            thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(seq) = line.strip_prefix("committed ") {
                        *committed.lock().unwrap() = seq.parse().unwrap();
                    }
                }
            })
        };
        // Wait for the child's first commit of this round, then let it run a while.
        let before = *committed.lock().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while *committed.lock().unwrap() == before {
            if Instant::now() > deadline || child.try_wait().unwrap().is_some() {
                child.kill().ok();
                let output = child.wait_with_output().unwrap();
                panic!(
                    "the writer never committed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
        // Meanwhile this process writes to the same run through its own handle.
        let journal = Journal::open(&path).unwrap();
        let until = Instant::now() + Duration::from_millis(120 + 40 * round);
        while Instant::now() < until {
            parent_seqs.push(journal.append(KILL_RUN, &notice("parent", 1)).unwrap().seq);
            thread::sleep(Duration::from_millis(7));
        }
        drop(journal);
        let wal = std::fs::metadata(dir.path().join("journal.db-wal")).map_or(0, |m| m.len());
        wal_sizes.push(wal);
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        reader.join().unwrap();
        let reported = *committed.lock().unwrap();
        killed_after.push(reported);

        let journal = Journal::open(&path).unwrap();
        assert_eq!(journal.integrity_problems().unwrap(), Vec::<String>::new());
        let events = journal.events(KILL_RUN, 0).unwrap();
        let n = events.len() as u64;
        assert_eq!(seqs(&events), (1..=n).collect::<Vec<_>>(), "round {round}");
        assert!(
            n >= reported,
            "round {round}: the writer reported seq {reported} committed, the journal has {n}"
        );
        let stored: BTreeSet<u64> = seqs(&events).into_iter().collect();
        assert!(parent_seqs.iter().all(|s| stored.contains(s)));
    }
    let elapsed = started.elapsed();
    eprintln!(
        "kill test: {} kills, writer had committed {:?}, WAL bytes at each kill {:?}, parent \
         wrote {} events, {elapsed:?}",
        killed_after.len(),
        killed_after,
        wal_sizes,
        parent_seqs.len()
    );
    assert!(killed_after.windows(2).all(|w| w[0] < w[1]));
}

// ---------------------------------------------------------------------------------------------
// Property: numbering and folding

fn arb_error() -> impl Strategy<Value = ErrorReport> {
    prop::sample::select(vec![
        ErrorCode::QuotaExceeded,
        ErrorCode::Conflict,
        ErrorCode::PolicyDenied,
    ])
    .prop_map(|code| report(code, "failed"))
}

fn arb_event() -> impl Strategy<Value = DeploymentEvent> {
    let stage = || prop::sample::select(vec!["network", "data", "compute"]).prop_map(String::from);
    let ids = vec![
        vnet_id(),
        vnet_id().to_uppercase(),
        storage_id(),
        mysql_id(),
        subnet_id(),
    ];
    let id = move || prop::sample::select(ids.clone());
    // Quarter seconds: exact in binary and in JSON, so events compare equal after the journal.
    let secs = || (0u32..4000).prop_map(|q| f64::from(q) / 4.0);
    let when = || (0i64..600).prop_map(at);
    let outputs = || prop::sample::select(vec![Json::Null, json!({"a": 1}), json!({"b": "x"})]);
    prop_oneof![
        (when(), any::<bool>()).prop_map(|(t, two)| DeploymentEvent::RunStarted {
            run_id: "p".into(),
            instance: "acme".into(),
            kind: RunKind::Install,
            subscription_id: SUB.into(),
            resource_group: RG.into(),
            location: "westeurope".into(),
            stages: if two {
                vec![
                    stage_summary("network", &[], vec![planned(VNET, "acme-vnet", 10.0)]),
                    stage_summary(
                        "data",
                        &["network"],
                        vec![planned(STORAGE, "acmedata", 20.0)],
                    ),
                ]
            } else {
                vec![stage_summary(
                    "data",
                    &[],
                    vec![planned(MYSQL, "acme-mysql", 480.0)],
                )]
            },
            expected_secs: 500.0,
            at: t,
        }),
        when().prop_map(|t| DeploymentEvent::ResourceGroupReady {
            resource_group_id: "/subscriptions/s/resourceGroups/rg".into(),
            at: t,
        }),
        (stage(), any::<bool>(), any::<bool>(), when()).prop_map(|(s, corr, re, t)| {
            DeploymentEvent::StageStarted {
                deployment_name: format!("acme-{s}"),
                correlation_id: corr.then(|| format!("corr-{s}")),
                stage: s,
                reattached: re,
                at: t,
            }
        }),
        (stage(), id(), secs(), when()).prop_map(|(s, id, e, t)| {
            DeploymentEvent::ResourceStarted {
                stage: s,
                resource_id: id,
                resource_type: STORAGE.into(),
                resource_name: "r".into(),
                expected_secs: e,
                at: t,
            }
        }),
        (stage(), id(), when()).prop_map(|(s, id, t)| DeploymentEvent::ResourceProgress {
            stage: s,
            resource_id: id,
            provisioning_state: "Creating".into(),
            at: t,
        }),
        (stage(), id(), secs(), when()).prop_map(|(s, id, e, t)| {
            DeploymentEvent::ResourceSucceeded {
                stage: s,
                resource_id: id,
                elapsed_secs: e,
                at: t,
            }
        }),
        (stage(), id(), arb_error(), when()).prop_map(|(s, id, error, t)| {
            DeploymentEvent::ResourceFailed {
                stage: s,
                resource_id: id,
                resource_type: MYSQL.into(),
                error,
                at: t,
            }
        }),
        (stage(), outputs(), secs(), when()).prop_map(|(s, o, e, t)| {
            DeploymentEvent::StageSucceeded {
                stage: s,
                outputs: o,
                elapsed_secs: e,
                at: t,
            }
        }),
        (stage(), arb_error(), when()).prop_map(|(s, error, t)| DeploymentEvent::StageFailed {
            stage: s,
            error,
            at: t,
        }),
        (stage(), when()).prop_map(|(s, t)| DeploymentEvent::StageCanceled { stage: s, at: t }),
        (0u32..20, 0u32..20, secs(), secs()).prop_map(|(done, total, e, eta)| {
            DeploymentEvent::Progress {
                done,
                total,
                elapsed_secs: e,
                eta_secs: eta,
            }
        }),
        when().prop_map(|t| DeploymentEvent::Notice {
            message: "note".into(),
            at: t,
        }),
        (
            prop::sample::select(vec![
                Outcome::Succeeded,
                Outcome::Failed,
                Outcome::Canceled,
                Outcome::Detached
            ]),
            outputs(),
            proptest::option::of(arb_error()),
            secs(),
            when()
        )
            .prop_map(|(outcome, o, error, e, t)| DeploymentEvent::RunFinished {
                outcome,
                outputs: o,
                error,
                elapsed_secs: e,
                at: t,
            }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_event_sequence_numbers_one_to_n_and_folds_the_same_way(
        events in prop::collection::vec(arb_event(), 0..40),
        shuffle_seed in any::<u64>(),
    ) {
        let journal = Journal::open_in_memory().unwrap();
        journal.create_run(&run_record("p", RunKind::Install, at(0))).unwrap();
        let appended = append_all(&journal, "p", &events);
        let n = events.len() as u64;
        prop_assert_eq!(seqs(&appended), (1..=n).collect::<Vec<_>>());
        let stored = journal.events("p", 0).unwrap();
        prop_assert_eq!(&stored, &appended);

        let folded = RunSnapshot::from_events(&stored);
        let mut one_by_one = RunSnapshot::default();
        for e in &stored {
            prop_assert!(one_by_one.apply(e));
        }
        prop_assert_eq!(&folded, &one_by_one);
        prop_assert_eq!(folded.last_seq, n);

        // Any delivery order with repeats gives the same snapshot from `from_events`.
        let mut scrambled: Vec<EventEnvelope> = stored.iter().chain(&stored).cloned().collect();
        let mut state = shuffle_seed | 1;
        for i in (1..scrambled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            scrambled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert_eq!(&RunSnapshot::from_events(&scrambled), &folded);

        // The journal's run and stage rows say what the snapshot says.
        let run = journal.run("p").unwrap().unwrap();
        let expected_state = folded.outcome.map_or(RunState::Running, RunState::from);
        prop_assert_eq!(run.state, expected_state);
        for record in journal.stages("p").unwrap() {
            let stage = folded.stage(&record.stage);
            prop_assert!(stage.is_some(), "stage {} missing from the snapshot", record.stage);
            let stage = stage.unwrap();
            prop_assert_eq!(record.state, stage.state, "stage {}", record.stage);
            prop_assert_eq!(&record.error, &stage.error, "stage {}", record.stage);
            prop_assert_eq!(record.started_at, stage.started_at, "stage {}", record.stage);
            prop_assert_eq!(record.finished_at, stage.finished_at, "stage {}", record.stage);
        }

        let json = serde_json::to_value(&folded).unwrap();
        let back: RunSnapshot = serde_json::from_value(json).unwrap();
        prop_assert_eq!(back.stages, folded.stages);
    }
}

#[test]
fn snapshot_serialises_in_camel_case() {
    let (_, s) = failed_install();
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["runId"], "r1");
    assert_eq!(json["lastSeq"], 23);
    assert_eq!(json["outcome"], "failed");
    assert_eq!(json["progress"]["etaSecs"], 0.0);
    assert_eq!(json["stages"][2]["state"], "failed");
    assert_eq!(json["stages"][2]["resources"][1]["state"], "failed");
    assert_eq!(
        json["stages"][0]["resources"][0]["startedAt"],
        "2025-06-15T15:06:43Z"
    );
    assert_eq!(
        json["stages"][2]["resources"][1]["error"]["code"],
        "QuotaExceeded"
    );
}
