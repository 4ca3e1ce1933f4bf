//! The desktop's own wire types: command arguments and answers that are not the engine's.
//! Field names are what serde writes (camelCase); `tests/bindings.rs` generates their
//! TypeScript into `ui/src/lib/bindings` with the engine's.

use indexmap::IndexMap;
use landfall_engine::InputError;
use landfall_engine::cost::CostEstimate;
use landfall_engine::events::StageSummary;
use landfall_engine::journal::RunRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;
use ts_rs::TS;

/// A cloud the sign-in screen offers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct CloudOption {
    /// `AzureCloud`, `AzureUSGovernment`, `AzureChinaCloud`.
    pub name: String,
    /// Shown to people.
    pub label: String,
}

/// How to sign in. `cloud` is a [`CloudOption`] name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SignInMethod {
    /// The system browser (authorization code with PKCE).
    #[serde(rename_all = "camelCase")]
    Browser {
        /// The cloud.
        cloud: String,
        /// A tenant ID or domain; none for the account's home tenant.
        tenant: Option<String>,
    },
    /// A code entered in a browser on any device.
    #[serde(rename_all = "camelCase")]
    DeviceCode {
        /// The cloud.
        cloud: String,
        /// A tenant ID or domain; none for the account's home tenant.
        tenant: Option<String>,
    },
    /// A service principal with a client secret (kept in the OS keyring).
    #[serde(rename_all = "camelCase")]
    ServicePrincipal {
        /// The cloud.
        cloud: String,
        /// The tenant ID.
        tenant_id: String,
        /// The application (client) ID.
        client_id: String,
        /// The client secret.
        client_secret: String,
    },
    /// The Azure CLI's session on this machine.
    #[serde(rename_all = "camelCase")]
    AzureCli {
        /// The cloud.
        cloud: String,
        /// A tenant ID; none for the CLI's current one.
        tenant: Option<String>,
    },
}

/// What the person must do to finish a sign-in, sent while `sign_in` waits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SignInPrompt {
    /// The sign-in page (opened in the system browser; shown in case it did not open).
    #[serde(rename_all = "camelCase")]
    OpenBrowser {
        /// The page.
        url: String,
    },
    /// Enter this code at this address.
    #[serde(rename_all = "camelCase")]
    DeviceCode {
        /// The code.
        user_code: String,
        /// Where to enter it.
        verification_uri: String,
        /// Entra ID's own sentence.
        message: String,
    },
}

/// Who is signed in. In demo mode IDs are masked as in a screen share.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    /// Against the built-in simulated Azure.
    pub demo: bool,
    /// The user (UPN) or the app (client ID).
    pub who: String,
    /// The tenant.
    pub tenant_id: String,
    /// The cloud's name.
    pub cloud: String,
    /// How it signed in, in words.
    pub method: String,
    /// Runs of this journal whose watcher stopped before they ended: resume them.
    pub unfinished_runs: Vec<RunRecord>,
}

/// A tenant the signed-in principal can reach.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TenantSummary {
    /// The GUID.
    pub tenant_id: String,
    /// Its name.
    pub display_name: String,
    /// Its default domain.
    pub default_domain: String,
    /// The tenant of the current sign-in.
    pub current: bool,
}

/// A subscription as the subscription screen lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionSummary {
    /// The GUID (masked in demo mode; the shell maps it back).
    pub subscription_id: String,
    /// Its name.
    pub display_name: String,
    /// Its tenant.
    pub tenant_id: String,
    /// `Enabled`, `Warned`, `PastDue`, `Disabled`: only `Enabled` can be deployed to.
    pub state: String,
}

/// Options of "Try the demo".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DemoOptions {
    /// How much faster than Azure the simulator provisions (40 gives about 3 minutes).
    pub speed: f64,
    /// A resource name (`{n}` stands for the instance name) that fails on its first try.
    pub fail_resource: Option<String>,
    /// Carry on the previous demo's simulated Azure and journal.
    pub resume: bool,
}

/// Where an instance goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployTarget {
    /// Subscription ID (as listed, masked in demo mode).
    pub subscription_id: String,
    /// Resource group; empty for the manifest's default.
    pub resource_group: String,
    /// Region.
    pub location: String,
}

/// What review, preflight and deploy need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DeployRequest {
    /// Where.
    pub target: DeployTarget,
    /// The inputs (the instance name is `name`).
    pub values: IndexMap<String, Json>,
    /// The preset the values match, if any.
    pub preset: Option<String>,
}

/// The answer of `validate_inputs`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct InputsCheck {
    /// No input broke a rule.
    pub valid: bool,
    /// Every broken rule, naming the input.
    pub errors: Vec<InputError>,
    /// The monthly cost (none when the inputs are too broken to price).
    pub cost: Option<CostEstimate>,
}

/// The review screen's plan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReviewPlan {
    /// The resource group.
    pub resource_group: String,
    /// The region.
    pub location: String,
    /// Stages in deploy order with what each creates.
    pub stages: Vec<StageSummary>,
    /// The monthly cost.
    pub cost: CostEstimate,
    /// Seconds the whole install usually takes (its critical path).
    pub expected_secs: f64,
}

/// A file written for the person.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SavedFile {
    /// Where.
    pub path: String,
}
