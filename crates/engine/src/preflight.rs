//! Preflight: every check before a write, run in parallel against Azure, each ending pass,
//! warn, fail or skipped with a fix in plain words.
//!
//! The caller fills a [`PreflightRequest`] from the rendered manifest (providers, VM demands
//! at the node pools' largest, the MySQL server, the globally unique names, the actions the
//! templates need, the stage deployments) and [`preflight`] answers a [`PreflightReport`]:
//! - resource providers registered (a [`FixAction::RegisterProviders`] the front can run
//!   through [`register_providers`]);
//! - the caller's permissions at the resource group (or the subscription while the group does
//!   not exist), `Microsoft.Authorization/roleAssignments/write` named specially;
//! - regional vCPU quota per VM family and in total, with how many more are needed;
//! - VM sizes and zones offered to the subscription in the region;
//! - the MySQL flexible server's tier, SKU, version, storage and HA mode in the region;
//! - global name availability (a soft-deleted Key Vault of that name in the subscription
//!   fails with [`FixAction::PurgeDeletedVault`] unless purge protection keeps it);
//! - no stage deployment of the instance still running;
//! - then, once nothing above fails, Azure's own validate and what-if per stage.
//!
//! An Azure call that fails (network, throttled past the retries, a 5xx) turns its check into
//! a warning that says what could not be checked; nothing here panics or passes silently.
//! Reads only: preflight never writes to Azure.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use futures_util::future::join_all;
use landfall_azure::arm::{
    Arm, DeletedVault, DeploymentScope, GenericResource, MYSQL_API, NameAvailability, Provider,
    ResourceSku, Usage, Validation, WhatIfChange, WhatIfResponse, can,
};
use landfall_azure::{
    ArmErrorDetail, Error as AzureError, ErrorReport, QuotaShortfall, Remediation,
};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use tokio::sync::OnceCell;

use crate::deploy::remediation::operation_report;
use crate::error::EngineError;

/// Where to ask for more vCPU quota.
pub const QUOTA_LINK: &str =
    "https://portal.azure.com/#view/Microsoft_Azure_Capacity/QuotaMenuBlade/~/myQuotas";
/// How to register a resource provider.
const PROVIDERS_LINK: &str = "https://learn.microsoft.com/azure/azure-resource-manager/management/resource-providers-and-types";
/// How to get a role assigned.
const ROLES_LINK: &str =
    "https://learn.microsoft.com/azure/role-based-access-control/role-assignments-portal";
/// What to do about a VM size not offered.
const SKU_LINK: &str = "https://aka.ms/azureskunotavailable";
/// Key Vault soft-delete and purge.
const VAULT_LINK: &str = "https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery";
/// The action that lets a cluster's identity pull from the registry.
const ROLE_ASSIGNMENTS_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
/// Creating the resource group, needed while it does not exist.
const GROUPS_WRITE: &str = "Microsoft.Resources/subscriptions/resourceGroups/write";

/// What preflight checks, filled from the rendered manifest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PreflightRequest {
    /// Subscription ID.
    pub subscription_id: String,
    /// Region (`eastus`).
    pub location: String,
    /// The instance's resource group (it may not exist yet).
    pub resource_group: String,
    /// The instance's name.
    pub instance: String,
    /// Resource provider namespaces the templates use (`Microsoft.ContainerService`...).
    #[serde(default)]
    pub providers: Vec<String>,
    /// VM sizes and the most nodes of each the pools can reach (autoscale max), for quota.
    #[serde(default)]
    pub vm_demands: Vec<VmDemand>,
    /// The MySQL flexible server, if the instance has one.
    #[serde(default)]
    pub mysql: Option<MySqlDemand>,
    /// Globally unique names the instance takes.
    #[serde(default)]
    pub names: Vec<GlobalName>,
    /// Actions the caller must be allowed at the resource group (or the subscription while the
    /// group does not exist): `Microsoft.Resources/deployments/write`...
    #[serde(default)]
    pub actions: Vec<String>,
    /// The stages' deployment names, to find one already running.
    #[serde(default)]
    pub deployment_names: Vec<String>,
    /// Per stage: the deployment body for validate and what-if, when it renders before deploy.
    #[serde(default)]
    pub stages: Vec<StageCheck>,
}

/// A VM size the node pools use and how many nodes of it they can reach.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct VmDemand {
    /// `Standard_D2s_v5`.
    pub size: String,
    /// The most nodes of this size (autoscale maximum, or the fixed count).
    pub max_count: u32,
    /// Availability zones the pool spreads over (`1`, `2`, `3`); empty for none.
    #[serde(default)]
    pub zones: Vec<String>,
}

/// The MySQL flexible server the instance creates.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct MySqlDemand {
    /// SKU name (`Standard_B1ms`).
    pub sku: String,
    /// Tier, the capability's edition (`Burstable`, `GeneralPurpose`, `MemoryOptimized`).
    pub tier: String,
    /// Storage in GiB.
    pub storage_gb: u32,
    /// High-availability mode (`ZoneRedundant`, `SameZone`); none or `Disabled` for none.
    #[serde(default)]
    pub high_availability: Option<String>,
    /// Server version (`8.0.21`).
    pub version: String,
}

/// Which kind of globally unique name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum NameKind {
    /// A storage account.
    Storage,
    /// A Key Vault.
    KeyVault,
    /// A MySQL flexible server.
    MySql,
}

impl NameKind {
    /// The resource type the name is for.
    pub fn resource_type(self) -> &'static str {
        match self {
            NameKind::Storage => "Microsoft.Storage/storageAccounts",
            NameKind::KeyVault => "Microsoft.KeyVault/vaults",
            NameKind::MySql => "Microsoft.DBforMySQL/flexibleServers",
        }
    }

    /// In words.
    fn noun(self) -> &'static str {
        match self {
            NameKind::Storage => "storage account",
            NameKind::KeyVault => "Key Vault",
            NameKind::MySql => "MySQL server",
        }
    }
}

/// A globally unique name the instance takes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct GlobalName {
    /// What it names.
    pub kind: NameKind,
    /// The name.
    pub name: String,
}

/// A stage to validate and predict with Azure.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct StageCheck {
    /// Stage name.
    pub stage: String,
    /// Its deployment's name in Azure.
    pub deployment_name: String,
    /// The deployment body (`{properties: {template, parameters, mode}}`), when it renders
    /// before deploy.
    #[serde(default)]
    pub body: Option<Json>,
    /// Why there is no body (it needs another stage's outputs...).
    #[serde(default)]
    pub why_not: Option<String>,
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub enum CheckStatus {
    /// Nothing to do.
    Pass,
    /// Worth a look, does not block deploy (including a check that could not be made).
    Warn,
    /// Deploy would fail: fix it first.
    Fail,
    /// Not run, and why in the message.
    Skipped,
}

/// Something the front can do for the user, behind a button.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(tag = "kind", content = "args", rename_all = "camelCase")]
pub enum FixAction {
    /// Register these provider namespaces ([`register_providers`]).
    RegisterProviders(Vec<String>),
    /// Purge this soft-deleted Key Vault ([`purge_deleted_vault`]); its secrets are lost.
    #[serde(rename_all = "camelCase")]
    PurgeDeletedVault {
        /// The vault's name.
        name: String,
        /// The region it was in.
        location: String,
    },
}

/// What to do about a check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Fix {
    /// What to do, in plain words.
    pub message: String,
    /// Where to do it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// What the front can do at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<FixAction>,
    /// The quotas that are short, with the figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub quota: Vec<QuotaShortfall>,
}

impl Fix {
    fn new(message: impl Into<String>, link: Option<&str>) -> Self {
        Fix {
            message: message.into(),
            link: link.map(str::to_owned),
            action: None,
            quota: Vec::new(),
        }
    }
}

impl From<Remediation> for Fix {
    fn from(r: Remediation) -> Self {
        Fix {
            message: r.message,
            link: r.link,
            action: None,
            quota: r.quota.into_iter().collect(),
        }
    }
}

/// One resource in a what-if prediction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct WhatIfResource {
    /// Full resource ID.
    pub resource_id: String,
    /// `Microsoft.Storage/storageAccounts`.
    pub resource_type: String,
    /// Its name (`account/default` for a child).
    pub name: String,
    /// For a modification: the property paths that change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_properties: Vec<String>,
    /// For `Unsupported`: why Azure cannot predict it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsupported_reason: Option<String>,
}

/// The resources of one change type in a what-if prediction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct WhatIfGroup {
    /// `Create`, `Modify`, `Delete`, `Deploy`, `NoChange`, `Ignore`, `Unsupported`.
    pub change_type: String,
    /// How many.
    pub count: usize,
    /// Which.
    pub resources: Vec<WhatIfResource>,
}

/// One check's outcome.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Stable ID (`providers`, `quota`, `name:lfdemodata`, `whatIf:network`...).
    pub id: String,
    /// Shown to people.
    pub label: String,
    /// How it ended.
    pub status: CheckStatus,
    /// What was found, in plain words with the figures.
    pub message: String,
    /// What to do, for a failure or a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<Fix>,
    /// For a what-if check: the predicted changes grouped by change type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub what_if: Option<Vec<WhatIfGroup>>,
}

impl Check {
    fn new(id: impl Into<String>, label: impl Into<String>) -> Self {
        Check {
            id: id.into(),
            label: label.into(),
            status: CheckStatus::Pass,
            message: String::new(),
            fix: None,
            what_if: None,
        }
    }

    fn with(mut self, status: CheckStatus, message: impl Into<String>) -> Self {
        self.status = status;
        self.message = message.into();
        self
    }

    fn fix(mut self, fix: Fix) -> Self {
        self.fix = Some(fix);
        self
    }

    /// A warning that Azure could not be asked.
    fn not_checked(self, what: &str, report: &ErrorReport) -> Self {
        let message = match missing_registration(report) {
            Some(ns) => format!(
                "Could not check {what}: the subscription is not registered for {ns} yet (see the resource providers check)."
            ),
            None => format!("Could not check {what}: {}", report.message),
        };
        let fix = report.remediation.clone().map(Fix::from);
        let mut check = self.with(CheckStatus::Warn, message);
        check.fix = fix;
        check
    }
}

/// Every check's outcome, in a fixed order.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct PreflightReport {
    /// The checks.
    pub checks: Vec<Check>,
}

impl PreflightReport {
    /// True when no check failed: deploy may go ahead.
    pub fn passed(&self) -> bool {
        !self.checks.iter().any(|c| c.status == CheckStatus::Fail)
    }

    /// The provider namespaces to register when that is the only fix the failures need;
    /// `None` when nothing fails or another failure needs something else.
    pub fn providers_to_register(&self) -> Option<Vec<String>> {
        let mut namespaces = Vec::new();
        for check in self.failures() {
            match check.fix.as_ref().and_then(|f| f.action.as_ref()) {
                Some(FixAction::RegisterProviders(n)) => namespaces.extend(n.iter().cloned()),
                _ => return None,
            }
        }
        (!namespaces.is_empty()).then_some(namespaces)
    }

    /// The failed checks.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.status == CheckStatus::Fail)
    }

    /// A check by ID.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The failed checks' messages in one line, for [`EngineError::Preflight`].
    pub fn summary(&self) -> String {
        self.failures()
            .map(|c| format!("{}: {}", c.label, c.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Registers provider namespaces and waits until each is `Registered`, all at once.
pub async fn register_providers(
    arm: &Arm<'_>,
    subscription_id: &str,
    namespaces: &[String],
) -> Result<Vec<Provider>, EngineError> {
    join_all(
        namespaces
            .iter()
            .map(|ns| arm.register_provider_and_wait(subscription_id, ns)),
    )
    .await
    .into_iter()
    .map(|r| r.map_err(EngineError::from))
    .collect()
}

/// Purges a soft-deleted Key Vault (its keys and secrets are gone for good) and waits for it.
pub async fn purge_deleted_vault(
    arm: &Arm<'_>,
    subscription_id: &str,
    location: &str,
    name: &str,
) -> Result<(), EngineError> {
    arm.begin_purge_deleted_vault(subscription_id, location, name)
        .await?
        .wait()
        .await?;
    Ok(())
}

/// What several checks need, fetched once by whichever check asks first.
struct Context<'a, 'c> {
    arm: &'a Arm<'c>,
    req: &'a PreflightRequest,
    group_exists: OnceCell<Result<bool, ErrorReport>>,
    group_resources: OnceCell<Result<Vec<GenericResource>, ErrorReport>>,
    deleted_vaults: OnceCell<Result<Vec<DeletedVault>, ErrorReport>>,
}

impl Context<'_, '_> {
    fn sub(&self) -> &str {
        &self.req.subscription_id
    }

    fn group(&self) -> &str {
        &self.req.resource_group
    }

    fn scope(&self) -> DeploymentScope {
        DeploymentScope::group(self.sub(), self.group())
    }

    async fn group_exists(&self) -> Result<bool, ErrorReport> {
        self.group_exists
            .get_or_init(|| async {
                self.arm
                    .resource_group_exists(self.sub(), self.group())
                    .await
                    .map_err(|e| e.report())
            })
            .await
            .clone()
    }

    /// The resources already in the group (none while it does not exist).
    async fn group_resources(&self) -> Result<&[GenericResource], ErrorReport> {
        let r = self
            .group_resources
            .get_or_init(|| async {
                if !self.group_exists().await? {
                    return Ok(Vec::new());
                }
                self.arm
                    .list_resources_in_group(self.sub(), self.group())
                    .await
                    .map_err(|e| e.report())
            })
            .await;
        r.as_deref().map_err(Clone::clone)
    }

    async fn deleted_vaults(&self) -> Result<&[DeletedVault], ErrorReport> {
        let r = self
            .deleted_vaults
            .get_or_init(|| async {
                self.arm
                    .list_deleted_vaults(self.sub())
                    .await
                    .map_err(|e| e.report())
            })
            .await;
        r.as_deref().map_err(Clone::clone)
    }
}

/// Runs every check: the independent ones in parallel, then (when none of them failed)
/// Azure's validate and what-if of every stage with a body, in parallel.
pub async fn preflight(arm: &Arm<'_>, request: &PreflightRequest) -> PreflightReport {
    let ctx = Context {
        arm,
        req: request,
        group_exists: OnceCell::new(),
        group_resources: OnceCell::new(),
        deleted_vaults: OnceCell::new(),
    };
    // Boxed so the joined future holds six pointers, not six HTTP call chains inline
    // (clippy::large_futures).
    let (providers, permissions, (quota, sizes), mysql, names, running) = tokio::join!(
        Box::pin(providers_check(&ctx)),
        Box::pin(permissions_check(&ctx)),
        Box::pin(compute_checks(&ctx)),
        Box::pin(mysql_check(&ctx)),
        Box::pin(join_all(request.names.iter().map(|n| name_check(&ctx, n)))),
        Box::pin(running_check(&ctx)),
    );
    let mut checks = vec![providers, permissions, quota, sizes, mysql];
    checks.extend(names);
    checks.push(running);
    let blocked = checks.iter().any(|c| c.status == CheckStatus::Fail);
    let stages = join_all(
        request
            .stages
            .iter()
            .map(|s| stage_checks(&ctx, s, blocked)),
    )
    .await;
    checks.extend(stages.into_iter().flatten());
    PreflightReport { checks }
}

/// The namespace a `MissingSubscriptionRegistration` error names, if that is the error.
fn missing_registration(report: &ErrorReport) -> Option<String> {
    let node = report
        .details
        .as_ref()?
        .find_code("MissingSubscriptionRegistration")?;
    Some(
        node.target
            .clone()
            .or_else(|| node.message.split('\'').nth(1).map(str::to_owned))
            .unwrap_or_else(|| "a resource provider".to_owned()),
    )
}

/// `a, b and c`.
fn list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Lower case without spaces, as regions are compared (`East US` = `eastus`).
fn region_key(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Namespaces without duplicates (any case) or blanks, in the order given.
fn unique(items: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for i in items.iter().map(|s| s.trim()).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(i)) {
            out.push(i.to_owned());
        }
    }
    out
}

async fn providers_check(ctx: &Context<'_, '_>) -> Check {
    let check = Check::new("providers", "Resource providers registered");
    let namespaces = unique(&ctx.req.providers);
    if namespaces.is_empty() {
        return check.with(
            CheckStatus::Skipped,
            "The templates use no resource provider.",
        );
    }
    let results = join_all(
        namespaces
            .iter()
            .map(|ns| ctx.arm.get_provider(ctx.sub(), ns)),
    )
    .await;
    let (mut missing, mut registering, mut unknown, mut unchecked) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (ns, result) in namespaces.iter().zip(results) {
        match result {
            Ok(p) if p.is_registered() => {}
            Ok(p) if p.registration_state.eq_ignore_ascii_case("Registering") => {
                registering.push(ns.clone());
            }
            Ok(p) => missing.push((ns.clone(), p.registration_state)),
            Err(AzureError::Http { status: 404, .. }) => unknown.push(ns.clone()),
            Err(e) => unchecked.push((ns.clone(), e.report())),
        }
    }
    let to_register: Vec<String> = missing.iter().map(|(ns, _)| ns.clone()).collect();
    let mut parts = Vec::new();
    if !missing.is_empty() {
        let states: Vec<String> = missing
            .iter()
            .map(|(ns, state)| format!("{ns} ({state})"))
            .collect();
        parts.push(format!(
            "The subscription is not registered for {}.",
            list(&states)
        ));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "Azure does not know {} in this subscription's cloud.",
            list(&unknown)
        ));
    }
    if !registering.is_empty() {
        parts.push(format!(
            "{} {} still registering; it usually takes a minute or two.",
            list(&registering),
            if registering.len() == 1 { "is" } else { "are" }
        ));
    }
    for (ns, report) in &unchecked {
        parts.push(format!("Could not check {ns}: {}", report.message));
    }
    if !to_register.is_empty() {
        let message = format!(
            "Register {} in the subscription (it takes a minute or two and needs the */register/action permission, which Contributor and Owner have).",
            list(&to_register)
        );
        return check.with(CheckStatus::Fail, parts.join(" ")).fix(Fix {
            action: Some(FixAction::RegisterProviders(to_register)),
            ..Fix::new(message, Some(PROVIDERS_LINK))
        });
    }
    if !unknown.is_empty() {
        return check.with(CheckStatus::Fail, parts.join(" ")).fix(Fix::new(
            "This cloud does not offer a service the instance needs; deploy to another cloud or ask the vendor for a bundle without it.",
            None,
        ));
    }
    if !parts.is_empty() {
        let fix = unchecked
            .into_iter()
            .find_map(|(_, r)| r.remediation)
            .map(Fix::from);
        let mut c = check.with(CheckStatus::Warn, parts.join(" "));
        c.fix = fix;
        return c;
    }
    check.with(
        CheckStatus::Pass,
        format!("{} registered.", list(&namespaces)),
    )
}

async fn permissions_check(ctx: &Context<'_, '_>) -> Check {
    let check = Check::new("permissions", "Permissions at the target");
    let exists = match ctx.group_exists().await {
        Ok(e) => e,
        Err(r) => return check.not_checked("your permissions", &r),
    };
    let mut actions = unique(&ctx.req.actions);
    let (scope, scope_words) = if exists {
        (
            DeploymentScope::group(ctx.sub(), ctx.group()).path(),
            format!("the resource group {}", ctx.group()),
        )
    } else {
        if !actions.iter().any(|a| a.eq_ignore_ascii_case(GROUPS_WRITE)) {
            actions.push(GROUPS_WRITE.to_owned());
        }
        (
            DeploymentScope::subscription(ctx.sub()).path(),
            format!(
                "the subscription (the resource group {} does not exist yet)",
                ctx.group()
            ),
        )
    };
    let permissions = match ctx.arm.list_permissions(&scope).await {
        Ok(p) => p,
        Err(e) => return check.not_checked("your permissions", &e.report()),
    };
    let missing: Vec<String> = actions
        .iter()
        .filter(|a| !can(a, &permissions))
        .cloned()
        .collect();
    if missing.is_empty() {
        return check.with(
            CheckStatus::Pass,
            format!(
                "You may do all {} actions the install needs at {scope_words}.",
                actions.len()
            ),
        );
    }
    let role_assignments = missing
        .iter()
        .any(|a| a.eq_ignore_ascii_case(ROLE_ASSIGNMENTS_WRITE));
    let named: Vec<String> = missing
        .iter()
        .map(|a| {
            if a.eq_ignore_ascii_case(ROLE_ASSIGNMENTS_WRITE) {
                format!("{a} (the cluster's pull access to the registry needs it)")
            } else {
                a.clone()
            }
        })
        .collect();
    let message = format!(
        "You are missing {} at {scope_words}: {}.",
        if missing.len() == 1 {
            "1 permission".to_owned()
        } else {
            format!("{} permissions", missing.len())
        },
        list(&named)
    );
    let target = if exists {
        format!("the resource group {}", ctx.group())
    } else {
        "the subscription".to_owned()
    };
    let fix = if role_assignments {
        format!(
            "Ask an administrator for Owner, or Contributor plus User Access Administrator, on {target}: assigning the cluster's pull access to the registry needs Microsoft.Authorization/roleAssignments/write."
        )
    } else {
        format!("Ask an administrator for Contributor (or Owner) on {target}.")
    };
    check
        .with(CheckStatus::Fail, message)
        .fix(Fix::new(fix, Some(ROLES_LINK)))
}

/// A VM size's quota family and vCPUs, from its resource SKU.
struct SizeInfo<'s> {
    sku: &'s ResourceSku,
    family: String,
    vcpus: i64,
}

fn find_size<'s>(skus: &'s [ResourceSku], size: &str, location: &str) -> Option<SizeInfo<'s>> {
    let loc = region_key(location);
    let sku = skus.iter().find(|s| {
        s.resource_type.eq_ignore_ascii_case("virtualMachines")
            && s.name.eq_ignore_ascii_case(size)
            && (s.locations.is_empty() || s.locations.iter().any(|l| region_key(l) == loc))
    })?;
    Some(SizeInfo {
        sku,
        family: sku.family.clone().unwrap_or_default(),
        vcpus: sku
            .capability("vCPUs")
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0),
    })
}

/// The quota check and the VM size check, sharing the region's SKUs.
async fn compute_checks(ctx: &Context<'_, '_>) -> (Check, Check) {
    let quota = Check::new("quota", "Regional vCPU quota");
    let sizes = Check::new("vmSizes", "VM sizes in the region");
    let demands: Vec<&VmDemand> = ctx
        .req
        .vm_demands
        .iter()
        .filter(|d| d.max_count > 0 && !d.size.trim().is_empty())
        .collect();
    if demands.is_empty() {
        let words = "The instance runs no virtual machines.";
        return (
            quota.with(CheckStatus::Skipped, words),
            sizes.with(CheckStatus::Skipped, words),
        );
    }
    let location = ctx.req.location.as_str();
    let (skus, usages) = tokio::join!(
        ctx.arm.list_resource_skus(ctx.sub(), Some(location)),
        ctx.arm.list_compute_usages(ctx.sub(), location),
    );
    let skus = match skus {
        Ok(s) => s,
        Err(e) => {
            let r = e.report();
            return (
                quota.not_checked("the vCPU quota", &r),
                sizes.not_checked("the VM sizes", &r),
            );
        }
    };
    let sizes = sizes_check(sizes, &skus, &demands, location);
    let quota = match usages {
        Ok(u) => quota_check(quota, &skus, &u, &demands, location),
        Err(e) => quota.not_checked("the vCPU quota", &e.report()),
    };
    (quota, sizes)
}

/// What a quota is asked for: its name, what it is for, the vCPUs.
struct QuotaDemand {
    name: String,
    what: String,
    vcpus: i64,
}

fn quota_check(
    check: Check,
    skus: &[ResourceSku],
    usages: &[Usage],
    demands: &[&VmDemand],
    location: &str,
) -> Check {
    let mut by_family: BTreeMap<String, QuotaDemand> = BTreeMap::new();
    let mut uncounted = Vec::new();
    let mut total = 0i64;
    for d in demands {
        let Some(info) = find_size(skus, &d.size, location).filter(|i| i.vcpus > 0) else {
            uncounted.push(d.size.clone());
            continue;
        };
        let vcpus = info.vcpus.saturating_mul(i64::from(d.max_count));
        total = total.saturating_add(vcpus);
        let e = by_family
            .entry(info.family.to_ascii_lowercase())
            .or_insert_with(|| QuotaDemand {
                name: info.family.clone(),
                what: String::new(),
                vcpus: 0,
            });
        e.vcpus = e.vcpus.saturating_add(vcpus);
        if !e.what.is_empty() {
            e.what.push_str(" + ");
        }
        let _ = write!(
            e.what,
            "{} x {} with {} vCPUs",
            d.max_count, info.sku.name, info.vcpus
        );
    }
    let mut wanted: Vec<QuotaDemand> = by_family.into_values().collect();
    if total > 0 {
        wanted.push(QuotaDemand {
            name: "cores".to_owned(),
            what: "every VM size together".to_owned(),
            vcpus: total,
        });
    }
    let (mut short, mut fine, mut unknown) = (Vec::new(), Vec::new(), Vec::new());
    for w in &wanted {
        let Some(u) = usages
            .iter()
            .find(|u| u.name.value.eq_ignore_ascii_case(&w.name))
        else {
            unknown.push(w.name.clone());
            continue;
        };
        let label = u
            .name
            .localized_value
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| w.name.clone());
        let free = u.available().max(0);
        if w.vcpus > free {
            let more = w.vcpus - free;
            short.push((
                format!(
                    "{label}: the node pools need up to {} ({}), {free} of {} are free ({} in use), so {more} more {} needed",
                    w.vcpus,
                    w.what,
                    u.limit,
                    u.current_value,
                    if more == 1 { "is" } else { "are" }
                ),
                QuotaShortfall {
                    quota: label.clone(),
                    location: Some(location.to_owned()),
                    limit: Some(u.limit),
                    current_usage: Some(u.current_value),
                    additional_required: Some(more),
                    new_limit_required: Some(u.current_value.saturating_add(w.vcpus)),
                },
            ));
        } else {
            fine.push(format!(
                "{label}: {} needed, {free} of {} free",
                w.vcpus, u.limit
            ));
        }
    }
    if !short.is_empty() {
        let message = format!(
            "Not enough vCPU quota in {location}. {}.",
            short
                .iter()
                .map(|(m, _)| m.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        let asks: Vec<String> = short
            .iter()
            .map(|(_, q)| {
                format!(
                    "{} to at least {} ({} more)",
                    q.quota,
                    q.new_limit_required.unwrap_or_default(),
                    q.additional_required.unwrap_or_default()
                )
            })
            .collect();
        let fix = Fix {
            quota: short.into_iter().map(|(_, q)| q).collect(),
            ..Fix::new(
                format!(
                    "Ask Azure for more vCPU quota in {location}: {}. Or choose a smaller VM size or fewer nodes.",
                    list(&asks)
                ),
                Some(QUOTA_LINK),
            )
        };
        return check.with(CheckStatus::Fail, message).fix(fix);
    }
    let mut message = format!("Enough vCPU quota in {location}: {}.", fine.join("; "));
    if unknown.is_empty() && uncounted.is_empty() {
        return check.with(CheckStatus::Pass, message);
    }
    if !unknown.is_empty() {
        let _ = write!(
            message,
            " Azure lists no quota named {}, so it could not be checked.",
            list(&unknown)
        );
    }
    if !uncounted.is_empty() {
        let _ = write!(
            message,
            " {} could not be counted: the region does not list {}.",
            list(&uncounted),
            if uncounted.len() == 1 { "it" } else { "them" }
        );
    }
    check.with(CheckStatus::Warn, message).fix(Fix::new(
        "Check the quota in the portal before deploying.",
        Some(QUOTA_LINK),
    ))
}

/// Zones a SKU is offered in, in the region.
fn sku_zones(sku: &ResourceSku, location: &str) -> Vec<String> {
    let loc = region_key(location);
    sku.location_info
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| {
            i.get("location")
                .and_then(Json::as_str)
                .is_some_and(|l| region_key(l) == loc)
        })
        .flat_map(|i| {
            i.get("zones")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(str::to_owned)
        })
        .collect()
}

/// What keeps a size from the region or from some of the zones asked for, if anything.
fn restricted(sku: &ResourceSku, location: &str, zones: &[String]) -> Option<String> {
    let loc = region_key(location);
    let strings = |v: Option<&Json>| -> Vec<String> {
        v.and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(str::to_owned)
            .collect()
    };
    for r in sku.restrictions.as_array().into_iter().flatten() {
        let kind = r.get("type").and_then(Json::as_str).unwrap_or_default();
        let reason = r
            .get("reasonCode")
            .and_then(Json::as_str)
            .unwrap_or("restricted");
        let info = r.get("restrictionInfo");
        let mut locations = strings(info.and_then(|i| i.get("locations")));
        locations.extend(strings(r.get("values")));
        if !locations.iter().any(|l| region_key(l) == loc) {
            continue;
        }
        if kind.eq_ignore_ascii_case("Location") {
            return Some(format!(
                "{} is not available to this subscription in {location} ({reason})",
                sku.name
            ));
        }
        if kind.eq_ignore_ascii_case("Zone") {
            let blocked: Vec<String> = strings(info.and_then(|i| i.get("zones")))
                .into_iter()
                .filter(|z| zones.contains(z))
                .collect();
            if !blocked.is_empty() {
                return Some(format!(
                    "{} is not available to this subscription in {} of {location} ({reason})",
                    sku.name,
                    zone_words(&blocked)
                ));
            }
        }
    }
    None
}

fn zone_words(zones: &[String]) -> String {
    format!(
        "{} {}",
        if zones.len() == 1 { "zone" } else { "zones" },
        list(zones)
    )
}

fn sizes_check(check: Check, skus: &[ResourceSku], demands: &[&VmDemand], location: &str) -> Check {
    let mut problems = Vec::new();
    let mut fine = Vec::new();
    let mut seen: Vec<(String, Vec<String>)> = Vec::new();
    for d in demands {
        let key = (d.size.to_ascii_lowercase(), d.zones.clone());
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let Some(info) = find_size(skus, &d.size, location) else {
            problems.push(format!("{} is not offered in {location}", d.size));
            continue;
        };
        if let Some(why) = restricted(info.sku, location, &d.zones) {
            problems.push(why);
            continue;
        }
        let offered = sku_zones(info.sku, location);
        let absent: Vec<String> = d
            .zones
            .iter()
            .filter(|z| !offered.contains(z))
            .cloned()
            .collect();
        if !absent.is_empty() {
            problems.push(if offered.is_empty() {
                format!(
                    "{} has no availability zones in {location}, but the pool asks for {}",
                    info.sku.name,
                    zone_words(&d.zones)
                )
            } else {
                format!(
                    "{} is not offered in {} of {location} (only {})",
                    info.sku.name,
                    zone_words(&absent),
                    zone_words(&offered)
                )
            });
            continue;
        }
        fine.push(if d.zones.is_empty() {
            info.sku.name.clone()
        } else {
            format!("{} in {}", info.sku.name, zone_words(&d.zones))
        });
    }
    if problems.is_empty() {
        return check.with(
            CheckStatus::Pass,
            format!("{} available in {location}.", list(&fine)),
        );
    }
    check
        .with(CheckStatus::Fail, format!("{}.", problems.join("; ")))
        .fix(Fix::new(
            format!(
                "Choose another VM size, other zones or another region, or ask Azure support to enable the size in {location} for your subscription."
            ),
            Some(SKU_LINK),
        ))
}

async fn mysql_check(ctx: &Context<'_, '_>) -> Check {
    let check = Check::new("mysql", "MySQL in the region");
    let Some(want) = &ctx.req.mysql else {
        return check.with(CheckStatus::Skipped, "The instance has no MySQL server.");
    };
    let location = ctx.req.location.as_str();
    // Read raw: ARM spells the HA modes `supportedHAMode`, which `MySqlCapability` (camelCase
    // `supportedHaMode`) does not pick up.
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.DBforMySQL/locations/{location}/capabilities",
        ctx.sub()
    );
    match ctx.arm.list_all::<Json>(&path, MYSQL_API).await {
        Ok(caps) => mysql_verdict(check, &caps, want, location),
        Err(e) => check.not_checked("MySQL in the region", &e.report()),
    }
}

/// The objects of a JSON array field.
fn items<'j>(v: &'j Json, key: &str) -> impl Iterator<Item = &'j Json> {
    v.get(key).and_then(Json::as_array).into_iter().flatten()
}

fn name_of(v: &Json) -> &str {
    v.get("name").and_then(Json::as_str).unwrap_or_default()
}

/// The strings of a JSON array field, the key matched in any case.
fn strings_at(v: &Json, key: &str) -> Vec<String> {
    v.as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
        .and_then(|(_, v)| v.as_array())
        .into_iter()
        .flatten()
        .filter_map(Json::as_str)
        .map(str::to_owned)
        .collect()
}

fn mysql_verdict(check: Check, caps: &[Json], want: &MySqlDemand, location: &str) -> Check {
    // The `none` entry describes the region without pinning a zone; older answers have one
    // entry without a zone.
    let Some(cap) = caps
        .iter()
        .find(|c| {
            c.get("zone")
                .and_then(Json::as_str)
                .is_none_or(|z| z.eq_ignore_ascii_case("none"))
        })
        .or(caps.first())
    else {
        return check
            .with(
                CheckStatus::Fail,
                format!("Azure Database for MySQL flexible servers are not offered in {location}."),
            )
            .fix(Fix::new("Choose another region.", None));
    };
    let fail = |message: String, fix: &str| {
        check
            .clone()
            .with(CheckStatus::Fail, message)
            .fix(Fix::new(fix, None))
    };
    let editions: Vec<&Json> = items(cap, "supportedFlexibleServerEditions").collect();
    let names = |v: Vec<&Json>| -> String {
        list(
            &v.into_iter()
                .map(|e| name_of(e).to_owned())
                .collect::<Vec<_>>(),
        )
    };
    let Some(edition) = editions
        .iter()
        .find(|e| name_of(e).eq_ignore_ascii_case(&want.tier))
    else {
        return fail(
            format!(
                "The {} tier is not offered in {location} (offered: {}).",
                want.tier,
                names(editions.clone())
            ),
            "Choose another database tier or region.",
        );
    };
    let versions: Vec<&Json> = items(edition, "supportedServerVersions").collect();
    let version_matches = |v: &Json| {
        let n = name_of(v);
        n.eq_ignore_ascii_case(&want.version) || n.starts_with(&format!("{}.", want.version))
    };
    let Some(version) = versions.iter().find(|v| version_matches(v)) else {
        return fail(
            format!(
                "MySQL {} is not offered in the {} tier in {location} (offered: {}).",
                want.version,
                want.tier,
                names(versions.clone())
            ),
            "Choose another MySQL version.",
        );
    };
    let skus: Vec<&Json> = items(version, "supportedSkus").collect();
    if !skus
        .iter()
        .any(|s| name_of(s).eq_ignore_ascii_case(&want.sku))
    {
        let elsewhere = editions
            .iter()
            .find(|e| {
                items(e, "supportedServerVersions")
                    .flat_map(|v| items(v, "supportedSkus"))
                    .any(|s| name_of(s).eq_ignore_ascii_case(&want.sku))
            })
            .map(|e| name_of(e).to_owned());
        let message = match elsewhere {
            Some(tier) => format!("{} is a {tier} SKU, not a {} one.", want.sku, want.tier),
            None => format!(
                "{} is not offered for MySQL {} in the {} tier in {location} (offered: {}).",
                want.sku,
                name_of(version),
                want.tier,
                names(skus.clone())
            ),
        };
        return fail(message, "Choose another database size.");
    }
    let storage_mb = u64::from(want.storage_gb).saturating_mul(1024);
    let range = items(edition, "supportedStorageEditions").find_map(|s| {
        let min = s.get("minStorageSize").and_then(Json::as_u64)?;
        let max = s.get("maxStorageSize").and_then(Json::as_u64)?;
        Some((min, max))
    });
    if let Some((min, max)) = range
        && !(min..=max).contains(&storage_mb)
    {
        return fail(
            format!(
                "{} GiB of storage is outside what the {} tier offers in {location}: {} to {} GiB.",
                want.storage_gb,
                want.tier,
                min / 1024,
                max / 1024
            ),
            "Choose a storage size in that range.",
        );
    }
    let ha = want
        .high_availability
        .as_deref()
        .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case("Disabled"));
    if let Some(mode) = ha {
        if want.tier.eq_ignore_ascii_case("Burstable") {
            return fail(
                format!(
                    "High availability is not offered in the Burstable tier (asked for {mode})."
                ),
                "Choose the General Purpose or Memory Optimized tier, or turn high availability off.",
            );
        }
        let modes = strings_at(cap, "supportedHAMode");
        if !modes.iter().any(|m| m.eq_ignore_ascii_case(mode)) {
            return fail(
                format!(
                    "{mode} high availability is not offered in {location} (offered: {}).",
                    if modes.is_empty() {
                        "none".to_owned()
                    } else {
                        list(&modes)
                    }
                ),
                "Choose another high-availability mode or region.",
            );
        }
    }
    check.with(
        CheckStatus::Pass,
        format!(
            "{} ({}) with MySQL {}, {} GiB{} is offered in {location}.",
            want.sku,
            want.tier,
            name_of(version),
            want.storage_gb,
            ha.map(|m| format!(" and {m} high availability"))
                .unwrap_or_default()
        ),
    )
}

async fn name_check(ctx: &Context<'_, '_>, name: &GlobalName) -> Check {
    let check = Check::new(
        format!("name:{}", name.name),
        format!("Name {} ({})", name.name, name.kind.noun()),
    );
    let what = format!("whether the name {} is free", name.name);
    if name.kind == NameKind::KeyVault {
        match ctx.deleted_vaults().await {
            Ok(vaults) => {
                if let Some(v) = vaults
                    .iter()
                    .find(|v| v.name.eq_ignore_ascii_case(&name.name))
                {
                    return deleted_vault_check(check, v);
                }
            }
            Err(r) => return check.not_checked(&what, &r),
        }
    }
    let sub = ctx.sub();
    let answer = match name.kind {
        NameKind::Storage => ctx.arm.check_storage_name(sub, &name.name).await,
        NameKind::KeyVault => ctx.arm.check_key_vault_name(sub, &name.name).await,
        NameKind::MySql => {
            ctx.arm
                .check_mysql_name(sub, Some(&ctx.req.location), &name.name)
                .await
        }
    };
    let answer: NameAvailability = match answer {
        Ok(a) => a,
        Err(e) => return check.not_checked(&what, &e.report()),
    };
    if answer.name_available {
        return check.with(CheckStatus::Pass, format!("{} is free.", name.name));
    }
    let reason = answer.reason.clone().unwrap_or_default();
    let azure = answer
        .message
        .clone()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| reason.clone());
    if reason.eq_ignore_ascii_case("AlreadyExists") {
        // A re-run or an update finds its own resource under the name.
        match ctx.group_resources().await {
            Ok(resources) => {
                let ours = resources.iter().any(|r| {
                    r.kind.eq_ignore_ascii_case(name.kind.resource_type())
                        && r.name.eq_ignore_ascii_case(&name.name)
                });
                if ours {
                    return check.with(
                        CheckStatus::Pass,
                        format!(
                            "{} is already this instance's, in the resource group {}.",
                            name.name,
                            ctx.group()
                        ),
                    );
                }
            }
            Err(r) => return check.not_checked(&format!("who holds the name {}", name.name), &r),
        }
        return check
            .with(
                CheckStatus::Fail,
                format!(
                    "The {} name {} is already taken in Azure: {azure}",
                    name.kind.noun(),
                    name.name
                ),
            )
            .fix(Fix::new(
                format!(
                    "{} names are unique across all of Azure. Choose another instance name (this name derives from it).",
                    capitalised(name.kind.noun())
                ),
                None,
            ));
    }
    check
        .with(
            CheckStatus::Fail,
            format!(
                "{} is not a valid {} name: {azure}",
                name.name,
                name.kind.noun()
            ),
        )
        .fix(Fix::new(
            "Choose another instance name (this name derives from it).",
            None,
        ))
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

fn deleted_vault_check(check: Check, v: &DeletedVault) -> Check {
    let location = v.location().unwrap_or_default().to_owned();
    let purge_date = v
        .properties
        .get("scheduledPurgeDate")
        .and_then(Json::as_str)
        .map(|d| d.get(..10).unwrap_or(d).to_owned());
    let until = purge_date
        .as_deref()
        .map(|d| format!(" until {d}"))
        .unwrap_or_default();
    if v.purge_protected() {
        return check
            .with(
                CheckStatus::Fail,
                format!(
                    "A deleted Key Vault named {} is kept for recovery in {location}{until} with purge protection on, so the name cannot be used before then.",
                    v.name
                ),
            )
            .fix(Fix::new(
                "Purge protection cannot be overridden: choose another instance name (the vault's name derives from it).",
                Some(VAULT_LINK),
            ));
    }
    check
        .with(
            CheckStatus::Fail,
            format!(
                "A deleted Key Vault named {} is kept for recovery in {location}{until}, and it holds the name.",
                v.name
            ),
        )
        .fix(Fix {
            action: Some(FixAction::PurgeDeletedVault {
                name: v.name.clone(),
                location,
            }),
            ..Fix::new(
                "Purge the deleted vault (its keys and secrets are gone for good), or choose another instance name.",
                Some(VAULT_LINK),
            )
        })
}

/// Deployment states after which nothing more happens.
fn is_terminal(state: &str) -> bool {
    ["Succeeded", "Failed", "Canceled", "Cancelled"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(state))
}

async fn running_check(ctx: &Context<'_, '_>) -> Check {
    let check = Check::new(
        "runningDeployment",
        "No deployment of this instance running",
    );
    let names = unique(&ctx.req.deployment_names);
    if names.is_empty() {
        return check.with(
            CheckStatus::Skipped,
            "The instance has no stage deployments.",
        );
    }
    match ctx.group_exists().await {
        Ok(true) => {}
        Ok(false) => {
            return check.with(
                CheckStatus::Pass,
                format!(
                    "Nothing is running: the resource group {} does not exist yet.",
                    ctx.group()
                ),
            );
        }
        Err(r) => return check.not_checked("for a running deployment", &r),
    }
    let scope = ctx.scope();
    let found = join_all(names.iter().map(|n| ctx.arm.get_deployment(&scope, n))).await;
    let mut running = Vec::new();
    for (name, result) in names.iter().zip(found) {
        match result {
            Ok(d) if !is_terminal(&d.properties.provisioning_state) => running.push(format!(
                "{name} ({}{})",
                d.properties.provisioning_state,
                d.properties
                    .timestamp
                    .as_deref()
                    .map(|t| format!(", last change {}", t.get(..19).unwrap_or(t)))
                    .unwrap_or_default()
            )),
            Ok(_) | Err(AzureError::Http { status: 404, .. }) => {}
            Err(e) => return check.not_checked("for a running deployment", &e.report()),
        }
    }
    if running.is_empty() {
        return check.with(
            CheckStatus::Pass,
            format!(
                "No deployment of {} is running in {}.",
                ctx.req.instance,
                ctx.group()
            ),
        );
    }
    check
        .with(
            CheckStatus::Fail,
            format!(
                "{} of {} {} still running in {}: {}.",
                if running.len() == 1 {
                    "A deployment"
                } else {
                    "Deployments"
                },
                ctx.req.instance,
                if running.len() == 1 { "is" } else { "are" },
                ctx.group(),
                list(&running)
            ),
        )
        .fix(Fix::new(
            "Resume that run instead of starting a new one (landfall resume, or Instances > Resume), or wait for it to finish or cancel it in Azure.",
            None,
        ))
}

/// Validate and what-if of one stage.
async fn stage_checks(ctx: &Context<'_, '_>, stage: &StageCheck, blocked: bool) -> Vec<Check> {
    let validate = Check::new(
        format!("validate:{}", stage.stage),
        format!("Azure validation of {}", stage.stage),
    );
    let what_if = Check::new(
        format!("whatIf:{}", stage.stage),
        format!("What-if of {}", stage.stage),
    );
    let skip = |why: String| {
        vec![
            validate.clone().with(CheckStatus::Skipped, why.clone()),
            what_if.clone().with(CheckStatus::Skipped, why),
        ]
    };
    let Some(body) = &stage.body else {
        return skip(format!(
            "Azure checks this stage when it is deployed: {}",
            stage
                .why_not
                .clone()
                .unwrap_or_else(|| "its parameters are known only then.".to_owned())
        ));
    };
    if blocked {
        return skip(
            "Not run until the failing checks above are fixed (Azure's validation would stop at them)."
                .to_owned(),
        );
    }
    match ctx.group_exists().await {
        Ok(true) => {}
        Ok(false) => {
            return skip(format!(
                "The resource group {} does not exist yet; Azure checks this stage when it is deployed.",
                ctx.group()
            ));
        }
        Err(r) => {
            return vec![
                validate.not_checked("the stage with Azure", &r),
                what_if.not_checked("what the stage changes", &r),
            ];
        }
    }
    let scope = ctx.scope();
    let name = stage.deployment_name.as_str();
    let (v, w) = tokio::join!(ctx.arm.validate_deployment(&scope, name, body), async {
        ctx.arm
            .begin_what_if(&scope, name, body)
            .await?
            .wait()
            .await
    },);
    let validate = match v {
        Ok(Validation::Valid(r)) => {
            let n = r
                .properties
                .validated_resources
                .as_array()
                .map_or(0, Vec::len);
            validate.with(
                CheckStatus::Pass,
                format!(
                    "Azure accepts the stage {} ({n} resource{}).",
                    stage.stage,
                    if n == 1 { "" } else { "s" }
                ),
            )
        }
        Ok(Validation::Invalid(detail)) => rejected(validate, &stage.stage, *detail),
        Err(e) => match rejection(&e) {
            Some(detail) => rejected(validate, &stage.stage, detail),
            None => validate.not_checked("the stage with Azure", &e.report()),
        },
    };
    let what_if = match w.and_then(WhatIfResponse::from_result) {
        Ok(r) => match r
            .error
            .filter(|e| !e.code.is_empty() || !e.message.is_empty())
        {
            Some(detail) => rejected(what_if, &stage.stage, detail),
            None => summarise(what_if, &stage.stage, &r.properties.changes),
        },
        Err(e) => match rejection(&e) {
            Some(detail) => rejected(what_if, &stage.stage, detail),
            None => what_if.not_checked("what the stage changes", &e.report()),
        },
    };
    vec![validate, what_if]
}

/// The error tree when Azure rejected the request itself (a 4xx other than throttling, or an
/// operation that ended failed), as opposed to not answering.
fn rejection(e: &AzureError) -> Option<ArmErrorDetail> {
    match e {
        AzureError::Http { status, detail, .. }
            if (400..500).contains(status) && ![401, 403, 408, 429].contains(status) =>
        {
            detail.as_deref().cloned()
        }
        AzureError::OperationFailed { detail, .. } => detail.as_deref().cloned(),
        _ => None,
    }
}

/// Every root cause of an error tree, `code: message`, once each.
fn root_causes(detail: &ArmErrorDetail) -> String {
    let mut out: Vec<String> = Vec::new();
    for d in detail.root_causes() {
        let line = match (d.code.is_empty(), d.message.is_empty()) {
            (false, false) => format!("{}: {}", d.code, d.message),
            (true, false) => d.message.clone(),
            _ => d.code.clone(),
        };
        if !line.is_empty() && !out.contains(&line) {
            out.push(line);
        }
    }
    if out.is_empty() {
        detail.summary()
    } else {
        out.join("; ")
    }
}

fn rejected(check: Check, stage: &str, detail: ArmErrorDetail) -> Check {
    let message = format!("Azure rejects the stage {stage}: {}", root_causes(&detail));
    let fix = operation_report(stage, "Failed", detail)
        .remediation
        .map(Fix::from)
        .unwrap_or_else(|| {
            Fix::new(
                "Change the inputs this error names, or send the support bundle to the vendor if the template itself is at fault.",
                None,
            )
        });
    check.with(CheckStatus::Fail, message).fix(fix)
}

/// Change types in the order people read them, with their words.
const CHANGE_TYPES: &[(&str, &str)] = &[
    ("Create", "to create"),
    ("Modify", "to modify"),
    ("Delete", "to delete"),
    ("Deploy", "to redeploy"),
    ("NoChange", "unchanged"),
    ("Ignore", "ignored"),
    ("Unsupported", "not predictable"),
];

/// `Microsoft.Storage/storageAccounts` and `account` from a resource ID (the last provider
/// segment, so extension resources name themselves).
fn type_and_name(id: &str) -> (String, String) {
    let Some(at) = id.to_ascii_lowercase().rfind("/providers/") else {
        return (
            String::new(),
            id.rsplit('/').next().unwrap_or(id).to_owned(),
        );
    };
    let rest: Vec<&str> = id[at + "/providers/".len()..]
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let Some((namespace, pairs)) = rest.split_first() else {
        return (String::new(), String::new());
    };
    let mut kind = (*namespace).to_owned();
    let mut names = Vec::new();
    for pair in pairs.chunks(2) {
        kind.push('/');
        kind.push_str(pair[0]);
        if let Some(n) = pair.get(1) {
            names.push(*n);
        }
    }
    (kind, names.join("/"))
}

/// Property paths in a what-if `delta`, children under their parent.
fn delta_paths(delta: &Json, prefix: &str, out: &mut Vec<String>) {
    for d in delta.as_array().into_iter().flatten() {
        let Some(path) = d.get("path").and_then(Json::as_str) else {
            continue;
        };
        let full = if prefix.is_empty() {
            path.to_owned()
        } else if path.starts_with('[') {
            format!("{prefix}{path}")
        } else {
            format!("{prefix}.{path}")
        };
        match d
            .get("children")
            .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        {
            Some(children) => delta_paths(children, &full, out),
            None => out.push(full),
        }
    }
}

fn summarise(check: Check, stage: &str, changes: &[WhatIfChange]) -> Check {
    let (groups, counts) = group_what_if(changes);
    let deletes = groups
        .iter()
        .find(|g| g.change_type.eq_ignore_ascii_case("Delete"))
        .map_or(0, |g| g.count);
    let message = if counts.is_empty() {
        format!("Azure predicts no change from the stage {stage}.")
    } else {
        format!(
            "Azure predicts for the stage {stage}: {}.",
            counts.join(", ")
        )
    };
    let mut check = if deletes > 0 {
        check.with(CheckStatus::Warn, message).fix(Fix::new(
            format!(
                "The stage would delete {deletes} resource{}: look at the list before deploying.",
                if deletes == 1 { "" } else { "s" }
            ),
            None,
        ))
    } else {
        check.with(CheckStatus::Pass, message)
    };
    check.what_if = Some(groups);
    check
}

/// What-if changes grouped by change type (creates first, deletes last), and the counts in
/// words (`2 to create`).
pub fn group_what_if(changes: &[WhatIfChange]) -> (Vec<WhatIfGroup>, Vec<String>) {
    let mut groups: Vec<WhatIfGroup> = Vec::new();
    for c in changes {
        let (resource_type, name) = type_and_name(&c.resource_id);
        let mut changed_properties = Vec::new();
        delta_paths(&c.delta, "", &mut changed_properties);
        let item = WhatIfResource {
            resource_id: c.resource_id.clone(),
            resource_type,
            name,
            changed_properties,
            unsupported_reason: c.unsupported_reason.clone(),
        };
        match groups
            .iter_mut()
            .find(|g| g.change_type.eq_ignore_ascii_case(&c.change_type))
        {
            Some(g) => {
                g.count += 1;
                g.resources.push(item);
            }
            None => groups.push(WhatIfGroup {
                change_type: c.change_type.clone(),
                count: 1,
                resources: vec![item],
            }),
        }
    }
    let rank = |t: &str| {
        CHANGE_TYPES
            .iter()
            .position(|(k, _)| k.eq_ignore_ascii_case(t))
            .unwrap_or(CHANGE_TYPES.len())
    };
    groups.sort_by_key(|g| rank(&g.change_type));
    let counts: Vec<String> = groups
        .iter()
        .map(|g| {
            let words = CHANGE_TYPES
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(&g.change_type))
                .map_or_else(|| g.change_type.clone(), |(_, w)| (*w).to_owned());
            format!("{} {words}", g.count)
        })
        .collect();
    (groups, counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn failing(id: &str, action: Option<FixAction>) -> Check {
        Check {
            id: id.into(),
            label: id.into(),
            status: CheckStatus::Fail,
            message: String::new(),
            fix: Some(Fix {
                action,
                ..Fix::new("fix", None)
            }),
            what_if: None,
        }
    }

    #[test]
    fn providers_to_register_only_when_that_is_the_only_fix_needed() {
        let register = |n: &[&str]| {
            Some(FixAction::RegisterProviders(
                n.iter().map(|s| (*s).to_owned()).collect(),
            ))
        };
        let only = PreflightReport {
            checks: vec![failing("providers", register(&["Microsoft.DBforMySQL"]))],
        };
        assert_eq!(
            only.providers_to_register(),
            Some(vec!["Microsoft.DBforMySQL".to_owned()])
        );
        let with_quota = PreflightReport {
            checks: vec![
                failing("providers", register(&["Microsoft.DBforMySQL"])),
                failing("quota", None),
            ],
        };
        assert_eq!(with_quota.providers_to_register(), None);
        assert_eq!(
            PreflightReport { checks: vec![] }.providers_to_register(),
            None
        );
    }

    #[test]
    fn ids_give_type_and_name_of_children_and_extensions() {
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/blobServices/default";
        assert_eq!(
            type_and_name(id),
            (
                "Microsoft.Storage/storageAccounts/blobServices".to_owned(),
                "acct/default".to_owned()
            )
        );
        let ext = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ContainerRegistry/registries/r/providers/Microsoft.Authorization/roleAssignments/g";
        assert_eq!(
            type_and_name(ext),
            (
                "Microsoft.Authorization/roleAssignments".to_owned(),
                "g".to_owned()
            )
        );
    }

    #[test]
    fn what_if_is_grouped_in_reading_order_with_counts_and_paths() {
        let changes: Vec<WhatIfChange> = serde_json::from_value(json!([
            {"resourceId": "/subscriptions/s/resourceGroups/rg/providers/A.B/c/x", "changeType": "NoChange"},
            {"resourceId": "/subscriptions/s/resourceGroups/rg/providers/A.B/c/y", "changeType": "Create"},
            {"resourceId": "/subscriptions/s/resourceGroups/rg/providers/A.B/c/z", "changeType": "Modify",
             "delta": [{"path": "properties", "propertyChangeType": "Modify",
                        "children": [{"path": "sku", "propertyChangeType": "Modify"}]},
                       {"path": "tags.a", "propertyChangeType": "Create"}]},
            {"resourceId": "/subscriptions/s/resourceGroups/rg/providers/A.B/c/w", "changeType": "Create"}
        ]))
        .unwrap();
        let c = summarise(Check::new("whatIf:s", "w"), "s", &changes);
        assert_eq!(c.status, CheckStatus::Pass);
        assert_eq!(
            c.message,
            "Azure predicts for the stage s: 2 to create, 1 to modify, 1 unchanged."
        );
        let groups = c.what_if.unwrap();
        let order: Vec<(&str, usize)> = groups
            .iter()
            .map(|g| (g.change_type.as_str(), g.count))
            .collect();
        assert_eq!(order, [("Create", 2), ("Modify", 1), ("NoChange", 1)]);
        assert_eq!(
            groups[1].resources[0].changed_properties,
            ["properties.sku", "tags.a"]
        );
        let deleting: Vec<WhatIfChange> = serde_json::from_value(json!([
            {"resourceId": "/subscriptions/s/resourceGroups/rg/providers/A.B/c/x", "changeType": "Delete"}
        ]))
        .unwrap();
        assert_eq!(
            summarise(Check::new("w", "w"), "s", &deleting).status,
            CheckStatus::Warn
        );
    }

    #[test]
    fn a_zone_restriction_blocks_only_the_zones_asked_for() {
        let sku: ResourceSku = serde_json::from_value(json!({
            "resourceType": "virtualMachines", "name": "Standard_D2s_v5",
            "locations": ["eastus"],
            "restrictions": [{"type": "Zone", "values": ["eastus"],
                "restrictionInfo": {"locations": ["eastus"], "zones": ["2"]},
                "reasonCode": "NotAvailableForSubscription"}]
        }))
        .unwrap();
        assert!(restricted(&sku, "East US", &["1".into(), "3".into()]).is_none());
        let why = restricted(&sku, "eastus", &["1".into(), "2".into()]).unwrap();
        assert_eq!(
            why,
            "Standard_D2s_v5 is not available to this subscription in zone 2 of eastus (NotAvailableForSubscription)"
        );
    }

    #[test]
    fn a_call_refused_for_an_unregistered_provider_points_at_the_providers_check() {
        let detail = ArmErrorDetail::from_json(&json!({"error": {
            "code": "MissingSubscriptionRegistration",
            "message": "The subscription is not registered to use namespace 'Microsoft.DBforMySQL'.",
            "details": [{"code": "MissingSubscriptionRegistration", "target": "Microsoft.DBforMySQL",
                         "message": "The subscription is not registered to use namespace 'Microsoft.DBforMySQL'."}]
        }}));
        let error = AzureError::Http {
            method: landfall_azure::Method::Get,
            url: "https://management.azure.com/x".into(),
            status: 409,
            detail: detail.map(Box::new),
            request_id: None,
            correlation_id: None,
        };
        let c = Check::new("mysql", "MySQL").not_checked("MySQL in the region", &error.report());
        assert_eq!(c.status, CheckStatus::Warn);
        assert_eq!(
            c.message,
            "Could not check MySQL in the region: the subscription is not registered for Microsoft.DBforMySQL yet (see the resource providers check)."
        );
    }

    #[test]
    fn report_json_is_camel_case_with_tagged_actions() {
        let report = PreflightReport {
            checks: vec![
                Check::new("providers", "Providers")
                    .with(CheckStatus::Fail, "not registered")
                    .fix(Fix {
                        action: Some(FixAction::RegisterProviders(vec!["Microsoft.Web".into()])),
                        ..Fix::new("register", None)
                    }),
            ],
        };
        assert!(!report.passed());
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(
            v,
            json!({"checks": [{"id": "providers", "label": "Providers", "status": "fail",
                "message": "not registered",
                "fix": {"message": "register",
                        "action": {"kind": "registerProviders", "args": ["Microsoft.Web"]}}}]})
        );
        let purge = serde_json::to_value(FixAction::PurgeDeletedVault {
            name: "kv".into(),
            location: "eastus".into(),
        })
        .unwrap();
        assert_eq!(
            purge,
            json!({"kind": "purgeDeletedVault", "args": {"name": "kv", "location": "eastus"}})
        );
    }
}
