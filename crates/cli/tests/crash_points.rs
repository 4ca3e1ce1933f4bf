//! Crash points (RELIABILITY.md): `landfall demo` killed with SIGKILL at many points of a deploy
//! (just after the run is recorded and before any PUT, right after a stage's PUT, while
//! polling, in the middle of a burst of journal writes, as the last stage ends), then
//! `landfall demo --resume RUN` in a new process. Each time the run must end Succeeded with
//! nothing lost (the journal keeps every event the killed process published, and goes on from
//! its last `seq`) and nothing duplicated (no stage submitted twice, no resource reported done
//! twice). The demo's simulated Azure lives in the killed process too and restarts from its
//! state file on resume: a machine reboot, as far as Landfall can tell (new address, new
//! certificate, no process left).
//!
//! CI runs the points marked `quick`; `LANDFALL_CRASH_POINTS=all` runs every one.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use landfall_engine::DeploymentEvent;
use landfall_engine::journal::Journal;
use serde_json::Value as Json;

fn landfall(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landfall"));
    c.env("LANDFALL_DATA_DIR", data);
    c
}

/// Where to kill: when an event matches, after `delay_ms` more.
struct Point {
    name: &'static str,
    quick: bool,
    delay_ms: u64,
    when: fn(&Json) -> bool,
}

fn is(e: &Json, event: &str) -> bool {
    e["event"] == event
}

fn stage_is(e: &Json, event: &str, stage: &str) -> bool {
    is(e, event) && e["data"]["stage"] == stage
}

const POINTS: &[Point] = &[
    Point {
        name: "run recorded, before any PUT",
        quick: true,
        delay_ms: 0,
        when: |e| is(e, "runStarted"),
    },
    Point {
        name: "right after the first stage's PUT",
        quick: false,
        delay_ms: 0,
        when: |e| is(e, "stageStarted"),
    },
    Point {
        name: "while the first stages are polled",
        quick: true,
        delay_ms: 150,
        when: |e| is(e, "resourceStarted"),
    },
    Point {
        name: "in a burst of journal writes (a resource just done)",
        quick: false,
        delay_ms: 0,
        when: |e| is(e, "resourceSucceeded"),
    },
    Point {
        name: "right after the data stage's PUT",
        quick: true,
        delay_ms: 0,
        when: |e| stage_is(e, "stageStarted", "data"),
    },
    Point {
        name: "while the cluster provisions",
        quick: false,
        delay_ms: 400,
        when: |e| stage_is(e, "stageStarted", "compute"),
    },
    Point {
        name: "as the last stage is submitted",
        quick: true,
        delay_ms: 0,
        when: |e| stage_is(e, "stageStarted", "outputs"),
    },
    Point {
        name: "the last stage done, the run not yet finished",
        quick: false,
        delay_ms: 0,
        when: |e| stage_is(e, "stageSucceeded", "outputs"),
    },
];

fn journal_events(data: &std::path::Path, run: &str) -> Vec<landfall_engine::EventEnvelope> {
    Journal::open(data.join("demo").join("journal.sqlite"))
        .unwrap()
        .events(run, 0)
        .unwrap()
}

fn crash_and_resume(point: &Point) {
    let dir = tempfile::tempdir().unwrap();
    let mut child = landfall(dir.path())
        .args(["demo", "--speed", "40", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen: Vec<Json> = Vec::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines() {
        let e: Json = serde_json::from_str(&line.unwrap()).unwrap();
        let hit = (point.when)(&e);
        seen.push(e);
        if hit {
            break;
        }
    }
    std::thread::sleep(Duration::from_millis(point.delay_ms));
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!seen.is_empty(), "{}: no event before the kill", point.name);
    let run = seen[0]["data"]["runId"].as_str().unwrap().to_owned();

    // Nothing lost: every event the killed process printed is in the journal, as printed.
    let kept = journal_events(dir.path(), &run);
    for printed in &seen {
        let seq = printed["seq"].as_u64().unwrap();
        let stored = kept
            .iter()
            .find(|e| e.seq == seq)
            .unwrap_or_else(|| panic!("{}: event {seq} was printed but not kept", point.name));
        assert_eq!(
            &serde_json::to_value(stored).unwrap(),
            printed,
            "{}",
            point.name
        );
    }

    let out = landfall(dir.path())
        .args(["demo", "--resume", &run, "--speed", "40", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: resume failed: {}",
        point.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let all = journal_events(dir.path(), &run);
    // The journal goes on from the killed process's last event, strictly increasing.
    assert!(
        all.windows(2).all(|w| w[1].seq > w[0].seq),
        "{}",
        point.name
    );
    assert!(all.len() >= kept.len());
    match &all.last().unwrap().event {
        DeploymentEvent::RunFinished { outcome, .. } => assert_eq!(
            *outcome,
            landfall_engine::Outcome::Succeeded,
            "{}",
            point.name
        ),
        other => panic!("{}: the run ends with {other:?}", point.name),
    }
    // Nothing duplicated: each stage submitted (not re-attached) at most once, every stage
    // started, and no resource reported done twice.
    let mut submitted: BTreeMap<String, usize> = BTreeMap::new();
    let mut started = BTreeSet::new();
    let mut done: BTreeMap<String, usize> = BTreeMap::new();
    for e in &all {
        match &e.event {
            DeploymentEvent::StageStarted {
                stage, reattached, ..
            } => {
                started.insert(stage.clone());
                if !reattached {
                    *submitted.entry(stage.clone()).or_default() += 1;
                }
            }
            DeploymentEvent::ResourceSucceeded { resource_id, .. } => {
                *done.entry(resource_id.to_ascii_lowercase()).or_default() += 1;
            }
            _ => {}
        }
    }
    assert_eq!(started.len(), 6, "{}: {started:?}", point.name);
    assert!(
        submitted.values().all(|n| *n <= 1),
        "{}: {submitted:?}",
        point.name
    );
    assert!(done.values().all(|n| *n == 1), "{}: {done:?}", point.name);
    eprintln!(
        "crash point '{}': killed after event {}, {} events kept, resumed to {} events",
        point.name,
        seen.last().unwrap()["seq"],
        kept.len(),
        all.len()
    );
}

#[test]
fn killed_at_each_point_a_resume_completes_with_nothing_lost_or_duplicated() {
    let all = std::env::var("LANDFALL_CRASH_POINTS").is_ok_and(|v| v == "all");
    let mut tried = 0;
    for point in POINTS.iter().filter(|p| all || p.quick) {
        crash_and_resume(point);
        tried += 1;
    }
    assert!(tried >= 4);
}
