//! Behaviour of the offline planner on small templates written for each rule: parameters and
//! their errors, copy loops, conditions, dependencies, nested deployments, limits, deferred
//! values and resolvers.

// In tests a failed unwrap is a failed test, and contexts read best built field by field.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::field_reassign_with_default
)]

use landfall_template::context::{DeploymentContext, Resolver};
use landfall_template::template::Parameters;
use landfall_template::{ErrorCode, NoResolver, Plan, Template, TemplateError, Value, json, plan};

fn ctx() -> DeploymentContext {
    let mut c = DeploymentContext::default();
    c.subscription_id = "sub-1".into();
    c.resource_group.name = "rg-1".into();
    c.resource_group.location = "westeurope".into();
    c
}

fn run(text: &str, params: &str) -> Result<Plan, TemplateError> {
    let t = Template::parse(text)?;
    let p = if params.is_empty() {
        Parameters::new()
    } else {
        Parameters::parse(params)?
    };
    plan(&t, &p, &ctx(), &NoResolver)
}

fn rg(id_tail: &str) -> String {
    format!("/subscriptions/sub-1/resourceGroups/rg-1/providers/{id_tail}")
}

const STORAGE: &str = r#"{
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  "parameters": {
    "name": {"type": "string", "minLength": 3, "maxLength": 24},
    "count": {"type": "int", "defaultValue": 2, "minValue": 1, "maxValue": 5},
    "sku": {"type": "string", "defaultValue": "Standard_LRS", "allowedValues": ["Standard_LRS", "Standard_GRS"]}
  },
  "variables": {"prefix": "[toLower(parameters('name'))]"},
  "resources": [
    {
      "type": "Microsoft.Storage/storageAccounts",
      "apiVersion": "2023-01-01",
      "name": "[concat(variables('prefix'), copyIndex())]",
      "location": "[resourceGroup().location]",
      "sku": {"name": "[parameters('sku')]"},
      "kind": "StorageV2",
      "copy": {"name": "accounts", "count": "[parameters('count')]"},
      "properties": {
        "copy": [{"name": "rules", "count": 2, "input": {"port": "[add(8000, copyIndex('rules'))]"}}]
      }
    },
    {
      "type": "Microsoft.Network/publicIPAddresses",
      "apiVersion": "2023-04-01",
      "name": "ip",
      "location": "[resourceGroup().location]",
      "dependsOn": ["accounts"],
      "properties": {"dnsSettings": {"domainNameLabel": "[variables('prefix')]"}}
    }
  ],
  "outputs": {
    "fqdn": {"type": "string", "value": "[reference('ip').dnsSettings.fqdn]"},
    "names": {"type": "array", "copy": {"count": "[parameters('count')]", "input": "[concat(variables('prefix'), copyIndex())]"}}
  }
}"#;

#[test]
fn copy_loops_expand_with_property_copies_and_waves() {
    let p = run(STORAGE, r#"{"name": {"value": "Data"}}"#).unwrap();
    assert_eq!(p.resources.len(), 3);
    assert_eq!(
        p.resources[1].id,
        rg("Microsoft.Storage/storageAccounts/data1")
    );
    assert_eq!(p.resources[0].location, Some(Value::str("westeurope")));
    assert_eq!(
        p.resources[0].extra["sku"],
        json::parse_value(r#"{"name": "Standard_LRS"}"#).unwrap()
    );
    let rules = p.resources[0]
        .properties
        .get("rules")
        .unwrap()
        .as_array()
        .unwrap();
    assert_eq!(rules[1].get("port"), Some(&Value::Int(8001)));
    // The IP waits for the whole `accounts` loop.
    assert_eq!(p.order.len(), 2);
    assert_eq!(
        p.order[1],
        vec![rg("Microsoft.Network/publicIPAddresses/ip")]
    );
    assert_eq!(p.resources[2].depends_on.len(), 2);
    assert_eq!(
        p.outputs["names"].value,
        json::parse_value(r#"["data0", "data1"]"#).unwrap()
    );
}

#[test]
fn reference_to_a_resource_being_created_is_known_after_deployment() {
    let p = run(STORAGE, r#"{"name": {"value": "data"}}"#).unwrap();
    let fqdn = &p.outputs["fqdn"];
    assert_eq!(fqdn.output_type, "String");
    let text = fqdn.value.to_json();
    assert_eq!(
        text,
        serde_json::json!(format!(
            "[reference('{}').dnsSettings.fqdn]",
            rg("Microsoft.Network/publicIPAddresses/ip")
        ))
    );
    assert_eq!(p.to_json()["outputs"]["fqdn"]["value"], text);
}

struct FakeAzure;

impl Resolver for FakeAzure {
    fn reference(&self, id: &str, _: Option<&str>, _: bool) -> Option<Value> {
        id.ends_with("/ip").then(|| {
            json::parse_value(r#"{"dnsSettings": {"fqdn": "data.westeurope.cloudapp.azure.com"}}"#)
                .unwrap()
        })
    }
}

#[test]
fn a_resolver_supplies_live_values() {
    let t = Template::parse(STORAGE).unwrap();
    let p = plan(
        &t,
        &Parameters::parse(r#"{"name": {"value": "data"}}"#).unwrap(),
        &ctx(),
        &FakeAzure,
    )
    .unwrap();
    assert_eq!(
        p.outputs["fqdn"].value,
        Value::str("data.westeurope.cloudapp.azure.com")
    );
}

#[test]
fn missing_parameter_is_named_with_its_line() {
    let e = run(STORAGE, "").unwrap_err();
    assert_eq!(e.code, ErrorCode::MissingParameter);
    assert!(e.message.contains("'name' at line '5'"), "{e}");
    assert_eq!(e.path.as_deref(), Some("parameters.name"));
}

#[test]
fn undeclared_parameter_is_named_with_the_declared_ones() {
    let e = run(
        STORAGE,
        r#"{"name": {"value": "data"}, "colour": {"value": "red"}}"#,
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::UndeclaredParameter);
    assert!(
        e.message.contains("'colour'") && e.message.contains("'name, count, sku'"),
        "{e}"
    );
}

#[test]
fn parameter_rules_are_enforced_with_their_names() {
    for (params, fragment) in [
        (
            r#"{"name": {"value": "ab"}}"#,
            "must be greater than or equal to '3'",
        ),
        (
            r#"{"name": {"value": "data"}, "count": {"value": 9}}"#,
            "less than or equal to '5'",
        ),
        (
            r#"{"name": {"value": "data"}, "sku": {"value": "Premium_LRS"}}"#,
            "not part of the allowed value(s)",
        ),
        (
            r#"{"name": {"value": 12}}"#,
            "Expected a value of type 'String'",
        ),
    ] {
        let e = run(STORAGE, params).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidParameter, "{e}");
        assert!(e.message.contains(fragment), "{params}: {e}");
        assert!(e.pos.is_some(), "{e}");
    }
}

#[test]
fn expression_errors_say_where_in_the_file_and_in_the_expression() {
    let text = "{\"resources\": [\n  {\"type\": \"A.B/c\", \"apiVersion\": \"1\",\n   \"name\": \"[concat('a', nope())]\"}\n]}";
    let e = run(text, "").unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidExpression);
    assert_eq!(e.path.as_deref(), Some("resources[0].name"));
    assert_eq!(e.pos.map(|p| (p.line, p.column)), Some((3, 12)));
    assert_eq!(e.expr_offset, Some(13));
    assert!(e.message.contains("'nope' is not valid"), "{e}");
}

#[test]
fn conditions_skip_resources_and_their_dependents_ignore_them() {
    let text = r#"{"parameters": {"withIp": {"type": "bool"}}, "resources": [
        {"condition": "[parameters('withIp')]", "type": "Microsoft.Network/publicIPAddresses", "apiVersion": "1", "name": "ip"},
        {"type": "Microsoft.Network/loadBalancers", "apiVersion": "1", "name": "lb", "dependsOn": ["ip"]}
    ]}"#;
    let p = run(text, r#"{"withIp": {"value": false}}"#).unwrap();
    assert_eq!(p.resources.len(), 1);
    assert!(p.resources[0].depends_on.is_empty());
    assert_eq!(
        p.skipped,
        vec![rg("Microsoft.Network/publicIPAddresses/ip")]
    );
    let p = run(text, r#"{"withIp": {"value": true}}"#).unwrap();
    assert_eq!(p.order.len(), 2);
}

#[test]
fn child_resources_take_their_parent_type_name_and_dependency() {
    let text = r#"{"resources": [{
        "type": "Microsoft.Network/virtualNetworks", "apiVersion": "1", "name": "vnet",
        "resources": [{"type": "subnets", "apiVersion": "1", "name": "default"}]
    }]}"#;
    let p = run(text, "").unwrap();
    let subnet = &p.resources[1];
    assert_eq!(
        subnet.resource_type,
        "Microsoft.Network/virtualNetworks/subnets"
    );
    assert_eq!(
        subnet.id,
        rg("Microsoft.Network/virtualNetworks/vnet/subnets/default")
    );
    assert_eq!(
        subnet.depends_on,
        vec![rg("Microsoft.Network/virtualNetworks/vnet")]
    );
}

#[test]
fn unknown_dependency_is_an_error_naming_it() {
    let text = r#"{"resources": [{"type": "A.B/c", "apiVersion": "1", "name": "x", "dependsOn": ["ghost"]}]}"#;
    let e = run(text, "").unwrap_err();
    assert!(
        e.message.contains("'ghost' is not defined in the template"),
        "{e}"
    );
    assert_eq!(e.path.as_deref(), Some("resources[0].dependsOn[0]"));
}

#[test]
fn name_segments_must_match_the_type() {
    let text = r#"{"resources": [{"type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "1", "name": "default"}]}"#;
    let e = run(text, "").unwrap_err();
    assert!(e.message.contains("incorrect segment lengths"), "{e}");
}

const NESTED: &str = r#"{
  "parameters": {"env": {"type": "string", "defaultValue": "prod"}},
  "variables": {"suffix": "[concat('-', parameters('env'))]"},
  "resources": [
    {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "1", "name": "vnet"},
    {
      "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "data",
      "dependsOn": ["vnet"],
      "properties": {
        "mode": "Incremental",
        "expressionEvaluationOptions": {"scope": "inner"},
        "parameters": {"prefix": {"value": "[concat('db', variables('suffix'))]"}},
        "template": {
          "parameters": {"prefix": {"type": "string"}},
          "variables": {"suffix": "-inner"},
          "resources": [
            {"type": "Microsoft.DBforMySQL/flexibleServers", "apiVersion": "2023-06-30", "name": "[parameters('prefix')]"},
            {"type": "Microsoft.DBforMySQL/flexibleServers/databases", "apiVersion": "2023-06-30",
             "name": "[concat(parameters('prefix'), '/meta', variables('suffix'))]",
             "dependsOn": ["[resourceId('Microsoft.DBforMySQL/flexibleServers', parameters('prefix'))]"]}
          ],
          "outputs": {"server": {"type": "string", "value": "[parameters('prefix')]"}}
        }
      }
    },
    {
      "type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "shared",
      "resourceGroup": "rg-shared",
      "properties": {
        "mode": "Incremental",
        "template": {
          "resources": [{"type": "Microsoft.KeyVault/vaults", "apiVersion": "2023-02-01", "name": "[concat('kv', variables('suffix'))]"}],
          "outputs": {"vault": {"type": "string", "value": "[concat('kv', variables('suffix'))]"}}
        }
      }
    },
    {"type": "Microsoft.Web/sites", "apiVersion": "1", "name": "[reference('data').outputs.server.value]",
     "properties": {"vault": "[reference('shared').outputs.vault.value]"}}
  ]
}"#;

#[test]
fn nested_deployments_plan_inside_and_feed_their_outputs_out() {
    let p = run(NESTED, "").unwrap();
    let ids: Vec<&str> = p.resources.iter().map(|r| r.id.as_str()).collect();
    // Inner scope: the nested template's own variables and parameters.
    assert!(
        ids.contains(&rg("Microsoft.DBforMySQL/flexibleServers/db-prod").as_str()),
        "{ids:?}"
    );
    assert!(
        ids.contains(
            &rg("Microsoft.DBforMySQL/flexibleServers/db-prod/databases/meta-inner").as_str()
        ),
        "{ids:?}"
    );
    // Outer scope: the parent's variables, deployed to the deployment's resource group.
    assert!(ids.contains(&"/subscriptions/sub-1/resourceGroups/rg-shared/providers/Microsoft.KeyVault/vaults/kv-prod"), "{ids:?}");
    // Outputs of both flow back through reference().
    let site = p
        .resources
        .iter()
        .find(|r| r.resource_type == "Microsoft.Web/sites")
        .unwrap();
    assert_eq!(site.name, "db-prod");
    assert_eq!(site.properties.get("vault"), Some(&Value::str("kv-prod")));
    // The site waits for both deployments (implicit dependencies from reference()).
    assert!(
        site.depends_on
            .iter()
            .any(|d| d.ends_with("/deployments/data"))
    );
    assert!(
        site.depends_on
            .iter()
            .any(|d| d.ends_with("/deployments/shared"))
    );
    // Nested resources inherit the deployment's dependencies; the deployment waits for them.
    let server = p
        .resource(&rg("Microsoft.DBforMySQL/flexibleServers/db-prod"))
        .unwrap();
    assert_eq!(
        server.deployment.as_deref(),
        Some(rg("Microsoft.Resources/deployments/data").as_str())
    );
    assert!(
        server
            .depends_on
            .contains(&rg("Microsoft.Network/virtualNetworks/vnet"))
    );
    let data = p
        .resource(&rg("Microsoft.Resources/deployments/data"))
        .unwrap();
    assert!(data.depends_on.contains(&server.id));
    let wave = |id: &str| {
        p.order
            .iter()
            .position(|w| w.iter().any(|x| x == id))
            .unwrap()
    };
    assert!(wave(&server.id) < wave(&data.id) && wave(&data.id) < wave(&site.id));
}

#[test]
fn nested_template_errors_point_into_the_nested_template() {
    let text = NESTED.replace("[parameters('prefix')]\"}", "[parameters('nope')]\"}");
    let e = run(&text, "").unwrap_err();
    assert!(
        e.path
            .as_deref()
            .unwrap_or("")
            .starts_with("resources[1].properties.template.resources[0]"),
        "{e}"
    );
    assert!(e.pos.is_some_and(|p| p.line > 10), "{e}");
}

#[test]
fn limits_are_enforced_as_azure_does() {
    let copy = |n: usize| {
        format!(
            r#"{{"resources": [{{"type": "A.B/c", "apiVersion": "1", "name": "[concat('x', copyIndex())]", "copy": {{"name": "l", "count": {n}}}}}]}}"#
        )
    };
    assert!(run(&copy(800), "").is_ok());
    assert_eq!(
        run(&copy(801), "").unwrap_err().code,
        ErrorCode::LimitExceeded
    );
    let many = |section: &str, n: usize, item: &str| {
        let items: Vec<String> = (0..n).map(|i| format!("\"p{i}\": {item}")).collect();
        format!(
            r#"{{"{section}": {{{}}}, "resources": []}}"#,
            items.join(",")
        )
    };
    assert!(
        run(
            &many("parameters", 256, r#"{"type": "int", "defaultValue": 1}"#),
            ""
        )
        .is_ok()
    );
    assert_eq!(
        run(
            &many("parameters", 257, r#"{"type": "int", "defaultValue": 1}"#),
            ""
        )
        .unwrap_err()
        .code,
        ErrorCode::LimitExceeded
    );
    assert_eq!(
        run(&many("outputs", 65, r#"{"type": "int", "value": 1}"#), "")
            .unwrap_err()
            .code,
        ErrorCode::LimitExceeded
    );
    let big = format!(
        r#"{{"resources": [], "variables": {{"v": "{}"}}}}"#,
        "x".repeat(4 * 1024 * 1024)
    );
    assert_eq!(run(&big, "").unwrap_err().code, ErrorCode::LimitExceeded);
}

#[test]
fn variables_evaluate_lazily_and_cycles_are_named() {
    let ok = r#"{"variables": {"b": "[concat(variables('a'), 'b')]", "a": "a"}, "resources": [],
                 "outputs": {"o": {"type": "string", "value": "[variables('b')]"}}}"#;
    assert_eq!(run(ok, "").unwrap().outputs["o"].value, Value::str("ab"));
    let cycle = r#"{"variables": {"a": "[variables('b')]", "b": "[variables('a')]"}, "resources": [],
                    "outputs": {"o": {"type": "string", "value": "[variables('a')]"}}}"#;
    let e = run(cycle, "").unwrap_err();
    assert!(e.message.contains("a -> b -> a"), "{e}");
}

#[test]
fn symbolic_names_reference_and_depend() {
    let text = r#"{"languageVersion": "2.0", "resources": {
        "vnet": {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "1", "name": "vnet1"},
        "kv": {"existing": true, "type": "Microsoft.KeyVault/vaults", "apiVersion": "1", "name": "kv1"},
        "site": {"type": "Microsoft.Web/sites", "apiVersion": "1", "name": "site1", "dependsOn": ["vnet", "kv"],
                 "properties": {"subnet": "[reference('vnet').subnets[0].id]"}}
    }}"#;
    let p = run(text, "").unwrap();
    assert_eq!(p.resources.len(), 2, "existing resources are not deployed");
    let site = &p.resources[1];
    assert_eq!(site.symbolic_name.as_deref(), Some("site"));
    assert_eq!(
        site.depends_on,
        vec![rg("Microsoft.Network/virtualNetworks/vnet1")]
    );
    assert!(
        matches!(site.properties.get("subnet"), Some(Value::Deferred(d)) if d.expr.contains("virtualNetworks/vnet1')"))
    );
}

#[test]
fn user_defined_functions_see_only_their_parameters() {
    let text = r#"{"functions": [{"namespace": "lf", "members": {
        "name": {"parameters": [{"name": "base", "type": "string"}],
                 "output": {"type": "string", "value": "[toLower(concat(parameters('base'), '-x'))]"}}
    }}], "variables": {"v": "V"}, "resources": [],
    "outputs": {"o": {"type": "string", "value": "[lf.name(variables('v'))]"}}}"#;
    assert_eq!(run(text, "").unwrap().outputs["o"].value, Value::str("v-x"));
}

#[test]
fn key_vault_references_stay_deferred() {
    let text = r#"{"parameters": {"pw": {"type": "securestring"}}, "resources": [
        {"type": "Microsoft.DBforMySQL/flexibleServers", "apiVersion": "1", "name": "db",
         "properties": {"administratorLoginPassword": "[parameters('pw')]"}}]}"#;
    let params = r#"{"$schema": "x", "contentVersion": "1.0.0.0", "parameters": {"pw": {"reference": {
        "keyVault": {"id": "/subscriptions/s/resourceGroups/r/providers/Microsoft.KeyVault/vaults/v"}, "secretName": "db-pw"}}}}"#;
    let p = run(text, params).unwrap();
    assert!(matches!(
        p.resources[0].properties.get("administratorLoginPassword"),
        Some(Value::Deferred(_))
    ));
}

#[test]
fn utc_now_and_new_guid_only_run_in_parameter_defaults() {
    let ok = r#"{"parameters": {"id": {"type": "string", "defaultValue": "[newGuid()]"}}, "resources": [],
                 "outputs": {"o": {"type": "string", "value": "[parameters('id')]"}}}"#;
    assert_eq!(
        run(ok, "").unwrap().outputs["o"]
            .value
            .as_str()
            .map(str::len),
        Some(36)
    );
    let bad = r#"{"resources": [], "outputs": {"o": {"type": "string", "value": "[utcNow()]"}}}"#;
    let e = run(bad, "").unwrap_err();
    assert!(
        e.message
            .contains("can only be used in a parameter default value"),
        "{e}"
    );
}

#[test]
fn a_nested_child_is_found_by_its_short_name() {
    let text = r#"{"resources": [
        {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "1", "name": "VNet1",
         "resources": [{"type": "subnets", "apiVersion": "1", "name": "Subnet1", "dependsOn": ["VNet1"]}]},
        {"type": "Microsoft.Network/networkInterfaces", "apiVersion": "1", "name": "nic", "dependsOn": ["Subnet1"]}
    ]}"#;
    let p = run(text, "").unwrap();
    assert_eq!(
        p.resources[2].depends_on,
        vec![rg(
            "Microsoft.Network/virtualNetworks/VNet1/subnets/Subnet1"
        )]
    );
}

#[test]
fn secure_parameter_values_are_masked_in_the_displayed_plan() {
    let text = r#"{"parameters": {"pw": {"type": "securestring"}, "name": {"type": "string"}},
        "resources": [{"type": "Microsoft.DBforMySQL/flexibleServers", "apiVersion": "1", "name": "[parameters('name')]",
          "properties": {"administratorLoginPassword": "[parameters('pw')]",
                         "note": "[format('Server=db;Password={0};', parameters('pw'))]"}}],
        "outputs": {"o": {"type": "securestring", "value": "[parameters('pw')]"}}}"#;
    let p = run(
        text,
        r#"{"pw": {"value": "Hunter2-secret"}, "name": {"value": "db"}}"#,
    )
    .unwrap();
    // The plan keeps the real value for the engine; what is shown never does.
    assert_eq!(
        p.resources[0].properties.get("administratorLoginPassword"),
        Some(&Value::str("Hunter2-secret"))
    );
    let shown = p.to_json().to_string();
    assert!(!shown.contains("Hunter2-secret"), "{shown}");
    assert!(shown.contains("Password=********;"), "{shown}");
    assert!(!format!("{:?}", p.secrets).contains("Hunter2"));
}
