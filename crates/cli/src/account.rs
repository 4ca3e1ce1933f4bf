//! `landfall login`, `logout`, `account show`, `tenants` and `subscriptions`: signing in to
//! Azure once and reusing that account in later runs. The saved account (cloud, CA, tenant,
//! method; never a secret) is landfall-azure's [`Profile`] in the data directory of
//! [`landfall_engine::paths`]; refresh tokens and client secrets go to the OS keyring.
//!
//! People get short plain lines on stdout; prompts (the browser URL, the device code) go to
//! stderr so `--json` output stays clean. Flag errors name the flag and the rule.

use std::io::{BufRead as _, IsTerminal as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use landfall_azure::account::{
    AccountError, Accounts, CaSource, PrincipalKind, Profile, ProfileStore, Secret, SignInMethod,
    SignInTarget, UserFlow, discover_cloud, signed_in_client,
};
use landfall_azure::arm::{Arm, Subscription, Tenant};
use landfall_azure::auth::{
    AZURE_CLI_CLIENT_ID, BrowserOpener, CacheError, CommandOpener, DeviceCodeCredential,
    DeviceCodePrompt, InteractiveBrowserCredential, KeyringStore, SecretStore, SignInError,
};
use landfall_azure::{ArmClient, Cloud};
use serde_json::json;
use url::Url;

use landfall_engine::paths;

/// Options of `landfall login`.
#[derive(Args)]
pub struct LoginArgs {
    /// Built-in cloud: AzureCloud (public, the default), AzureUSGovernment (usgov) or
    /// AzureChinaCloud (china).
    #[arg(long, value_name = "NAME", conflicts_with = "cloud_metadata")]
    cloud: Option<String>,
    /// A custom cloud, read from its Resource Manager's metadata URL
    /// (https://HOST/metadata/endpoints).
    #[arg(long, value_name = "URL")]
    cloud_metadata: Option<String>,
    /// An extra CA certificate (PEM) to trust, for private clouds and the simulator; saved with
    /// the account.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// The tenant ID or domain (required with --service-principal).
    #[arg(long, value_name = "ID")]
    tenant: Option<String>,
    /// Sign in with a code entered in a browser on any device.
    #[arg(long, conflicts_with_all = ["service_principal", "azure_cli"])]
    device_code: bool,
    /// Sign in as a service principal, with --client-id and --secret-stdin or --certificate.
    #[arg(long, conflicts_with = "azure_cli")]
    service_principal: bool,
    /// The application (client) ID of the service principal, or another public client for a
    /// user sign-in.
    #[arg(long, value_name = "ID")]
    client_id: Option<String>,
    /// Read the service principal's client secret from one line of standard input.
    #[arg(long, requires = "service_principal", conflicts_with = "certificate")]
    secret_stdin: bool,
    /// The service principal's certificate: a PEM file with the certificate and its RSA
    /// private key (the file stays where it is; the account remembers its path).
    #[arg(long, value_name = "FILE", requires = "service_principal")]
    certificate: Option<PathBuf>,
    /// Reuse the Azure CLI's session (`az login`); nothing is stored.
    #[arg(long, conflicts_with = "client_id")]
    azure_cli: bool,
}

/// `landfall account ...`.
#[derive(Subcommand)]
pub enum AccountCommand {
    /// Show the signed-in account: cloud, tenant, user, sign-in method.
    Show(ShowArgs),
}

/// Options of `landfall account show`.
#[derive(Args)]
pub struct ShowArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
    /// Also get a token now and count the subscriptions (checks the sign-in still works).
    #[arg(long)]
    check: bool,
}

/// Options of `landfall tenants` and `landfall subscriptions`.
#[derive(Args)]
pub struct ListArgs {
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// How to sign in, checked from the flags (a client secret read from stdin last) before
/// anything is sent.
enum How {
    Browser { client_id: String },
    DeviceCode { client_id: String },
    ClientSecret { client_id: String, secret: Secret },
    Certificate { client_id: String, path: PathBuf },
    AzureCli,
}

/// `landfall login`.
pub fn login(args: LoginArgs) -> Result<(), String> {
    if let Some(t) = &args.tenant {
        check_id("--tenant", t)?;
    }
    let ca = match &args.ca_file {
        None => None,
        Some(p) => {
            let source = CaSource::File(existing_file("--ca-file", p)?);
            source.load().map_err(|e| format!("--ca-file: {e}"))?;
            Some(source)
        }
    };
    let cloud = cloud_choice(&args)?;
    let how = how(&args)?;
    let accounts = accounts()?;
    runtime()?.block_on(async move {
        let cloud = match cloud {
            CloudChoice::Known(c) => *c,
            CloudChoice::Metadata(url) => {
                let trusted = ca
                    .as_ref()
                    .map(CaSource::load)
                    .transpose()
                    .map_err(|e| e.to_string())?;
                discover_cloud(&url, trusted.as_ref())
                    .await
                    .map_err(|e| format!("--cloud-metadata: cannot read the cloud at {url}: {e}"))?
            }
        };
        let target = SignInTarget {
            cloud,
            ca,
            tenant: args.tenant.clone(),
        };
        let profile = match how {
            How::Browser { client_id } => browser(&accounts, &target, &client_id).await,
            How::DeviceCode { client_id } => device_code(&accounts, &target, &client_id).await,
            How::ClientSecret { client_id, secret } => {
                accounts
                    .sign_in_client_secret(&target, &client_id, secret)
                    .await
            }
            How::Certificate { client_id, path } => {
                accounts
                    .sign_in_client_certificate(&target, &client_id, &path)
                    .await
            }
            How::AzureCli => accounts.sign_in_azure_cli(&target).await,
        }
        .map_err(sign_in_error)?;
        println!(
            "Signed in as {} to tenant {} ({}, {}).",
            profile.account.label(),
            profile.tenant,
            profile.cloud.name,
            profile.method.describe()
        );
        Ok(())
    })
}

/// The sign-in method the flags ask for, or which flag breaks which rule; reads the client
/// secret of `--secret-stdin` once every flag is known to be right.
fn how(args: &LoginArgs) -> Result<How, String> {
    if args.service_principal {
        let client_id = args.client_id.clone().ok_or(
            "--service-principal needs --client-id ID (the application ID of the service principal)",
        )?;
        check_id("--client-id", &client_id)?;
        if args.tenant.is_none() {
            return Err(
                "--service-principal needs --tenant ID: a service principal signs in to one tenant"
                    .into(),
            );
        }
        return match (&args.certificate, args.secret_stdin) {
            (Some(path), false) => Ok(How::Certificate {
                client_id,
                path: existing_file("--certificate", path)?,
            }),
            (None, true) => Ok(How::ClientSecret {
                client_id,
                secret: read_secret()?,
            }),
            _ => Err("--service-principal needs --secret-stdin or --certificate FILE".into()),
        };
    }
    if args.azure_cli {
        return Ok(How::AzureCli);
    }
    let client_id = args
        .client_id
        .clone()
        .unwrap_or_else(|| AZURE_CLI_CLIENT_ID.to_owned());
    check_id("--client-id", &client_id)?;
    Ok(if args.device_code {
        How::DeviceCode { client_id }
    } else {
        How::Browser { client_id }
    })
}

/// Tenant and client IDs go into URLs and commands: IDs and domains only.
fn check_id(flag: &str, value: &str) -> Result<(), String> {
    let ok = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{flag}: '{value}' is not an ID or domain (letters, digits, '.' and '-' only)"
        ))
    }
}

/// The absolute path of a file that exists.
fn existing_file(flag: &str, path: &Path) -> Result<PathBuf, String> {
    if !path.is_file() {
        return Err(format!("{flag}: file not found: {}", path.display()));
    }
    std::path::absolute(path).map_err(|e| format!("{flag}: {}: {e}", path.display()))
}

enum CloudChoice {
    Known(Box<Cloud>),
    Metadata(Url),
}

fn cloud_choice(args: &LoginArgs) -> Result<CloudChoice, String> {
    if let Some(raw) = &args.cloud_metadata {
        let url =
            Url::parse(raw).map_err(|e| format!("--cloud-metadata: '{raw}' is not a URL: {e}"))?;
        if url.scheme() != "https" {
            return Err(format!(
                "--cloud-metadata: must be an https URL, not '{raw}'"
            ));
        }
        return Ok(CloudChoice::Metadata(url));
    }
    match &args.cloud {
        None => Ok(CloudChoice::Known(Box::new(Cloud::azure_public()))),
        Some(name) => Cloud::builtin(name)
            .map(|c| CloudChoice::Known(Box::new(c)))
            .ok_or_else(|| {
                format!(
                    "--cloud: unknown cloud '{name}'; use AzureCloud (public), AzureUSGovernment \
                 (usgov) or AzureChinaCloud (china), or --cloud-metadata URL for another"
                )
            }),
    }
}

/// One line of standard input, without its line ending.
fn read_secret() -> Result<Secret, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(
            "--secret-stdin: standard input is a terminal; pipe the secret in instead, so it is \
             neither shown nor kept in the shell history"
                .into(),
        );
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("--secret-stdin: cannot read standard input: {e}"))?;
    let secret = line.trim_end_matches(['\r', '\n']);
    if secret.trim().is_empty() {
        return Err("--secret-stdin: standard input held no secret (one line expected)".into());
    }
    Ok(Secret::new(secret.to_owned()))
}

/// Prints the sign-in URL, then asks the system browser to open it.
struct PrintingOpener;

impl BrowserOpener for PrintingOpener {
    fn open(&self, url: &Url) -> Result<(), SignInError> {
        eprintln!("Opening your browser to sign in. If it does not open, visit:\n  {url}");
        if let Err(e) = CommandOpener.open(url) {
            // The URL is on screen: the person can still open it by hand.
            eprintln!("({e})");
        }
        Ok(())
    }
}

async fn browser(
    accounts: &Accounts,
    target: &SignInTarget,
    client_id: &str,
) -> Result<Profile, AccountError> {
    accounts.check_secret_store()?;
    let entra = target.entra(client_id)?;
    let credential =
        InteractiveBrowserCredential::new(entra.clone()).opener(Arc::new(PrintingOpener));
    let session = Box::pin(credential.sign_in(&[&target.cloud.arm_scope()])).await?;
    accounts.complete_user_sign_in(target, UserFlow::Browser, &entra, &session)
}

async fn device_code(
    accounts: &Accounts,
    target: &SignInTarget,
    client_id: &str,
) -> Result<Profile, AccountError> {
    accounts.check_secret_store()?;
    let entra = target.entra(client_id)?;
    let show = |p: &DeviceCodePrompt| {
        if p.message.contains(&p.user_code) {
            eprintln!("{}", p.message);
        } else {
            eprintln!(
                "To sign in, open {} and enter the code {}.",
                p.verification_uri, p.user_code
            );
        }
    };
    let credential = DeviceCodeCredential::new(entra.clone(), Arc::new(show));
    let session = Box::pin(credential.sign_in(&[&target.cloud.arm_scope()])).await?;
    accounts.complete_user_sign_in(target, UserFlow::DeviceCode, &entra, &session)
}

/// A failed sign-in in words: files name their flag.
fn sign_in_error(e: AccountError) -> String {
    match e {
        AccountError::Certificate { .. } => format!("--certificate: {e}"),
        AccountError::Ca { .. } => format!("--ca-file: {e}"),
        other => format!("sign-in failed: {}", with_keyring_hint(&other)),
    }
}

/// The error's text, plus where secrets go when the keyring is what failed.
fn with_keyring_hint(e: &AccountError) -> String {
    match e {
        AccountError::Cache(CacheError::Store { .. }) => format!(
            "{e} (Landfall keeps refresh tokens and secrets only in the OS keyring; on Linux that \
             needs a running Secret Service such as GNOME Keyring or KWallet)"
        ),
        other => other.to_string(),
    }
}

/// `landfall logout`.
pub fn logout() -> Result<(), String> {
    match accounts()?.sign_out().map_err(|e| with_keyring_hint(&e))? {
        None => println!("Not signed in."),
        Some(p) => {
            let secrets = if p.keyring.is_some() {
                " and its secrets in the OS keyring"
            } else {
                ""
            };
            println!(
                "Signed out {}: removed the saved account{secrets}.",
                p.account.label()
            );
        }
    }
    Ok(())
}

/// `landfall account ...`.
pub fn account(command: AccountCommand) -> Result<(), String> {
    match command {
        AccountCommand::Show(args) => show(&args),
    }
}

fn show(args: &ShowArgs) -> Result<(), String> {
    let accounts = accounts()?;
    let profile = current(&accounts)?;
    let subscriptions = if args.check {
        let secrets = accounts.secrets().clone();
        let p = profile.clone();
        Some(runtime()?.block_on(async move {
            let client = client(&p, secrets).await?;
            Arm::new(&client)
                .list_subscriptions()
                .await
                .map(|s| s.len())
                .map_err(|e| e.to_string())
        })?)
    } else {
        None
    };
    let a = &profile.account;
    if args.json {
        let saved = serde_json::to_value(&profile).map_err(|e| e.to_string())?;
        let mut out = json!({
            "cloud": {
                "name": profile.cloud.name,
                "resourceManager": profile.cloud.resource_manager.as_str(),
                "authorityHost": profile.cloud.authority_host.as_str(),
            },
            "caFile": match &profile.ca {
                Some(CaSource::File(p)) => Some(p.display().to_string()),
                _ => None,
            },
            "tenant": profile.tenant,
            "account": a,
            "method": profile.method,
            "clientId": profile.client_id,
            "signedInAt": saved["signedInAt"],
        });
        if let Some(n) = subscriptions {
            out["subscriptions"] = json!(n);
        }
        print_json(&out)?;
        return Ok(());
    }
    let who = match a.kind {
        PrincipalKind::User => "user",
        PrincipalKind::ServicePrincipal => "service principal",
    };
    println!(
        "Cloud:    {} ({})",
        profile.cloud.name, profile.cloud.resource_manager
    );
    println!("Tenant:   {}", profile.tenant);
    match &a.object_id {
        Some(oid) => println!("Account:  {} ({who}, object ID {oid})", a.label()),
        None => println!("Account:  {} ({who})", a.label()),
    }
    if let Some(home) = a.home_tenant.as_deref().filter(|h| *h != profile.tenant) {
        println!("Home:     {home} (a guest in this tenant)");
    }
    println!("Method:   {}", profile.method.describe());
    if let SignInMethod::ClientCertificate { certificate } = &profile.method {
        println!("Cert:     {}", certificate.display());
    }
    if let Some(CaSource::File(p)) = &profile.ca {
        println!("CA file:  {}", p.display());
    }
    if let Some(n) = subscriptions {
        println!("Subscriptions: {n}");
    }
    Ok(())
}

/// `landfall tenants`.
pub fn tenants(args: &ListArgs) -> Result<(), String> {
    let accounts = accounts()?;
    let profile = current(&accounts)?;
    let secrets = accounts.secrets().clone();
    let p = profile.clone();
    let mut tenants: Vec<Tenant> = runtime()?.block_on(async move {
        let client = client(&p, secrets).await?;
        Arm::new(&client)
            .list_tenants()
            .await
            .map_err(|e| e.to_string())
    })?;
    let home = profile.account.home_tenant.clone();
    let is_home = |t: &Tenant| match &home {
        Some(h) => t.tenant_id.eq_ignore_ascii_case(h),
        None => t.tenant_category.as_deref() == Some("Home"),
    };
    tenants.sort_by_key(|t| !is_home(t));
    if args.json {
        let list: Vec<_> = tenants
            .iter()
            .map(|t| {
                json!({
                    "tenantId": t.tenant_id,
                    "displayName": t.display_name,
                    "defaultDomain": t.default_domain,
                    "home": is_home(t),
                    "current": t.tenant_id.eq_ignore_ascii_case(&profile.tenant),
                    "tenantCategory": t.tenant_category,
                })
            })
            .collect();
        return print_json(&json!({
            "principal": principal_json(&profile),
            "tenants": list,
        }));
    }
    if tenants.is_empty() {
        println!("{} can use no tenant.", profile.account.label());
        return Ok(());
    }
    println!("Tenants of {}:", profile.account.label());
    let rows: Vec<[String; 4]> = tenants
        .iter()
        .map(|t| {
            let mut kind = if is_home(t) { "home" } else { "guest" }.to_owned();
            if t.tenant_id.eq_ignore_ascii_case(&profile.tenant) {
                kind.push_str(", current");
            }
            [
                t.tenant_id.clone(),
                t.display_name.clone().unwrap_or_default(),
                t.default_domain.clone().unwrap_or_default(),
                kind,
            ]
        })
        .collect();
    print_table(&rows);
    Ok(())
}

/// `landfall subscriptions`.
pub fn subscriptions(args: &ListArgs) -> Result<(), String> {
    let accounts = accounts()?;
    let profile = current(&accounts)?;
    let secrets = accounts.secrets().clone();
    let p = profile.clone();
    let subscriptions: Vec<Subscription> = runtime()?.block_on(async move {
        let client = client(&p, secrets).await?;
        Arm::new(&client)
            .list_subscriptions()
            .await
            .map_err(|e| e.to_string())
    })?;
    if args.json {
        let list: Vec<_> = subscriptions
            .iter()
            .map(|s| {
                json!({
                    "subscriptionId": s.subscription_id,
                    "displayName": s.display_name,
                    "state": s.state,
                    "tenantId": s.tenant_id,
                })
            })
            .collect();
        return print_json(&json!({
            "principal": principal_json(&profile),
            "tenant": profile.tenant,
            "subscriptions": list,
        }));
    }
    let who = profile.account.label();
    if subscriptions.is_empty() {
        println!("{who} has no subscription in tenant {}.", profile.tenant);
        return Ok(());
    }
    println!("Subscriptions of {who} in tenant {}:", profile.tenant);
    let rows: Vec<[String; 3]> = subscriptions
        .iter()
        .map(|s| {
            [
                s.subscription_id.clone(),
                s.display_name.clone(),
                s.state.clone(),
            ]
        })
        .collect();
    print_table(&rows);
    Ok(())
}

fn principal_json(profile: &Profile) -> serde_json::Value {
    let a = &profile.account;
    json!({
        "kind": a.kind,
        "name": a.label(),
        "objectId": a.object_id,
        "homeTenant": a.home_tenant,
    })
}

/// Rows indented two spaces, columns padded to their widest cell.
fn print_table<const N: usize>(rows: &[[String; N]]) {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .enumerate()
            .map(|(i, (cell, w))| {
                if i + 1 == N {
                    cell.clone()
                } else {
                    format!("{cell:<w$}")
                }
            })
            .collect();
        println!("  {}", cells.join("  ").trim_end());
    }
}

fn print_json(value: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    println!("{text}");
    Ok(())
}

/// The accounts kept in the data directory, secrets in the OS keyring.
fn accounts() -> Result<Accounts, String> {
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    Ok(
        Accounts::new(ProfileStore::new(paths::data_dir()?), secrets)
            .keyring_service(paths::keyring_service()),
    )
}

/// The saved account, or how to get one.
fn current(accounts: &Accounts) -> Result<Profile, String> {
    accounts.current().map_err(|e| match e {
        AccountError::NotSignedIn => "not signed in; run `landfall login` first".to_owned(),
        other => other.to_string(),
    })
}

/// A Resource Manager client from the saved account.
async fn client(profile: &Profile, secrets: Arc<dyn SecretStore>) -> Result<ArmClient, String> {
    signed_in_client(profile, secrets, None).await.map_err(|e| {
        format!(
            "cannot use the saved sign-in: {}; run `landfall login` again",
            with_keyring_hint(&e)
        )
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the runtime: {e}"))
}
