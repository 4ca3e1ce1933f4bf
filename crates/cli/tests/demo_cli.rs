//! `landfall demo` end to end: the NDJSON event stream, and a demo killed with SIGKILL in the
//! middle of a deploy that `landfall demo --resume RUN` carries to the end without submitting
//! any stage a second time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::Value as Json;

fn landfall(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landfall"));
    c.env("LANDFALL_DATA_DIR", data);
    c
}

fn events(text: &str) -> Vec<Json> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not NDJSON: {l}: {e}")))
        .collect()
}

fn stage_starts(events: &[Json]) -> Vec<(String, bool)> {
    events
        .iter()
        .filter(|e| e["event"] == "stageStarted")
        .map(|e| {
            (
                e["data"]["stage"].as_str().unwrap().to_owned(),
                e["data"]["reattached"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn demo_json_is_one_event_per_line_from_run_started_to_run_finished() {
    let dir = tempfile::tempdir().unwrap();
    let out = landfall(dir.path())
        .args(["demo", "--speed", "200", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events = events(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(events[0]["event"], "runStarted");
    assert!(events[0]["data"]["runId"].as_str().is_some());
    let last = events.last().unwrap();
    assert_eq!(last["event"], "runFinished");
    assert_eq!(last["data"]["outcome"], "succeeded");
    for (i, e) in events.iter().enumerate() {
        assert_eq!(e["seq"].as_u64().unwrap(), i as u64 + 1);
    }
    assert!(events.iter().any(|e| e["event"] == "resourceStarted"));
    assert!(events.iter().any(|e| e["event"] == "resourceSucceeded"));
}

#[test]
fn a_demo_killed_mid_deploy_resumes_without_a_second_put() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = landfall(dir.path())
        .args(["demo", "--speed", "15", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    let reader = BufReader::new(child.stdout.take().unwrap());
    for line in reader.lines() {
        let e: Json = serde_json::from_str(&line.unwrap()).unwrap();
        let stop = e["event"] == "stageStarted" && e["data"]["stage"] == "data";
        seen.push(e);
        if stop {
            break;
        }
    }
    // SIGKILL: no chance to clean up.
    child.kill().unwrap();
    child.wait().unwrap();
    let run = seen[0]["data"]["runId"].as_str().unwrap().to_owned();
    let before: Vec<String> = stage_starts(&seen).into_iter().map(|(s, _)| s).collect();
    assert!(before.contains(&"network".to_owned()) && before.contains(&"data".to_owned()));

    let out = landfall(dir.path())
        .args(["demo", "--resume", &run, "--speed", "15", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let after = events(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(after.last().unwrap()["data"]["outcome"], "succeeded");
    // Sequence numbers go on from where the killed process stopped.
    assert!(after[0]["seq"].as_u64().unwrap() > seen.last().unwrap()["seq"].as_u64().unwrap());
    for (stage, reattached) in stage_starts(&after) {
        if before.contains(&stage) {
            assert!(
                reattached,
                "stage {stage} was submitted again after the kill"
            );
        }
    }
    // Stages that had not started before the kill were submitted once, after it.
    let fresh: Vec<String> = stage_starts(&after)
        .into_iter()
        .filter(|(_, r)| !r)
        .map(|(s, _)| s)
        .collect();
    assert!(fresh.contains(&"outputs".to_owned()), "{fresh:?}");
}

#[test]
fn a_failed_demo_names_the_failure_and_resume_retries_it_from_the_failed_stage() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("scenario.json");
    std::fs::write(
        &scenario,
        r#"{"failingResources": [{"resourceType": "Microsoft.ContainerRegistry/registries",
            "afterSeconds": 5, "code": "SkuNotAvailable",
            "message": "The requested SKU is not available in this region.", "times": 1}]}"#,
    )
    .unwrap();
    let out = landfall(dir.path())
        .args(["demo", "--speed", "200", "--json", "--scenario"])
        .arg(&scenario)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("SKU is not available"), "{stderr}");
    let first = events(&String::from_utf8(out.stdout).unwrap());
    let failed = first
        .iter()
        .find(|e| e["event"] == "resourceFailed")
        .expect("resourceFailed");
    assert_eq!(
        failed["data"]["error"]["details"]["code"],
        "SkuNotAvailable"
    );
    assert!(
        failed["data"]["error"]["remediation"]["message"]
            .as_str()
            .unwrap()
            .contains("another VM size or region")
    );
    assert_eq!(first.last().unwrap()["data"]["outcome"], "failed");
    let run = first[0]["data"]["runId"].as_str().unwrap().to_owned();
    let succeeded_before: Vec<String> = first
        .iter()
        .filter(|e| e["event"] == "stageSucceeded")
        .map(|e| e["data"]["stage"].as_str().unwrap().to_owned())
        .collect();

    let out = landfall(dir.path())
        .args(["demo", "--resume", &run, "--speed", "200", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let retry = events(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(retry[0]["data"]["kind"], "retry");
    assert_ne!(retry[0]["data"]["runId"], run.as_str());
    assert_eq!(retry.last().unwrap()["data"]["outcome"], "succeeded");
    // Stages that had succeeded are carried over, not deployed again.
    for (stage, _) in stage_starts(&retry) {
        assert!(!succeeded_before.contains(&stage), "{stage} deployed again");
    }
}
