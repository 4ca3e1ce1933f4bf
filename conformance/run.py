"""Drives the simulated Azure (landfall-sim) with Microsoft's own Python SDK.

A client written by others must not be able to tell the simulator from Azure for the calls
Landfall makes. This script signs in with azure-identity's ClientSecretCredential against the
simulator's authority, then with azure-mgmt-resource and azure-mgmt-resource-deployments:
creates a resource group, deploys a small template through the SDK's poller, lists the
deployment's operations, runs what-if, and deletes the group through its poller.

It prints one JSON summary on stdout and exits non-zero on the first failure.

The simulator's endpoints come from the one JSON line `landfall sim` prints, given as
`--sim '<json>'`, as `--sim-file FILE`, or in the environment variable LANDFALL_SIM; single
values can be overridden with --arm-endpoint, --authority-host, --audience, --tenant-id,
--subscription-id, --client-id, --client-secret and --ca-file.
"""

import argparse
import json
import os
import sys
import time
import traceback

from azure.core.exceptions import AzureError
from azure.identity import ClientSecretCredential
from azure.mgmt.resource.deployments import DeploymentsMgmtClient
from azure.mgmt.resource.resources import ResourceManagementClient

# Two storage accounts and a network with a subnet: dependencies, a child resource, outputs.
TEMPLATE = {
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": {
        "prefix": {"type": "string", "defaultValue": "conf"},
        "location": {"type": "string", "defaultValue": "[resourceGroup().location]"},
    },
    "variables": {
        "storageName": "[concat(parameters('prefix'), uniqueString(resourceGroup().id))]",
    },
    "resources": [
        {
            "type": "Microsoft.Network/virtualNetworks",
            "apiVersion": "2023-09-01",
            "name": "[concat(parameters('prefix'), '-vnet')]",
            "location": "[parameters('location')]",
            "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
        },
        {
            "type": "Microsoft.Network/virtualNetworks/subnets",
            "apiVersion": "2023-09-01",
            "name": "[concat(parameters('prefix'), '-vnet/default')]",
            "dependsOn": [
                "[resourceId('Microsoft.Network/virtualNetworks', concat(parameters('prefix'), '-vnet'))]"
            ],
            "properties": {"addressPrefix": "10.0.0.0/24"},
        },
        {
            "type": "Microsoft.Storage/storageAccounts",
            "apiVersion": "2023-01-01",
            "name": "[variables('storageName')]",
            "location": "[parameters('location')]",
            "sku": {"name": "Standard_LRS"},
            "kind": "StorageV2",
            "properties": {},
        },
    ],
    "outputs": {
        "storageName": {"type": "string", "value": "[variables('storageName')]"},
        "vnetId": {
            "type": "string",
            "value": "[resourceId('Microsoft.Network/virtualNetworks', concat(parameters('prefix'), '-vnet'))]",
        },
    },
}


class Failure(Exception):
    """A check that did not hold."""


def check(condition, message):
    if not condition:
        raise Failure(message)


def settings(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sim", help="the JSON line `landfall sim` prints")
    parser.add_argument("--sim-file", help="a file holding that JSON line")
    parser.add_argument("--arm-endpoint")
    parser.add_argument("--authority-host")
    parser.add_argument("--audience")
    parser.add_argument("--tenant-id")
    parser.add_argument("--subscription-id")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument("--ca-file")
    parser.add_argument("--resource-group", default="rg-conformance")
    parser.add_argument("--location", default="eastus")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds for each poller")
    args = parser.parse_args(argv)

    line = args.sim
    if line is None and args.sim_file:
        with open(args.sim_file, encoding="utf-8") as f:
            line = f.readline()
    if line is None:
        line = os.environ.get("LANDFALL_SIM")
    values = json.loads(line) if line else {}
    for key, arg in [
        ("armEndpoint", args.arm_endpoint),
        ("authorityHost", args.authority_host),
        ("audience", args.audience),
        ("tenantId", args.tenant_id),
        ("subscriptionId", args.subscription_id),
        ("clientId", args.client_id),
        ("clientSecret", args.client_secret),
        ("caFile", args.ca_file),
    ]:
        if arg is not None:
            values[key] = arg
    missing = [
        k
        for k in [
            "armEndpoint",
            "authorityHost",
            "audience",
            "tenantId",
            "subscriptionId",
            "clientId",
            "clientSecret",
            "caFile",
        ]
        if not values.get(k)
    ]
    if missing:
        parser.error("missing simulator settings: " + ", ".join(missing))
    return args, values


def run(args, sim, summary):
    ca_file = sim["caFile"]
    scope = sim["audience"].rstrip("/") + "/.default"
    common = {
        # Trust the simulator's CA only (the transport's `verify`).
        "connection_verify": ca_file,
        # No Retry-After means the SDK's default of 30 s between polls.
        "polling_interval": 0.2,
        # A failure must show, not be retried for a minute.
        "retry_total": 1,
    }
    credential = ClientSecretCredential(
        sim["tenantId"],
        sim["clientId"],
        sim["clientSecret"],
        authority=sim["authorityHost"],
        disable_instance_discovery=True,
        connection_verify=ca_file,
    )
    token = credential.get_token(scope)
    check(token.token.count(".") == 2, "the token is not a JWT")
    check(token.expires_on > time.time(), "the token has already expired")
    summary["token"] = {"scope": scope, "expiresInSeconds": int(token.expires_on - time.time())}

    resources = ResourceManagementClient(
        credential,
        sim["subscriptionId"],
        base_url=sim["armEndpoint"],
        credential_scopes=[scope],
        **common,
    )
    deployments = DeploymentsMgmtClient(
        credential,
        sim["subscriptionId"],
        base_url=sim["armEndpoint"],
        credential_scopes=[scope],
        **common,
    )
    rg = args.resource_group

    # 1. Resource group.
    group = resources.resource_groups.create_or_update(
        rg, {"location": args.location, "tags": {"purpose": "conformance"}}
    )
    check(group.name == rg, f"resource group name {group.name!r}")
    check(
        group.properties.provisioning_state == "Succeeded",
        f"resource group state {group.properties.provisioning_state!r}",
    )
    check(resources.resource_groups.check_existence(rg), "the new group does not exist")
    summary["resourceGroup"] = {"id": group.id, "location": group.location}

    # 2. Deployment through the SDK's long-running-operation poller (Azure-AsyncOperation).
    name = "conformance-deploy"
    started = time.monotonic()
    poller = deployments.deployments.begin_create_or_update(
        rg,
        name,
        {
            "properties": {
                "mode": "Incremental",
                "template": TEMPLATE,
                "parameters": {"prefix": {"value": "conf"}},
            }
        },
    )
    first_status = poller.status()
    deployment = poller.result(timeout=args.timeout)
    check(poller.done(), "the deployment poller is not done")
    props = deployment.properties
    check(props.provisioning_state == "Succeeded", f"deployment state {props.provisioning_state!r}")
    outputs = props.outputs or {}
    check(
        set(outputs) == {"storageName", "vnetId"},
        f"deployment outputs {sorted(outputs)}",
    )
    check(
        outputs["vnetId"]["value"].lower().endswith("/virtualnetworks/conf-vnet"),
        f"vnetId output {outputs['vnetId']!r}",
    )
    fetched = deployments.deployments.get(rg, name)
    check(fetched.id == deployment.id, "GET returns another deployment")
    summary["deployment"] = {
        "id": deployment.id,
        "firstPollerStatus": first_status,
        "provisioningState": props.provisioning_state,
        "duration": props.duration,
        "outputs": {k: v["value"] for k, v in outputs.items()},
        "seconds": round(time.monotonic() - started, 2),
    }

    # 3. Operations (the SDK pages through nextLink on its own).
    operations = list(deployments.deployment_operations.list(rg, name))
    targets = sorted(
        o.properties.target_resource.resource_type
        for o in operations
        if o.properties.target_resource is not None
    )
    check(
        targets
        == sorted(
            [
                "Microsoft.Network/virtualNetworks",
                "Microsoft.Network/virtualNetworks/subnets",
                "Microsoft.Storage/storageAccounts",
            ]
        ),
        f"operation targets {targets}",
    )
    states = sorted({o.properties.provisioning_state for o in operations})
    check(states == ["Succeeded"], f"operation states {states}")
    one = deployments.deployment_operations.get(rg, name, operations[0].operation_id)
    check(one.operation_id == operations[0].operation_id, "GET of one operation")
    summary["operations"] = {
        "count": len(operations),
        "targets": targets,
        "states": states,
    }

    # 4. What-if (202 + Location, polled to the result): a changed prefix and a changed network.
    changed = json.loads(json.dumps(TEMPLATE))
    changed["resources"][0]["properties"]["addressSpace"]["addressPrefixes"] = ["10.1.0.0/16"]
    what_if = deployments.deployments.begin_what_if(
        rg,
        name,
        {"properties": {"mode": "Incremental", "template": changed, "parameters": {}}},
    ).result(timeout=args.timeout)
    check(what_if.status == "Succeeded", f"what-if status {what_if.status!r}")
    kinds = {}
    for change in what_if.changes or []:
        kinds[change.change_type] = kinds.get(change.change_type, 0) + 1
    check(kinds.get("Modify", 0) >= 1, f"what-if change types {kinds}")
    modified = next(c for c in what_if.changes if c.change_type == "Modify")
    check(modified.delta, "the Modify change has no delta")
    summary["whatIf"] = {
        "status": what_if.status,
        "changeTypes": kinds,
        "modified": modified.resource_id,
        "deltaPaths": sorted(d.path for d in modified.delta),
    }

    # 5. Delete the group (202 + Location, polled until it is gone).
    resources.resource_groups.begin_delete(rg).result(timeout=args.timeout)
    check(not resources.resource_groups.check_existence(rg), "the group still exists")
    summary["deleted"] = True


def main(argv):
    args, sim = settings(argv)
    summary = {"ok": False, "armEndpoint": sim["armEndpoint"]}
    code = 1
    try:
        run(args, sim, summary)
        summary["ok"] = True
        code = 0
    except (Failure, AzureError, KeyError, TypeError, ValueError) as e:
        summary["error"] = f"{type(e).__name__}: {e}"
        summary["trace"] = traceback.format_exc().splitlines()[-6:]
    print(json.dumps(summary, indent=2, sort_keys=True, default=str))
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
