//! Template deployments at resource-group and subscription scope: create (a poller), get,
//! list, operations (nested deployments followed), validate, what-if, cancel, delete.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::{Arm, Page, RESOURCES_API, from_json};
use crate::error::{ArmErrorDetail, Error};
use crate::poll::Poller;
use crate::transport::ArmRequest;
use azure_core::http::Method;

/// How deep nested deployments are followed.
const MAX_NESTING: usize = 32;

/// Where a deployment lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeploymentScope {
    /// In a resource group.
    ResourceGroup {
        /// The subscription ID.
        subscription_id: String,
        /// The group's name.
        group: String,
    },
    /// At subscription scope.
    Subscription {
        /// The subscription ID.
        subscription_id: String,
    },
}

impl DeploymentScope {
    /// A resource-group scope.
    pub fn group(subscription_id: &str, group: &str) -> Self {
        DeploymentScope::ResourceGroup {
            subscription_id: subscription_id.to_owned(),
            group: group.to_owned(),
        }
    }

    /// A subscription scope.
    pub fn subscription(subscription_id: &str) -> Self {
        DeploymentScope::Subscription {
            subscription_id: subscription_id.to_owned(),
        }
    }

    /// The scope's path.
    pub fn path(&self) -> String {
        match self {
            DeploymentScope::ResourceGroup {
                subscription_id,
                group,
            } => format!("/subscriptions/{subscription_id}/resourcegroups/{group}"),
            DeploymentScope::Subscription { subscription_id } => {
                format!("/subscriptions/{subscription_id}")
            }
        }
    }

    /// The path of the deployment `name` at this scope.
    pub fn deployment_path(&self, name: &str) -> String {
        format!(
            "{}/providers/Microsoft.Resources/deployments/{name}",
            self.path()
        )
    }
}

/// A deployment (`DeploymentExtended`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// Its ID.
    #[serde(default)]
    pub id: String,
    /// Its name.
    #[serde(default)]
    pub name: String,
    /// `Microsoft.Resources/deployments`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Its location (subscription scope).
    #[serde(default)]
    pub location: Option<String>,
    /// Tags, as sent.
    #[serde(default)]
    pub tags: Json,
    /// Its properties.
    #[serde(default)]
    pub properties: DeploymentProperties,
}

/// A deployment's properties.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentProperties {
    /// `Accepted`, `Running`, `Succeeded`, `Failed`, `Canceled`...
    #[serde(default)]
    pub provisioning_state: String,
    /// The correlation ID of the deployment.
    #[serde(default)]
    pub correlation_id: Option<String>,
    /// When it last changed.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// ISO 8601 duration.
    #[serde(default)]
    pub duration: Option<String>,
    /// `Incremental` or `Complete`.
    #[serde(default)]
    pub mode: Option<String>,
    /// The template's hash.
    #[serde(default)]
    pub template_hash: Option<String>,
    /// Outputs, as sent.
    #[serde(default)]
    pub outputs: Json,
    /// Parameters, as sent.
    #[serde(default)]
    pub parameters: Json,
    /// Providers used, as sent.
    #[serde(default)]
    pub providers: Json,
    /// Dependencies, as sent.
    #[serde(default)]
    pub dependencies: Json,
    /// Resources created, as sent.
    #[serde(default)]
    pub output_resources: Json,
    /// Validated resources (validate), as sent.
    #[serde(default)]
    pub validated_resources: Json,
    /// Diagnostics (validate), as sent.
    #[serde(default)]
    pub diagnostics: Json,
    /// The error of a failed deployment.
    #[serde(default)]
    pub error: Option<ArmErrorDetail>,
}

/// `GET .../deployments`.
pub type DeploymentListResponse = Page<Deployment>;

/// One deployment operation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOperation {
    /// Its ID.
    #[serde(default)]
    pub id: String,
    /// Its operation ID.
    #[serde(default)]
    pub operation_id: String,
    /// Its properties.
    #[serde(default)]
    pub properties: DeploymentOperationProperties,
}

/// A deployment operation's properties.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentOperationProperties {
    /// `Create`, `Read`, `EvaluateDeploymentOutput`...
    #[serde(default)]
    pub provisioning_operation: Option<String>,
    /// `Running`, `Succeeded`, `Failed`...
    #[serde(default)]
    pub provisioning_state: String,
    /// When it last changed.
    #[serde(default)]
    pub timestamp: Option<String>,
    /// ISO 8601 duration.
    #[serde(default)]
    pub duration: Option<String>,
    /// The resource provider's request ID.
    #[serde(default)]
    pub service_request_id: Option<String>,
    /// The resource provider's HTTP status (`OK`, `BadRequest`...).
    #[serde(default)]
    pub status_code: Option<String>,
    /// The resource provider's answer, as sent (an error object or a JSON string).
    #[serde(default)]
    pub status_message: Json,
    /// The resource it worked on.
    #[serde(default)]
    pub target_resource: Option<TargetResource>,
}

/// The resource a deployment operation targets.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetResource {
    /// Its ID.
    #[serde(default)]
    pub id: Option<String>,
    /// `Microsoft.Network/virtualNetworks`...
    #[serde(default)]
    pub resource_type: Option<String>,
    /// Its name.
    #[serde(default)]
    pub resource_name: Option<String>,
}

impl DeploymentOperation {
    /// The error in `statusMessage`, JSON nested in strings included.
    pub fn error(&self) -> Option<ArmErrorDetail> {
        ArmErrorDetail::from_status_message(&self.properties.status_message)
    }

    /// The nested deployment this operation runs, if it targets one: its ID.
    pub fn nested_deployment(&self) -> Option<&str> {
        let t = self.properties.target_resource.as_ref()?;
        let is_deployment = t
            .resource_type
            .as_deref()
            .is_some_and(|k| k.eq_ignore_ascii_case("Microsoft.Resources/deployments"));
        if is_deployment { t.id.as_deref() } else { None }
    }
}

/// `GET .../deployments/{name}/operations`.
pub type DeploymentOperationListResponse = Page<DeploymentOperation>;

/// An operation with the names of the deployments it is under, outermost first.
#[derive(Clone, Debug, PartialEq)]
pub struct NestedOperation {
    /// Deployment names from the top-level one to the one that ran this operation.
    pub path: Vec<String>,
    /// The operation.
    pub operation: DeploymentOperation,
}

/// The 200 answer of validate.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeploymentValidateResponse {
    /// The deployment's ID.
    #[serde(default)]
    pub id: Option<String>,
    /// The deployment's name.
    #[serde(default)]
    pub name: Option<String>,
    /// What was validated.
    #[serde(default)]
    pub properties: DeploymentProperties,
    /// An error (older API versions answer 200 with it).
    #[serde(default)]
    pub error: Option<ArmErrorDetail>,
}

/// What validate found.
#[derive(Clone, Debug, PartialEq)]
pub enum Validation {
    /// The template validated.
    Valid(Box<DeploymentValidateResponse>),
    /// It did not: ARM's error tree.
    Invalid(Box<ArmErrorDetail>),
}

/// A what-if result (`WhatIfOperationResult`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfResponse {
    /// `Succeeded`, `Failed`...
    #[serde(default)]
    pub status: Option<String>,
    /// The changes.
    #[serde(default)]
    pub properties: WhatIfProperties,
    /// The error of a failed what-if.
    #[serde(default)]
    pub error: Option<ArmErrorDetail>,
}

impl WhatIfResponse {
    /// Reads a what-if poller's result.
    pub fn from_result(value: Json) -> Result<Self, Error> {
        from_json("a what-if result", value)
    }
}

/// What-if properties.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfProperties {
    /// The predicted changes.
    #[serde(default)]
    pub changes: Vec<WhatIfChange>,
    /// Diagnostics, as sent.
    #[serde(default)]
    pub diagnostics: Json,
}

/// One predicted change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhatIfChange {
    /// The resource's ID.
    #[serde(default)]
    pub resource_id: String,
    /// `Create`, `Delete`, `Ignore`, `Deploy`, `NoChange`, `Modify`, `Unsupported`.
    #[serde(default)]
    pub change_type: String,
    /// Why it is unsupported, if so.
    #[serde(default)]
    pub unsupported_reason: Option<String>,
    /// The resource before, as sent.
    #[serde(default)]
    pub before: Json,
    /// The resource after, as sent.
    #[serde(default)]
    pub after: Json,
    /// Property changes, as sent.
    #[serde(default)]
    pub delta: Json,
}

impl Arm<'_> {
    /// Starts a deployment (PUT); `body` is `{properties: {template, parameters, mode}}` (plus
    /// `location` at subscription scope). The poller ends with the deployment's JSON.
    ///
    /// The PUT is sent once (429s aside): repeating it while the first one runs is refused
    /// with `DeploymentActive`, so after a dropped connection or a 5xx the caller reads the
    /// deployment to learn whether it was accepted (see [`crate::Error::is_ambiguous`]).
    pub async fn begin_create_deployment(
        &self,
        scope: &DeploymentScope,
        name: &str,
        body: &Json,
    ) -> Result<Poller, Error> {
        let client = self.client();
        let url = client.url(&scope.deployment_path(name), RESOURCES_API)?;
        client
            .begin(ArmRequest::new(Method::Put, url).json(body.clone()).once())
            .await
    }

    /// Gets a deployment.
    pub async fn get_deployment(
        &self,
        scope: &DeploymentScope,
        name: &str,
    ) -> Result<Deployment, Error> {
        self.client()
            .get_json(&scope.deployment_path(name), RESOURCES_API)
            .await
    }

    /// Lists the deployments at a scope.
    pub async fn list_deployments(
        &self,
        scope: &DeploymentScope,
    ) -> Result<Vec<Deployment>, Error> {
        let path = format!("{}/providers/Microsoft.Resources/deployments", scope.path());
        self.list_all(&path, RESOURCES_API).await
    }

    /// Lists a deployment's own operations.
    pub async fn list_deployment_operations(
        &self,
        scope: &DeploymentScope,
        name: &str,
    ) -> Result<Vec<DeploymentOperation>, Error> {
        let path = format!("{}/operations", scope.deployment_path(name));
        self.list_all(&path, RESOURCES_API).await
    }

    /// Lists a deployment's operations and those of every nested deployment, flattened, each
    /// with the path of deployment names it is under (the top-level deployment first).
    pub async fn list_deployment_operations_nested(
        &self,
        scope: &DeploymentScope,
        name: &str,
    ) -> Result<Vec<NestedOperation>, Error> {
        let mut out = Vec::new();
        let mut todo = vec![(vec![name.to_owned()], scope.deployment_path(name))];
        while let Some((path, deployment)) = todo.pop() {
            let ops: Vec<DeploymentOperation> = self
                .list_all(&format!("{deployment}/operations"), RESOURCES_API)
                .await?;
            let mut nested = Vec::new();
            for op in ops {
                if let Some(id) = op.nested_deployment()
                    && path.len() < MAX_NESTING
                {
                    let child = id.rsplit('/').next().unwrap_or(id).to_owned();
                    let mut p = path.clone();
                    p.push(child);
                    nested.push((p, id.to_owned()));
                }
                out.push(NestedOperation {
                    path: path.clone(),
                    operation: op,
                });
            }
            // Depth first, in the order the parent listed them.
            todo.extend(nested.into_iter().rev());
        }
        Ok(out)
    }

    /// Validates a deployment: a 200 gives [`Validation::Valid`], a 400 its error tree
    /// as [`Validation::Invalid`]; a 202 is followed to its result.
    pub async fn validate_deployment(
        &self,
        scope: &DeploymentScope,
        name: &str,
        body: &Json,
    ) -> Result<Validation, Error> {
        let url = self.client().url(
            &format!("{}/validate", scope.deployment_path(name)),
            RESOURCES_API,
        )?;
        let request = ArmRequest::new(Method::Post, url)
            .json(body.clone())
            .idempotent();
        let outcome = async { self.client().begin(request).await?.wait().await }.await;
        match outcome {
            Ok(v) => {
                let r: DeploymentValidateResponse = from_json("a validate result", v)?;
                match r.error.clone() {
                    Some(e) if !e.code.is_empty() => Ok(Validation::Invalid(Box::new(e))),
                    _ => Ok(Validation::Valid(Box::new(r))),
                }
            }
            Err(Error::Http {
                status: 400,
                detail: Some(d),
                ..
            }) => Ok(Validation::Invalid(d)),
            Err(e) => Err(e),
        }
    }

    /// Starts a what-if (POST, 202 + `Location`); read the result with
    /// [`WhatIfResponse::from_result`].
    pub async fn begin_what_if(
        &self,
        scope: &DeploymentScope,
        name: &str,
        body: &Json,
    ) -> Result<Poller, Error> {
        let url = self.client().url(
            &format!("{}/whatIf", scope.deployment_path(name)),
            RESOURCES_API,
        )?;
        self.client()
            .begin(
                ArmRequest::new(Method::Post, url)
                    .json(body.clone())
                    .idempotent(),
            )
            .await
    }

    /// Cancels a running deployment (204).
    pub async fn cancel_deployment(
        &self,
        scope: &DeploymentScope,
        name: &str,
    ) -> Result<(), Error> {
        self.client()
            .post(
                &format!("{}/cancel", scope.deployment_path(name)),
                RESOURCES_API,
                None,
            )
            .await
            .map(|_| ())
    }

    /// Deletes a deployment's record (not its resources); the poller follows the 202.
    pub async fn begin_delete_deployment(
        &self,
        scope: &DeploymentScope,
        name: &str,
    ) -> Result<Poller, Error> {
        self.client()
            .begin_delete(&scope.deployment_path(name), RESOURCES_API)
            .await
    }
}
