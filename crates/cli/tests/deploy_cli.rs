//! The signed-in journey as an admin runs it, one `landfall` process per command, against a
//! landfall-sim started in this test process: login (service principal), plan, deploy killed
//! with SIGKILL mid-run, resume, status, update with what-if, destroy with purge, instances.
//!
//! The instance's generated MySQL password and the service principal's secret live in the OS
//! keyring between processes, so this runs under `scripts/keyring-test` (a throwaway Secret
//! Service); the same test then searches every output and the journal for those secrets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use landfall_azure::auth::{KeyringStore, SecretStore};
use landfall_sim::{Scenario, Sim, SimHandle, SimOptions};
use serde_json::Value as Json;

struct World {
    sim: SimHandle,
    _rt: tokio::runtime::Runtime,
    dir: PathBuf,
    ca_file: PathBuf,
    service: String,
}

impl World {
    fn new() -> World {
        let dir = std::env::temp_dir().join(format!("landfall-deploy-cli-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let ca_file = dir.join("sim-ca.pem");
        let sim = rt
            .block_on(Sim::start(SimOptions {
                ca_out: Some(ca_file.clone()),
                speed: 15.0,
                scenario: Scenario::default(),
                ..SimOptions::default()
            }))
            .unwrap();
        World {
            sim,
            _rt: rt,
            dir,
            ca_file,
            service: format!("landfall-deploy-test-{}", std::process::id()),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_landfall"));
        c.args(args)
            .env("LANDFALL_DATA_DIR", self.dir.join("data"))
            .env("LANDFALL_KEYRING_SERVICE", &self.service)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    /// Runs a command to its end; (exit code, stdout, stderr).
    fn run(&self, args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
        let mut c = self.command(args);
        if stdin.is_some() {
            c.stdin(Stdio::piped());
        }
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> (String, String) {
        let (code, out, err) = self.run(args, stdin);
        assert_eq!(code, 0, "landfall {args:?} failed:\n{out}\n{err}");
        (out, err)
    }

    fn deployment_puts(&self) -> std::collections::BTreeMap<String, usize> {
        let mut out = std::collections::BTreeMap::new();
        for r in self.sim.sim.requests.lock().unwrap().iter() {
            let lower = r.path.to_ascii_lowercase();
            if r.method == "PUT" && lower.contains("/providers/microsoft.resources/deployments/") {
                let name = r.path.rsplit('/').next().unwrap().to_owned();
                *out.entry(name).or_insert(0) += 1;
            }
        }
        out
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn events(text: &str) -> Vec<Json> {
    text.lines()
        .filter(|l| l.starts_with('{') && l.contains("\"seq\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
#[ignore = "needs a Secret Service; run by scripts/keyring-test"]
fn the_signed_in_journey_survives_a_kill_and_ends_with_a_clean_teardown() {
    let w = World::new();
    let id = w.sim.sim.options.identity.clone();
    let sub = id.subscription_id.clone();
    let mut outputs: Vec<String> = Vec::new();
    let (out, err) = w.ok(
        &[
            "login",
            "--cloud-metadata",
            &format!("{}/metadata/endpoints", w.sim.base_url),
            "--ca-file",
            &w.ca_file.display().to_string(),
            "--service-principal",
            "--client-id",
            &id.client_id,
            "--tenant",
            &id.tenant_id,
            "--secret-stdin",
        ],
        Some(&format!("{}\n", id.client_secret)),
    );
    outputs.extend([out, err]);
    let target = [
        "--subscription",
        &sub,
        "--location",
        "eastus",
        "--name",
        "lfcli",
    ];

    // Plan: nothing written. The fresh subscription lacks two providers: plan says so.
    let mut plan_args = vec!["plan", "--preset", "demo", "--json"];
    plan_args.extend(target);
    let (code, out, err) = w.run(&plan_args, None);
    assert_eq!(code, 1, "{out}\n{err}");
    let plan: Json = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(plan["plan"]["stages"].as_array().unwrap().len(), 6);
    assert!(plan["cost"]["total"].as_f64().unwrap() > 0.0);
    assert!(w.deployment_puts().is_empty());
    outputs.extend([out, err]);

    // Deploy, killed once the data stage runs.
    let mut deploy_args = vec!["deploy", "--preset", "demo", "--yes", "--json"];
    deploy_args.extend(target);
    let mut child = w.command(&deploy_args).spawn().unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        outputs.push(line.clone());
        let Ok(e) = serde_json::from_str::<Json>(&line) else {
            continue;
        };
        if e.get("seq").is_none() {
            continue;
        }
        let stop = e["event"] == "stageStarted" && e["data"]["stage"] == "data";
        seen.push(e);
        if stop {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let run = seen[0]["data"]["runId"].as_str().unwrap().to_owned();

    let (out, err) = w.ok(&["resume", &run, "--json"], None);
    let after = events(&out);
    assert_eq!(
        after.last().unwrap()["data"]["outcome"],
        "succeeded",
        "{out}\n{err}"
    );
    assert!(
        w.deployment_puts().values().all(|n| *n == 1),
        "{:?}",
        w.deployment_puts()
    );
    outputs.extend([out, err]);

    let (out, _) = w.ok(&["status", &run, "--json"], None);
    let snapshot: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(snapshot["outcome"], "succeeded", "{snapshot}");

    // Update: what-if, then applied.
    let (out, err) = w.ok(
        &[
            "update",
            "lfcli",
            "--set",
            "userNodeMax=3",
            "--yes",
            "--json",
        ],
        None,
    );
    let what_if: Json = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(what_if["whatIf"].as_array().unwrap().len(), 6, "{what_if}");
    assert_eq!(events(&out).last().unwrap()["data"]["outcome"], "succeeded");
    outputs.extend([out, err]);

    // The generated MySQL password, kept in the keyring for resumes and updates.
    let store = KeyringStore::new();
    let password = store
        .get(
            &w.service,
            &format!("instance/{sub}/lfcli/mysqlAdminPassword"),
        )
        .unwrap()
        .expect("the generated password is kept in the keyring");
    let password = password.secret().to_owned();
    assert!(password.len() >= 16);

    // Teardown with purge; then the instance list says deleted.
    let (out, err) = w.ok(&["destroy", "lfcli", "--purge", "--yes", "--json"], None);
    assert_eq!(
        events(&out).last().unwrap()["data"]["outcome"],
        "succeeded",
        "{out}\n{err}"
    );
    outputs.extend([out, err]);
    let (out, _) = w.ok(&["instances", "--json"], None);
    let list: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(list[0]["state"], "deleted", "{list}");

    // No secret anywhere: outputs, the journal, the profile.
    let mut secrets = vec![id.client_secret.clone(), password];
    // Teardown removed the kept password.
    assert!(
        store
            .get(
                &w.service,
                &format!("instance/{sub}/lfcli/mysqlAdminPassword")
            )
            .unwrap()
            .is_none()
    );
    let journal = std::fs::read(w.dir.join("data/journal.sqlite")).unwrap();
    let profile = std::fs::read_to_string(w.dir.join("data/profile.json")).unwrap();
    secrets.retain(|s| !s.is_empty());
    for s in &secrets {
        assert!(
            !outputs.iter().any(|o| o.contains(s.as_str())),
            "a secret reached the output"
        );
        assert!(!profile.contains(s.as_str()));
        assert!(!journal.windows(s.len()).any(|w| w == s.as_bytes()));
    }
    w.ok(&["logout"], None);
}
