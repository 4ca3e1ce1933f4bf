//! `landfall login`, `logout`, `account show`, `tenants` and `subscriptions` as people run
//! them: the real binary, one process per command, against a landfall-sim started in this test
//! process (`--cloud-metadata https://127.0.0.1:PORT/metadata/endpoints --ca-file CA.pem`).
//! Each test has its own data dir and keyring service name, never the user's.
//!
//! Tests whose secrets go to the OS keyring across processes are ignored here and run by
//! `scripts/keyring-test` under a throwaway Secret Service. The others point D-Bus at nothing,
//! so they would fail if they touched a keyring at all.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use landfall_azure::TrustedCa;
use landfall_azure::auth::{AZURE_CLI_CLIENT_ID, KeyringStore, SecretStore};
use landfall_sim::{Identity, Scenario, Sim, SimHandle, SimOptions};
use serde_json::{Value as Json, json};

/// A simulator, a data dir and the environment the `landfall` processes run in.
struct World {
    sim: Option<SimHandle>,
    rt: tokio::runtime::Runtime,
    dir: PathBuf,
    ca_file: PathBuf,
    service: String,
    /// Whether the processes may reach the Secret Service of this session.
    keyring: bool,
    /// Folders put first on the processes' PATH (fake `az`, fake `xdg-open`).
    path_first: Vec<PathBuf>,
}

impl World {
    fn new(name: &str, keyring: bool) -> World {
        let dir = std::env::temp_dir().join(format!(
            "landfall-account-cli-{name}-{}",
            std::process::id()
        ));
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
                scenario: Scenario {
                    no_throttling: true,
                    ..Scenario::default()
                },
                ..SimOptions::default()
            }))
            .unwrap();
        World {
            sim: Some(sim),
            rt,
            dir,
            ca_file,
            service: format!("landfall-test-{name}-{}", std::process::id()),
            keyring,
            path_first: Vec::new(),
        }
    }

    fn sim(&self) -> &SimHandle {
        self.sim.as_ref().unwrap()
    }

    fn id(&self) -> Identity {
        self.sim().sim.options.identity.clone()
    }

    fn base(&self) -> String {
        self.sim().base_url.clone()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn profile_file(&self) -> PathBuf {
        self.data_dir().join("profile.json")
    }

    fn profile_text(&self) -> String {
        std::fs::read_to_string(self.profile_file()).unwrap()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_landfall"));
        c.args(args)
            .env("LANDFALL_DATA_DIR", self.data_dir())
            .env("LANDFALL_KEYRING_SERVICE", &self.service)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if !self.keyring {
            c.env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/landfall-test-bus",
            );
        }
        if !self.path_first.is_empty() {
            let mut paths = self.path_first.clone();
            paths.extend(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            ));
            c.env("PATH", std::env::join_paths(paths).unwrap());
        }
        c
    }

    /// Runs `landfall ARGS` with `stdin` (nothing when `None`).
    fn run(&self, args: &[&str], stdin: Option<&str>) -> Run {
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
        Run::from(child.wait_with_output().unwrap())
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>) -> Run {
        let run = self.run(args, stdin);
        assert!(run.code == 0, "landfall {args:?} failed: {run:?}");
        run
    }

    fn json(&self, args: &[&str]) -> Json {
        serde_json::from_str(&self.ok(args, None).stdout).unwrap()
    }

    /// `login --cloud-metadata ... --ca-file ...` plus `rest`.
    fn login_args(&self, rest: &[&str]) -> Vec<String> {
        let mut args = vec![
            "login".to_owned(),
            "--cloud-metadata".to_owned(),
            format!("{}/metadata/endpoints", self.base()),
            "--ca-file".to_owned(),
            self.ca_file.display().to_string(),
        ];
        args.extend(rest.iter().map(|s| (*s).to_owned()));
        args
    }

    fn sp_secret_login(&self, secret: &str) -> Run {
        let id = self.id();
        let args = self.login_args(&[
            "--service-principal",
            "--client-id",
            &id.client_id,
            "--tenant",
            &id.tenant_id,
            "--secret-stdin",
        ]);
        self.run(&refs(&args), Some(&format!("{secret}\n")))
    }

    /// An HTTPS request to the simulator (trusting its CA); the JSON answer.
    fn sim_request(
        &self,
        method: &str,
        path: &str,
        form: Option<&[(&str, &str)]>,
        body: Option<Json>,
    ) -> Json {
        let ca = TrustedCa::from_pem(&self.sim().ca_pem).unwrap();
        let http = landfall_azure::tls::http_client(Some(&ca)).unwrap();
        let url = format!("{}{path}", self.base());
        self.rt.block_on(async move {
            let mut request = match method {
                "GET" => http.get(url),
                _ => http.post(url),
            };
            if let Some(form) = form {
                let encoded = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(form)
                    .finish();
                request = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(encoded);
            }
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.unwrap();
            let status = response.status();
            let json: Json = response.json().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {json}");
            json
        })
    }

    /// Approves a device code as the user would.
    fn approve(&self, user_code: &str) {
        self.sim_request(
            "POST",
            "/_sim/device/approve",
            None,
            Some(json!({ "userCode": user_code })),
        );
    }

    /// A user's ARM access token, got through the device flow by hand (what `az` would hold).
    fn user_access_token(&self) -> (String, i64) {
        let tenant = self.id().tenant_id;
        let scope = format!("{}/.default offline_access openid profile", self.base());
        let start = self.sim_request(
            "POST",
            &format!("/{tenant}/oauth2/v2.0/devicecode"),
            Some(&[("client_id", AZURE_CLI_CLIENT_ID), ("scope", &scope)]),
            None,
        );
        self.approve(start["user_code"].as_str().unwrap());
        let tokens = self.sim_request(
            "POST",
            &format!("/{tenant}/oauth2/v2.0/token"),
            Some(&[
                ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                ("client_id", AZURE_CLI_CLIENT_ID),
                ("device_code", start["device_code"].as_str().unwrap()),
            ]),
            None,
        );
        let expires_in = tokens["expires_in"].as_i64().unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        (
            tokens["access_token"].as_str().unwrap().to_owned(),
            now + expires_in,
        )
    }

    /// A folder first on PATH holding an executable `name` with `script` as its body.
    fn fake_tool(&mut self, name: &str, script: &str) {
        let bin = self.dir.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        let path = bin.join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        if !self.path_first.contains(&bin) {
            self.path_first.push(bin);
        }
    }

    /// A keyring entry of this world's service.
    fn keyring_entry(&self, key: &str) -> Option<String> {
        KeyringStore::new()
            .get(&self.service, key)
            .unwrap()
            .map(|s| s.secret().to_owned())
    }
}

impl Drop for World {
    fn drop(&mut self) {
        drop(self.sim.take());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn refs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

/// What one process printed.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// Fails when `secret` is in any of the runs' output or in the profile file.
fn assert_nowhere(secret: &str, runs: &[&Run], profile: Option<&str>) {
    assert!(secret.len() >= 8, "too short to search for: {secret:?}");
    for run in runs {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret was printed: {run:?}"
        );
    }
    if let Some(text) = profile {
        assert!(!text.contains(secret), "a secret is in the profile: {text}");
    }
}

/// The keyring entry the saved profile points at.
fn saved_keyring_key(w: &World) -> String {
    let profile: Json = serde_json::from_str(&w.profile_text()).unwrap();
    profile["profile"]["keyring"]["key"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn write_file(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn azure_cli_session_is_reused_by_later_commands_and_nothing_secret_is_kept() {
    let mut w = World::new("azcli", false);
    let id = w.id();
    let (token, expires_on) = w.user_access_token();
    let token_file = w.dir.join("az-token.json");
    write_file(
        &token_file,
        &json!({
            "accessToken": token,
            "expiresOn": "2099-01-01 00:00:00.000000",
            "expires_on": expires_on,
            "subscription": id.subscription_id,
            "tenant": id.tenant_id,
            "tokenType": "Bearer",
        })
        .to_string(),
    );
    let calls = w.dir.join("az-calls.log");
    w.fake_tool(
        "az",
        &format!(
            "printf '%s\\n' \"$*\" >> '{}'\ncat '{}'",
            calls.display(),
            token_file.display()
        ),
    );

    let login = w.ok(&refs(&w.login_args(&["--azure-cli"])), None);
    assert!(
        login
            .stdout
            .contains(&format!("Signed in as {}", id.user_upn)),
        "{login:?}"
    );
    assert!(login.stdout.contains("Azure CLI session"), "{login:?}");
    let first_call = std::fs::read_to_string(&calls).unwrap();
    assert!(
        first_call.starts_with(&format!(
            "account get-access-token -o json --scope {}/.default",
            w.base()
        )),
        "{first_call}"
    );

    let show = w.json(&["account", "show", "--json"]);
    assert_eq!(show["method"]["kind"], "azureCli");
    assert_eq!(show["tenant"], id.tenant_id.as_str());
    assert_eq!(show["account"]["username"], id.user_upn.as_str());
    assert_eq!(show["account"]["objectId"], id.user_object_id.as_str());
    assert_eq!(show["cloud"]["name"], "LandfallSimulatedAzure");
    assert_eq!(show["caFile"], w.ca_file.display().to_string().as_str());
    let profile = w.profile_text();
    assert!(!profile.contains("keyring"), "{profile}");

    let tenants = w.json(&["tenants", "--json"]);
    let list = tenants["tenants"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{tenants}");
    assert_eq!(list[0]["tenantId"], id.tenant_id.as_str());
    assert_eq!(
        (&list[0]["home"], &list[0]["current"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(list[1]["tenantId"], id.guest_tenant_id.as_str());
    assert_eq!(list[1]["home"], false);
    let people = w.ok(&["tenants"], None);
    assert!(people.stdout.contains("home, current"), "{people:?}");
    assert!(people.stdout.contains("guest"), "{people:?}");

    let subs = w.json(&["subscriptions", "--json"]);
    assert_eq!(subs["principal"]["name"], id.user_upn.as_str());
    assert_eq!(subs["principal"]["kind"], "user");
    assert_eq!(
        subs["subscriptions"],
        json!([{
            "subscriptionId": id.subscription_id,
            "displayName": id.subscription_name,
            "state": "Enabled",
            "tenantId": id.tenant_id,
        }])
    );
    // Every later command asked `az` again, for the saved tenant.
    let all_calls = std::fs::read_to_string(&calls).unwrap();
    assert_eq!(all_calls.lines().count(), 4, "{all_calls}");
    assert!(
        all_calls
            .lines()
            .skip(1)
            .all(|l| l.contains(&format!("--tenant {}", id.tenant_id))),
        "{all_calls}"
    );
    let checked = w.ok(&["account", "show", "--check"], None);
    assert!(checked.stdout.contains("Subscriptions: 1"), "{checked:?}");
    assert_nowhere(&token, &[&login, &people, &checked], Some(&profile));

    let out = w.ok(&["logout"], None);
    assert!(out.stdout.contains("Signed out"), "{out:?}");
    assert!(!w.profile_file().exists());
    let after = w.run(&["subscriptions"], None);
    assert_eq!(after.code, 1);
    assert!(
        after.stderr.contains("not signed in; run `landfall login`"),
        "{after:?}"
    );
}

#[test]
fn a_service_principal_certificate_signs_in_and_keeps_only_the_file_path() {
    let w = World::new("cert", false);
    let id = w.id();
    let cert = w.sim_request("GET", "/_sim/client-certificate", None, None);
    let key = cert["privateKeyPem"].as_str().unwrap();
    let pem_file = w.dir.join("sp.pem");
    write_file(
        &pem_file,
        &format!("{}\n{key}", cert["certificatePem"].as_str().unwrap()),
    );
    let pem = pem_file.display().to_string();
    let args = w.login_args(&[
        "--service-principal",
        "--client-id",
        &id.client_id,
        "--tenant",
        &id.tenant_id,
        "--certificate",
        &pem,
    ]);
    let login = w.ok(&refs(&args), None);
    assert!(
        login
            .stdout
            .contains("service principal with a certificate"),
        "{login:?}"
    );

    let show = w.ok(&["account", "show"], None);
    assert!(show.stdout.contains(&id.client_id), "{show:?}");
    assert!(
        show.stdout.contains(&format!("Cert:     {pem}")),
        "{show:?}"
    );
    let subs = w.json(&["subscriptions", "--json"]);
    assert_eq!(subs["principal"]["kind"], "servicePrincipal");
    assert_eq!(subs["principal"]["name"], id.client_id.as_str());
    assert_eq!(
        subs["subscriptions"][0]["subscriptionId"],
        id.subscription_id.as_str()
    );
    let tenants = w.json(&["tenants", "--json"]);
    assert_eq!(tenants["tenants"].as_array().unwrap().len(), 1, "{tenants}");

    let profile = w.profile_text();
    assert!(profile.contains(&pem), "{profile}");
    let key_body = key.lines().nth(1).unwrap();
    assert_nowhere(key_body, &[&login, &show], Some(&profile));
    w.ok(&["logout"], None);
    assert!(!w.profile_file().exists());
}

#[test]
fn a_wrong_client_secret_is_a_clear_error_and_writes_no_profile() {
    let w = World::new("wrongsecret", false);
    let secret = "definitely-wrong-secret-0451";
    let run = w.sp_secret_login(secret);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("sign-in failed"), "{run:?}");
    assert!(run.stderr.contains("AADSTS7000215"), "{run:?}");
    assert!(run.stderr.contains("Invalid client secret"), "{run:?}");
    assert_nowhere(secret, &[&run], None);
    assert!(!w.profile_file().exists());
}

#[test]
fn bad_flag_combinations_name_the_flag_and_the_rule() {
    let w = World::new("flags", false);
    let pem = w.ca_file.display().to_string();
    let cases: &[(&[&str], Option<&str>, &[&str])] = &[
        (
            &["--device-code", "--azure-cli"],
            None,
            &["'--device-code'", "'--azure-cli'"],
        ),
        (
            &["--service-principal", "--device-code"],
            None,
            &["'--device-code'", "'--service-principal'"],
        ),
        (&["--secret-stdin"], None, &["--service-principal"]),
        (&["--certificate", "x.pem"], None, &["--service-principal"]),
        (
            &["--azure-cli", "--client-id", "app"],
            None,
            &["'--client-id"],
        ),
        (
            &["--cloud", "public", "--cloud-metadata", "https://x/"],
            None,
            &["'--cloud"],
        ),
        (
            &["--service-principal", "--tenant", "t"],
            None,
            &["--service-principal needs --client-id"],
        ),
        (
            &[
                "--service-principal",
                "--client-id",
                "app",
                "--secret-stdin",
            ],
            None,
            &["--service-principal needs --tenant"],
        ),
        (
            &["--service-principal", "--client-id", "app", "--tenant", "t"],
            None,
            &["--service-principal needs --secret-stdin or --certificate"],
        ),
        (
            &[
                "--service-principal",
                "--client-id",
                "app",
                "--tenant",
                "t",
                "--secret-stdin",
            ],
            Some("\n"),
            &["--secret-stdin: standard input held no secret"],
        ),
        (
            &[
                "--service-principal",
                "--client-id",
                "app",
                "--tenant",
                "t",
                "--certificate",
                "/nonexistent/sp.pem",
            ],
            None,
            &["--certificate: file not found: /nonexistent/sp.pem"],
        ),
        (
            &["--ca-file", "/nonexistent/ca.pem"],
            None,
            &["--ca-file: file not found: /nonexistent/ca.pem"],
        ),
        (
            &["--ca-file", "Cargo.toml"],
            None,
            &["--ca-file:", "no certificate"],
        ),
        (
            &["--cloud", "mars"],
            None,
            &["--cloud: unknown cloud 'mars'"],
        ),
        (
            &["--cloud-metadata", "http://127.0.0.1/"],
            None,
            &["--cloud-metadata: must be an https URL"],
        ),
        (
            &["--cloud-metadata", "not a url"],
            None,
            &["--cloud-metadata:", "is not a URL"],
        ),
        (
            &["--tenant", "a b"],
            None,
            &["--tenant: 'a b' is not an ID or domain"],
        ),
        (
            &["--device-code", "--client-id", "x/../y"],
            None,
            &["--client-id: 'x/../y' is not an ID or domain"],
        ),
        (
            &[
                "--cloud-metadata",
                "https://127.0.0.1:1/metadata/endpoints",
                "--ca-file",
                &pem,
                "--azure-cli",
            ],
            None,
            &["--cloud-metadata: cannot read the cloud at https://127.0.0.1:1/"],
        ),
    ];
    for (flags, stdin, expected) in cases {
        let mut args = vec!["login"];
        args.extend_from_slice(flags);
        let run = w.run(&args, *stdin);
        assert_ne!(run.code, 0, "{args:?} succeeded: {run:?}");
        for text in *expected {
            assert!(
                run.stderr.contains(text),
                "{args:?}: expected {text:?} in {run:?}"
            );
        }
        assert!(!w.profile_file().exists(), "{args:?} wrote a profile");
    }
}

#[test]
fn an_interactive_login_without_a_keyring_fails_before_asking_anyone() {
    let w = World::new("nokeyring", false);
    let run = w.run(&refs(&w.login_args(&["--device-code"])), None);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("OS keyring"), "{run:?}");
    assert!(run.stderr.contains("Secret Service"), "{run:?}");
    assert!(!run.stderr.contains("enter the code"), "{run:?}");
    assert!(!w.profile_file().exists());
}

#[test]
fn commands_without_a_sign_in_say_so_and_a_corrupt_profile_is_named() {
    let w = World::new("nosignin", false);
    for args in [
        &["account", "show"][..],
        &["tenants"],
        &["subscriptions", "--json"],
    ] {
        let run = w.run(args, None);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(
            run.stderr
                .contains("not signed in; run `landfall login` first"),
            "{args:?}: {run:?}"
        );
    }
    let out = w.ok(&["logout"], None);
    assert_eq!(out.stdout.trim(), "Not signed in.");

    write_file(
        &w.profile_file(),
        "{\"format\": 1, \"profile\": {\"cloud\": 3}}",
    );
    let run = w.run(&["account", "show"], None);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!(
            "the profile file '{}' is not valid",
            w.profile_file().display()
        )),
        "{run:?}"
    );
}

#[test]
#[ignore = "needs a Secret Service; run by scripts/keyring-test"]
fn service_principal_secret_is_kept_in_the_keyring_until_logout() {
    let w = World::new("spsecret", true);
    let id = w.id();
    let login = w.sp_secret_login(&id.client_secret);
    assert_eq!(login.code, 0, "{login:?}");
    assert!(
        login
            .stdout
            .contains(&format!("Signed in as {}", id.client_id)),
        "{login:?}"
    );

    let show = w.json(&["account", "show", "--json"]);
    assert_eq!(show["method"]["kind"], "clientSecret");
    assert_eq!(show["account"]["kind"], "servicePrincipal");
    assert_eq!(show["account"]["objectId"], id.client_object_id.as_str());
    let key = saved_keyring_key(&w);
    assert_eq!(
        w.keyring_entry(&key).as_deref(),
        Some(id.client_secret.as_str())
    );

    let people = w.ok(&["account", "show", "--check"], None);
    assert!(
        people
            .stdout
            .contains("service principal with a client secret"),
        "{people:?}"
    );
    assert!(people.stdout.contains("Subscriptions: 1"), "{people:?}");
    let tenants = w.json(&["tenants", "--json"]);
    assert_eq!(tenants["tenants"][0]["tenantId"], id.tenant_id.as_str());
    assert_eq!(tenants["tenants"][0]["home"], true);
    let subs = w.json(&["subscriptions", "--json"]);
    assert_eq!(subs["principal"]["name"], id.client_id.as_str());
    assert_eq!(subs["subscriptions"][0]["state"], "Enabled");
    let listed = w.ok(&["subscriptions"], None);
    assert!(listed.stdout.contains(&id.subscription_id), "{listed:?}");
    assert_nowhere(
        &id.client_secret,
        &[&login, &people, &listed],
        Some(&w.profile_text()),
    );

    let out = w.ok(&["logout"], None);
    assert!(
        out.stdout.contains("its secrets in the OS keyring"),
        "{out:?}"
    );
    assert_nowhere(&id.client_secret, &[&out], None);
    assert!(!w.profile_file().exists());
    assert_eq!(w.keyring_entry(&key), None);
    let index = format!("LandfallSimulatedAzure/{}/index", id.client_id);
    assert_eq!(w.keyring_entry(&index), None);
}

#[test]
#[ignore = "needs a Secret Service; run by scripts/keyring-test"]
fn device_code_login_approved_in_the_simulator_is_reused_and_logged_out() {
    let w = World::new("device", true);
    let id = w.id();
    let args = w.login_args(&["--device-code"]);
    let mut child = w.command(&refs(&args)).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut shown = String::new();
    let code = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "no device code in {shown:?}"
        );
        shown.push_str(&line);
        if let Some(rest) = line.split("enter the code ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    assert!(
        shown.contains(&format!("{}/devicelogin", w.base())),
        "{shown}"
    );
    w.approve(&code);
    stderr.read_to_string(&mut shown).unwrap();
    let mut login = Run::from(child.wait_with_output().unwrap());
    login.stderr = shown;
    assert_eq!(login.code, 0, "{login:?}");
    assert!(
        login
            .stdout
            .contains(&format!("Signed in as {}", id.user_upn)),
        "{login:?}"
    );
    assert!(login.stdout.contains("device code"), "{login:?}");

    let key = saved_keyring_key(&w);
    let refresh = w.keyring_entry(&key).unwrap();

    // Later processes: the refresh token from the keyring, redeemed silently.
    let tenants = w.json(&["tenants", "--json"]);
    assert_eq!(tenants["tenants"].as_array().unwrap().len(), 2, "{tenants}");
    let subs = w.json(&["subscriptions", "--json"]);
    assert_eq!(subs["principal"]["name"], id.user_upn.as_str());
    assert_eq!(
        subs["subscriptions"][0]["subscriptionId"],
        id.subscription_id.as_str()
    );
    let show = w.ok(&["account", "show"], None);
    assert!(show.stdout.contains("Method:   device code"), "{show:?}");
    assert_nowhere(&refresh, &[&login, &show], Some(&w.profile_text()));

    w.ok(&["logout"], None);
    assert!(!w.profile_file().exists());
    assert_eq!(w.keyring_entry(&key), None);
    let tenant_entry = format!(
        "LandfallSimulatedAzure/{}/{}/refresh-token",
        id.user_object_id, id.tenant_id
    );
    assert_eq!(w.keyring_entry(&tenant_entry), None);
    let index = format!("LandfallSimulatedAzure/{}/index", id.user_object_id);
    assert_eq!(w.keyring_entry(&index), None);
}

#[test]
#[ignore = "needs a Secret Service; run by scripts/keyring-test"]
fn browser_login_through_the_system_browser_command() {
    let mut w = World::new("browser", true);
    let id = w.id();
    // The "system browser": follows the sign-in page's redirect back to the loopback.
    let visited = w.dir.join("browser.log");
    w.fake_tool(
        "xdg-open",
        &format!(
            "curl -sS -L --cacert '{}' -o '{}' \"$1\"",
            w.ca_file.display(),
            visited.display()
        ),
    );
    let login = w.ok(&refs(&w.login_args(&[])), None);
    assert!(
        login.stderr.contains("/oauth2/v2.0/authorize?"),
        "{login:?}"
    );
    assert!(
        login
            .stdout
            .contains(&format!("Signed in as {}", id.user_upn)),
        "{login:?}"
    );
    assert!(
        std::fs::read_to_string(&visited)
            .unwrap()
            .contains("You are signed in"),
        "the browser saw the success page"
    );
    let show = w.json(&["account", "show", "--json"]);
    assert_eq!(show["method"]["kind"], "browser");
    assert_eq!(show["tenant"], id.tenant_id.as_str());
    assert_eq!(show["account"]["homeTenant"], id.tenant_id.as_str());
    let subs = w.json(&["subscriptions", "--json"]);
    assert_eq!(
        subs["subscriptions"][0]["subscriptionId"],
        id.subscription_id.as_str()
    );

    // A new login replaces the account and removes the old one's keyring entries.
    let user_key = saved_keyring_key(&w);
    assert!(w.keyring_entry(&user_key).is_some());
    let again = w.sp_secret_login(&id.client_secret);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(w.keyring_entry(&user_key), None);
    w.ok(&["logout"], None);
}
