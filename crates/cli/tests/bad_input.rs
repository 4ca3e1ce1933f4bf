//! Bad input (RELIABILITY.md): a table of invalid inputs given to `landfall demo` — names
//! breaking each Azure naming rule the instance name feeds, sizes out of range, wrong types,
//! values not allowed, cross-input rules, unknown inputs and presets — and a template bundle
//! whose digest does not match. Each is refused with exit code 1 and a message naming the
//! field and the rule; nothing reaches the simulated Azure (no resource group, no deployment
//! in its state file) and the journal records no run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use landfall_engine::journal::Journal;

struct Case {
    /// `--set` values (and `--preset` when `preset` is given).
    sets: &'static [&'static str],
    preset: Option<&'static str>,
    /// Words the error must contain: the field, and the rule in words.
    expect: &'static [&'static str],
}

const CASES: &[Case] = &[
    // The instance name, and the Azure names derived from it.
    Case {
        sets: &["name=ab"],
        preset: None,
        expect: &["name", "at least 3"],
    },
    Case {
        sets: &["name=abcdefghijkl"],
        preset: None,
        expect: &["name", "at most 11"],
    },
    Case {
        sets: &["name=1abc"],
        preset: None,
        expect: &["name", "start with a letter"],
    },
    Case {
        sets: &["name=abc-"],
        preset: None,
        expect: &["name", "end with a hyphen"],
    },
    Case {
        sets: &["name=ab--cd"],
        preset: None,
        expect: &["name", "two hyphens"],
    },
    Case {
        sets: &["name=Demo_01"],
        preset: None,
        expect: &["name"],
    },
    Case {
        sets: &["name=dém"],
        preset: None,
        expect: &["name"],
    },
    // Ranges.
    Case {
        sets: &["systemNodeCount=0"],
        preset: None,
        expect: &["systemNodeCount", "at least 1"],
    },
    Case {
        sets: &["systemNodeCount=11"],
        preset: None,
        expect: &["systemNodeCount", "at most 10"],
    },
    Case {
        sets: &["mysqlStorageGb=10"],
        preset: None,
        expect: &["mysqlStorageGb", "at least 20"],
    },
    Case {
        sets: &["mysqlBackupRetentionDays=36"],
        preset: None,
        expect: &["mysqlBackupRetentionDays", "35"],
    },
    Case {
        sets: &["logRetentionDays=7"],
        preset: None,
        expect: &["logRetentionDays", "30"],
    },
    // Types.
    Case {
        sets: &["systemNodeCount=three"],
        preset: None,
        expect: &["systemNodeCount"],
    },
    Case {
        sets: &["systemNodeCount=1.5"],
        preset: None,
        expect: &["systemNodeCount"],
    },
    Case {
        sets: &["mysqlHighAvailability=maybe"],
        preset: None,
        expect: &["mysqlHighAvailability"],
    },
    // Allowed values.
    Case {
        sets: &["location=moon"],
        preset: None,
        expect: &["location", "eastus"],
    },
    Case {
        sets: &["userNodeVmSize=Standard_X1"],
        preset: None,
        expect: &["userNodeVmSize"],
    },
    Case {
        sets: &["kubernetesVersion=1.20"],
        preset: None,
        expect: &["kubernetesVersion"],
    },
    Case {
        sets: &["storageRedundancy=RAGZRS"],
        preset: None,
        expect: &["storageRedundancy"],
    },
    // Rules across inputs.
    Case {
        sets: &["userNodeMin=5", "userNodeMax=2"],
        preset: None,
        expect: &["userNodeMax", "at least the minimum"],
    },
    Case {
        sets: &["mysqlSku=Standard_B1ms", "mysqlHighAvailability=true"],
        preset: None,
        expect: &["mysqlHighAvailability", "General Purpose"],
    },
    Case {
        sets: &["mysqlAdminLogin=root"],
        preset: None,
        expect: &["mysqlAdminLogin", "reserved"],
    },
    Case {
        sets: &["vnetAddressPrefix=8.8.0.0/16"],
        preset: None,
        expect: &["vnetAddressPrefix", "private"],
    },
    Case {
        sets: &["vnetAddressPrefix=10.0.0.0/16"],
        preset: None,
        expect: &["vnetAddressPrefix", "overlap"],
    },
    Case {
        sets: &["vnetAddressPrefix=10.40.0.0/24"],
        preset: None,
        expect: &["vnetAddressPrefix", "/18"],
    },
    Case {
        sets: &["mysqlAdminPassword=short"],
        preset: None,
        expect: &["mysqlAdminPassword", "at least 8"],
    },
    // Unknown names, malformed --set.
    Case {
        sets: &["nodes=3"],
        preset: None,
        expect: &["nodes"],
    },
    Case {
        sets: &["systemNodeCount"],
        preset: None,
        expect: &["systemNodeCount", "name=value"],
    },
    Case {
        sets: &[],
        preset: Some("huge"),
        expect: &["huge", "small"],
    },
];

fn landfall(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_landfall"));
    c.env("LANDFALL_DATA_DIR", data);
    c
}

/// Nothing reached Azure or the journal.
fn assert_nothing_written(data: &std::path::Path, what: &str) {
    let demo = data.join("demo");
    let journal = demo.join("journal.sqlite");
    if journal.exists() {
        let runs = Journal::open(&journal).unwrap().runs(None).unwrap();
        assert!(runs.is_empty(), "{what}: a run was recorded: {runs:?}");
    }
    if let Ok(state) = std::fs::read_to_string(demo.join("sim-state.json")) {
        let lower = state.to_ascii_lowercase();
        assert!(
            !lower.contains("/resourcegroups/")
                && !lower.contains("microsoft.resources/deployments"),
            "{what}: the simulated Azure was written to"
        );
    }
}

#[test]
fn each_invalid_input_is_refused_naming_the_field_and_the_rule() {
    let mut report = Vec::new();
    for case in CASES {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = landfall(dir.path());
        cmd.args(["demo", "--speed", "200"]);
        if let Some(p) = case.preset {
            cmd.args(["--preset", p]);
        }
        for s in case.sets {
            cmd.args(["--set", s]);
        }
        let out = cmd.output().unwrap();
        let what = format!("{:?} {:?}", case.preset, case.sets);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "{what}: {stderr}");
        for word in case.expect {
            assert!(stderr.contains(word), "{what}: '{word}' not in: {stderr}");
        }
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        assert_nothing_written(dir.path(), &what);
        report.push(format!("{what} -> {}", stderr.lines().next().unwrap_or("")));
    }
    eprintln!(
        "{} bad inputs refused:\n{}",
        report.len(),
        report.join("\n")
    );
    assert_eq!(report.len(), CASES.len());
}

#[test]
fn a_bundle_whose_files_do_not_match_its_digest_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let source =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../templates/data-platform");
    let copy = dir.path().join("bundle");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
    }
    let ok = landfall(dir.path())
        .args(["manifest", "check"])
        .arg(&copy)
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    // One byte changed in one template, its digest left as it was.
    let template = copy.join("compute.json");
    let text = std::fs::read_to_string(&template).unwrap();
    std::fs::write(&template, text.replacen("\"Standard\"", "\"Premium\"", 1)).unwrap();
    let out = landfall(dir.path())
        .args(["manifest", "check"])
        .arg(&copy)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("do not match its digest"), "{text}");
    assert!(
        text.contains("manifest digest"),
        "says how to regenerate it: {text}"
    );
}
