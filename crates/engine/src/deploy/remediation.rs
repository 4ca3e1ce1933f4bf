//! Remediations for the failures an install commonly meets, on top of the ones landfall-azure
//! knows (quota, policy, throttling, permissions).

use landfall_azure::{ArmErrorDetail, Error, ErrorReport, Remediation};

/// The report for a failed operation on `target`, with a remediation for the common codes.
pub fn operation_report(target: &str, status: &str, detail: ArmErrorDetail) -> ErrorReport {
    let error = Error::OperationFailed {
        url: target.to_owned(),
        status: status.to_owned(),
        detail: Some(Box::new(detail)),
    };
    with_remediation(error.report())
}

/// Adds the engine's remediation to a report that has none.
pub fn with_remediation(mut report: ErrorReport) -> ErrorReport {
    if report.remediation.is_none()
        && let Some(detail) = &report.details
    {
        report.remediation = remediation_for(detail);
    }
    report
}

/// The remediation for the first code in the tree we know.
pub fn remediation_for(detail: &ArmErrorDetail) -> Option<Remediation> {
    detail.iter().into_iter().find_map(known)
}

fn known(node: &ArmErrorDetail) -> Option<Remediation> {
    let r = |message: &str, link: Option<&str>| Remediation {
        message: message.to_owned(),
        link: link.map(str::to_owned),
        quota: None,
    };
    let code = node.code.as_str();
    let message = node.message.to_ascii_lowercase();
    Some(match code {
        "SkuNotAvailable" | "ZonalAllocationFailed" | "AllocationFailed" => r(
            "This size is not available in the region (or its zones) for your subscription. Choose another VM size or region, or ask Azure support to enable the size.",
            Some("https://aka.ms/azureskunotavailable"),
        ),
        "StorageAccountAlreadyTaken" | "StorageAccountAlreadyExists" => r(
            "The storage account name is taken by someone else in Azure. Choose another instance name.",
            None,
        ),
        "VaultAlreadyExists" => r(
            "The Key Vault name is in use, possibly by a deleted vault kept for recovery. Purge the deleted vault (landfall destroy --purge, or the portal's Manage deleted vaults) or choose another instance name.",
            Some("https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery"),
        ),
        "ConflictError" if message.contains("soft") || message.contains("deleted") => r(
            "A deleted Key Vault with this name is kept for recovery. Purge it or choose another instance name.",
            Some("https://learn.microsoft.com/azure/key-vault/general/key-vault-recovery"),
        ),
        "ServerNameAlreadyExists"
        | "NameAlreadyExists"
        | "AlreadyInUse"
        | "RegistryNameNotAvailable" => r(
            "A resource name derived from the instance name is taken in Azure. Choose another instance name.",
            None,
        ),
        "RoleAssignmentExists" => r(
            "The registry pull permission for the cluster already exists under another name. Remove the duplicate role assignment on the registry, then retry.",
            None,
        ),
        "DeploymentActive" => r(
            "Another deployment of this instance is still running. Wait for it (landfall status) or resume it instead of starting a new one.",
            None,
        ),
        "RequestDisallowedByPolicy" => r(
            "An Azure Policy assignment in your organisation forbids this resource. Ask your Azure administrator for an exemption, or change the inputs the policy objects to.",
            None,
        ),
        "AuthorizationFailed" | "LinkedAuthorizationFailed" => r(
            "Your account lacks a permission at this scope. Ask for the Owner role (or Contributor plus User Access Administrator) on the subscription or resource group.",
            None,
        ),
        "MissingSubscriptionRegistration" | "NoRegisteredProviderFound" => r(
            "A resource provider is not registered in the subscription. Register it (the review screen offers to) and retry.",
            None,
        ),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_codes_get_their_remediation() {
        let tree = ArmErrorDetail {
            code: "DeploymentFailed".into(),
            details: vec![ArmErrorDetail {
                code: "SkuNotAvailable".into(),
                message: "The requested VM size is not available.".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let r = remediation_for(&tree).unwrap();
        assert!(r.message.contains("Choose another VM size"), "{r:?}");
        let report = operation_report("/x", "Failed", tree);
        assert!(report.remediation.unwrap().message.contains("VM size"));
        assert!(remediation_for(&ArmErrorDetail::default()).is_none());
    }
}
