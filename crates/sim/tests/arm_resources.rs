//! The ARM resource surface: tenants, subscriptions, locations, providers, resource groups
//! (with async delete), generic resources, compute usages and SKUs, MySQL capabilities, name
//! availability, deleted Key Vaults, permissions and role assignments. Where a real recording
//! exists, the simulator's body is compared with it field by field (same fields, same JSON
//! types); time moves with a manual clock.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use landfall_sim::arm::authorization::{ACR_PULL, CONTRIBUTOR};
use landfall_sim::arm::groups::Resource;
use landfall_sim::entra::tokens::Claims;
use landfall_sim::faults::{QuotaOverride, SkuRestriction};
use landfall_sim::{ManualClock, Scenario, SimHandle, SimOptions};
use reqwest::Method;
use serde_json::{Value as Json, json};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

const T0: OffsetDateTime = datetime!(2026-03-02 09:00 UTC);
const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/azure"
);

struct Env {
    sim: SimHandle,
    clock: Arc<ManualClock>,
    client: reqwest::Client,
    /// The service principal's token.
    sp: String,
    /// The interactive user's token.
    user: String,
}

struct Reply {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Json,
}

impl Reply {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }
}

fn token(sim: &SimHandle, tenant: &str, oid: &str, upn: Option<&str>) -> String {
    let now = T0.unix_timestamp();
    let id = &sim.sim.options.identity;
    let mut claims = json!({
        "aud": format!("{}/", sim.base_url),
        "iss": format!("https://sts.windows.net/{tenant}/"),
        "iat": now,
        "nbf": now,
        "exp": now + 30 * 86400,
        "tid": tenant,
        "oid": oid,
        "sub": oid,
        "appid": id.client_id,
    });
    match upn {
        Some(u) => claims["upn"] = json!(u),
        None => claims["idtyp"] = json!("app"),
    }
    let claims: Claims = serde_json::from_value(claims).unwrap();
    sim.sim.tokens.issue(&claims)
}

async fn env(scenario: Scenario) -> Env {
    let clock = Arc::new(ManualClock::new(T0));
    let sim = common::start(SimOptions {
        clock: clock.clone(),
        scenario,
        ..SimOptions::default()
    })
    .await;
    let id = sim.sim.options.identity.clone();
    let sp = token(&sim, &id.tenant_id, &id.client_object_id, None);
    let user = token(&sim, &id.tenant_id, &id.user_object_id, Some(&id.user_upn));
    let client = common::client(&sim);
    Env {
        sim,
        clock,
        client,
        sp,
        user,
    }
}

impl Env {
    fn sub(&self) -> String {
        self.sim.sim.options.identity.subscription_id.clone()
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.sim.base_url)
        }
    }

    async fn call_as(&self, token: &str, method: Method, path: &str, body: Option<&str>) -> Reply {
        let mut r = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r
                .header("content-type", "application/json")
                .body(b.to_owned());
        }
        let resp = r.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        let body = if text.is_empty() {
            Json::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Json::String(text))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str) -> Reply {
        self.call_as(&self.sp, Method::GET, path, None).await
    }

    async fn send(&self, method: Method, path: &str, body: Json) -> Reply {
        let text = body.to_string();
        self.call_as(&self.sp, method, path, Some(&text)).await
    }

    async fn create_group(&self, name: &str, location: &str) {
        let r = self
            .send(
                Method::PUT,
                &format!(
                    "/subscriptions/{}/resourcegroups/{name}?api-version=2021-04-01",
                    self.sub()
                ),
                json!({"location": location}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }

    /// Puts a resource into the simulated cloud as a deployment would.
    fn put_resource(&self, id: &str, location: &str, tags: Json, extra: Json, properties: Json) {
        let mut st = self.sim.sim.lock_state();
        let mut parts = id.rsplit('/');
        let name = parts.next().unwrap().to_owned();
        let segs: Vec<&str> = id.split('/').collect();
        let p = segs
            .iter()
            .position(|s| s.eq_ignore_ascii_case("providers"))
            .unwrap();
        let types: Vec<&str> = segs[p + 2..].iter().step_by(2).copied().collect();
        st.groups.put_resource(Resource {
            id: id.to_owned(),
            name,
            resource_type: format!("{}/{}", segs[p + 1], types.join("/")),
            location: Some(location.to_owned()),
            tags: tags.as_object().cloned().unwrap_or_default(),
            extra: extra.as_object().cloned().unwrap_or_default(),
            properties,
            api_version: "2023-01-01".into(),
            created_time: T0,
            changed_time: T0,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Recordings

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap()
}

/// The response bodies of a java-fluent-sdk recording, in order.
fn java_bodies(file: &str) -> Vec<(String, String, Json)> {
    let v: Json =
        serde_json::from_str(&read(&format!("recordings/java-fluent-sdk/{file}"))).unwrap();
    v["networkCallRecords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let body = r["Response"]["Body"].as_str().unwrap_or("");
            (
                r["Method"].as_str().unwrap().to_owned(),
                r["Uri"].as_str().unwrap().to_owned(),
                serde_json::from_str(body).unwrap_or(Json::Null),
            )
        })
        .collect()
}

/// The first response body after `url_part` in an azd (go-vcr YAML) cassette: bodies are
/// single-quoted YAML scalars on one line.
fn azd_body(file: &str, url_part: &str) -> Json {
    let text = read(&format!("recordings/azd/{file}"));
    let at = text.find(url_part).unwrap();
    let response = at + text[at..].find("response:").unwrap();
    let start = response + text[response..].find("body: '").unwrap() + "body: '".len();
    let end = start + text[start..].find("'\n").unwrap();
    serde_json::from_str(&text[start..end].replace("''", "'")).unwrap()
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "bool",
        Json::Number(_) => "number",
        Json::String(_) => "string",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
    }
}

/// Every field of `recorded` exists in `ours` with the same JSON type (arrays: first items;
/// `tags` only as objects, their keys being the recorded session's data).
fn assert_shape(recorded: &Json, ours: &Json, path: &str) {
    match (recorded, ours) {
        (Json::Null, _) => {}
        (Json::Object(r), Json::Object(o)) => {
            for (k, v) in r {
                let Some(ov) = o.get(k) else {
                    panic!("{path}.{k} is missing; ours: {ours}");
                };
                if k == "tags" {
                    // User data: the keys are whatever the recorded session used.
                    assert_eq!(kind(v), kind(ov), "{path}.tags");
                } else {
                    assert_shape(v, ov, &format!("{path}.{k}"));
                }
            }
        }
        (Json::Array(r), Json::Array(o)) => {
            if let (Some(r0), Some(o0)) = (r.first(), o.first()) {
                assert_shape(r0, o0, &format!("{path}[0]"));
            }
        }
        (r, o) => assert_eq!(kind(r), kind(o), "{path}: recorded {r}, ours {o}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Tenants, subscriptions, locations

#[tokio::test]
async fn tenants_match_the_recording_and_the_user_also_sees_the_guest_tenant() {
    let e = env(Scenario::default()).await;
    let id = e.sim.sim.options.identity.clone();
    let recorded = &java_bodies("canListTenants.json")[0].2;
    let r = e.get("/tenants?api-version=2020-01-01").await;
    assert_eq!(r.status, 200);
    assert_shape(recorded, &r.body, "tenants");
    assert_eq!(r.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(r.body["value"][0]["tenantCategory"], "Home");
    assert_eq!(r.body["value"][0]["tenantId"], id.tenant_id.as_str());
    assert!(r.header("x-ms-request-id").len() > 10);

    let r = e
        .call_as(
            &e.user,
            Method::GET,
            "/tenants?api-version=2022-12-01",
            None,
        )
        .await;
    let tenants = r.body["value"].as_array().unwrap();
    assert_eq!(tenants.len(), 2);
    assert_eq!(tenants[1]["tenantId"], id.guest_tenant_id.as_str());
    assert_eq!(tenants[1]["tenantCategory"], "ProjectedBy");
    assert!(tenants[0]["defaultDomain"].as_str().unwrap().contains('.'));
}

#[tokio::test]
async fn subscriptions_match_the_recording_and_others_are_refused_as_arm_does() {
    let e = env(Scenario::default()).await;
    let id = e.sim.sim.options.identity.clone();
    let recorded = &java_bodies("canListSubscriptions.json")[0].2;
    let r = e.get("/subscriptions?api-version=2020-01-01").await;
    assert_eq!(r.status, 200);
    assert_shape(recorded, &r.body, "subscriptions");
    assert_eq!(r.body["value"][0]["subscriptionId"], e.sub().as_str());
    assert_eq!(r.body["value"][0]["state"], "Enabled");

    let one = e
        .get(&format!(
            "/subscriptions/{}?api-version=2022-12-01",
            e.sub()
        ))
        .await;
    assert_eq!(one.status, 200);
    assert_shape(&recorded["value"][0], &one.body, "subscription");

    let other = "0b1c2d3e-0000-4000-8000-0000000000ff";
    let r = e
        .get(&format!(
            "/subscriptions/{other}/resourcegroups?api-version=2021-04-01"
        ))
        .await;
    assert_eq!((r.status, r.code()), (404, "SubscriptionNotFound"));
    assert_eq!(
        r.message(),
        format!("The subscription '{other}' could not be found.")
    );
    let r = e
        .get("/subscriptions/not-a-guid/resourcegroups?api-version=2021-04-01")
        .await;
    assert_eq!((r.status, r.code()), (400, "InvalidSubscriptionId"));

    // A token from the guest tenant sees no subscription, and cannot use this one.
    let guest = token(
        &e.sim,
        &id.guest_tenant_id,
        &id.user_object_id,
        Some(&id.user_upn),
    );
    let r = e
        .call_as(
            &guest,
            Method::GET,
            "/subscriptions?api-version=2022-12-01",
            None,
        )
        .await;
    assert_eq!(r.body["value"], json!([]));
    let r = e
        .call_as(
            &guest,
            Method::GET,
            &format!(
                "/subscriptions/{}/resourcegroups?api-version=2021-04-01",
                e.sub()
            ),
            None,
        )
        .await;
    assert_eq!(
        (r.status, r.code()),
        (401, "InvalidAuthenticationTokenTenant")
    );
    assert!(r.header("www-authenticate").contains(&id.tenant_id));
}

#[tokio::test]
async fn locations_match_both_recordings_with_zone_mappings() {
    let e = env(Scenario::default()).await;
    let path = format!("/subscriptions/{}/locations", e.sub());
    let old = e.get(&format!("{path}?api-version=2020-01-01")).await;
    assert_eq!(old.status, 200);
    assert_shape(
        &java_bodies("canListLocations.json")[1].2,
        &old.body,
        "locations",
    );
    let new = e.get(&format!("{path}?api-version=2022-12-01")).await;
    let recorded = azd_body(
        "Test_CLI_ProvisionState.yaml",
        "/locations?api-version=2022-12-01",
    );
    assert_shape(&recorded, &new.body, "locations");

    let all = new.body["value"].as_array().unwrap();
    let find = |n: &str| all.iter().find(|l| l["name"] == n).unwrap().clone();
    for n in [
        "eastus",
        "eastus2",
        "westus2",
        "westus3",
        "centralus",
        "northeurope",
        "westeurope",
        "uksouth",
        "swedencentral",
        "southeastasia",
        "australiaeast",
        "japaneast",
    ] {
        assert_eq!(find(n)["metadata"]["regionType"], "Physical", "{n}");
    }
    let eastus = find("eastus");
    assert_eq!(eastus["metadata"]["pairedRegion"][0]["name"], "westus");
    assert_eq!(
        eastus["availabilityZoneMappings"][1],
        json!({"logicalZone": "2", "physicalZone": "eastus-az3"})
    );
    assert!(find("westus").get("availabilityZoneMappings").is_none());
    assert_eq!(find("eastusstage")["metadata"]["regionType"], "Logical");
}

// ---------------------------------------------------------------------------------------------
// Resource groups

#[tokio::test]
async fn resource_group_lifecycle_follows_the_recording_with_async_delete() {
    let e = env(Scenario::default()).await;
    let recorded = java_bodies("canCreateResourceGroup.json");
    let path = format!(
        "/subscriptions/{}/resourcegroups/rg08167a?api-version=2020-06-01",
        e.sub()
    );
    // The tags the recorded session created the group with.
    let tags = recorded[0].2["tags"].clone();
    let r = e
        .send(
            Method::PUT,
            &path,
            json!({"location": "southcentralus", "tags": tags}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_shape(&recorded[0].2, &r.body, "created");
    assert_eq!(
        r.body["id"],
        format!("/subscriptions/{}/resourceGroups/rg08167a", e.sub())
    );

    let list = e
        .get(&format!(
            "/subscriptions/{}/resourcegroups?%24filter=tagname%20eq%20%27department%27%20and%20tagvalue%20eq%20%27finance%27&api-version=2020-06-01",
            e.sub()
        ))
        .await;
    assert_eq!(list.status, 200);
    assert_shape(&recorded[1].2, &list.body, "filtered list");
    assert_eq!(list.body["value"].as_array().unwrap().len(), 1);
    let none = e
        .get(&format!(
            "/subscriptions/{}/resourcegroups?$filter=tagName+eq+%27department%27+and+tagValue+eq+%27sales%27&api-version=2021-04-01",
            e.sub()
        ))
        .await;
    assert_eq!(none.body["value"], json!([]));

    let head = e.call_as(&e.sp, Method::HEAD, &path, None).await;
    assert_eq!(head.status, 204);
    let got = e.get(&path).await;
    assert_shape(&recorded[3].2, &got.body, "get");

    let mut tags = tags;
    tags["tag1"] = json!("value1");
    let r = e
        .send(
            Method::PUT,
            &path,
            json!({"location": "southcentralus", "tags": tags}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["tags"]["tag1"], "value1");

    let del = e.call_as(&e.sp, Method::DELETE, &path, None).await;
    assert_eq!(del.status, 202);
    let location = del.header("location").to_owned();
    assert!(location.starts_with(&format!(
        "{}/subscriptions/{}/operationresults/",
        e.sim.base_url,
        e.sub()
    )));
    assert!(location.ends_with("api-version=2020-06-01"));
    assert_eq!(del.header("retry-after"), "0");

    let deleting = e.get(&path).await;
    assert_eq!(deleting.body["properties"]["provisioningState"], "Deleting");
    let again = e.call_as(&e.sp, Method::DELETE, &path, None).await;
    assert_eq!(
        (again.status, again.header("location")),
        (202, location.as_str())
    );
    let busy = e
        .send(Method::PUT, &path, json!({"location": "southcentralus"}))
        .await;
    assert_eq!(
        (busy.status, busy.code()),
        (409, "ResourceGroupBeingDeleted")
    );

    let poll = e.get(&location).await;
    assert_eq!(poll.status, 202);
    assert_eq!(poll.header("location"), location);

    e.clock.advance(Duration::seconds(31));
    let done = e.get(&location).await;
    assert_eq!((done.status, done.body.clone()), (200, Json::Null));
    let head = e.call_as(&e.sp, Method::HEAD, &path, None).await;
    assert_eq!(head.status, 404);
    let gone = e.get(&path).await;
    assert_eq!((gone.status, gone.code()), (404, "ResourceGroupNotFound"));
    assert_eq!(
        gone.message(),
        "Resource group 'rg08167a' could not be found."
    );
}

#[tokio::test]
async fn resource_group_writes_are_validated_like_arm() {
    let e = env(Scenario::default()).await;
    let path = |n: &str| {
        format!(
            "/subscriptions/{}/resourcegroups/{n}?api-version=2021-04-01",
            e.sub()
        )
    };
    let r = e.call_as(&e.sp, Method::PUT, &path("rg1"), None).await;
    assert_eq!((r.status, r.code()), (400, "InvalidRequestContent"));
    let r = e
        .call_as(&e.sp, Method::PUT, &path("rg1"), Some("{\"location\":"))
        .await;
    assert_eq!((r.status, r.code()), (400, "InvalidRequestContent"));
    let r = e.send(Method::PUT, &path("rg1"), json!({})).await;
    assert_eq!((r.status, r.code()), (400, "LocationRequired"));
    assert_eq!(
        r.message(),
        "The location property is required for this definition."
    );
    let r = e
        .send(Method::PUT, &path("rg1"), json!({"location": "atlantis"}))
        .await;
    assert_eq!(
        (r.status, r.code()),
        (400, "LocationNotAvailableForResourceGroup")
    );
    assert!(
        r.message()
            .contains("List of available regions is 'eastus,")
    );
    for bad in ["ends-with-dot.", "has%20space", "semi%3Bcolon"] {
        let r = e
            .send(Method::PUT, &path(bad), json!({"location": "eastus"}))
            .await;
        assert_eq!((r.status, r.code()), (400, "InvalidResourceGroup"), "{bad}");
    }
    let long = "a".repeat(91);
    let r = e
        .send(Method::PUT, &path(&long), json!({"location": "eastus"}))
        .await;
    assert_eq!(r.code(), "InvalidResourceGroup");

    let r = e
        .send(
            Method::PUT,
            &path("rg(1)_a.b"),
            json!({"location": "East US"}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["location"].as_str()),
        (201, Some("eastus"))
    );
    let r = e
        .send(
            Method::PUT,
            &path("rg(1)_a.b"),
            json!({"location": "westus2"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (409, "InvalidResourceGroupLocation"));
    assert_eq!(
        r.message(),
        "Invalid resource group location 'westus2'. The Resource group already exists in location 'eastus'."
    );
    let r = e
        .send(
            Method::PATCH,
            &path("rg(1)_a.b"),
            json!({"tags": {"env": "demo"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["tags"]["env"].as_str()),
        (200, Some("demo"))
    );
    let r = e.call_as(&e.sp, Method::DELETE, &path("nope"), None).await;
    assert_eq!((r.status, r.code()), (404, "ResourceGroupNotFound"));
}

#[tokio::test]
async fn resource_group_list_pages_with_next_links() {
    let e = env(Scenario::default()).await;
    for i in 0..3 {
        e.create_group(&format!("rg-page-{i}"), "eastus").await;
    }
    let mut url = format!(
        "/subscriptions/{}/resourcegroups?api-version=2021-04-01&$top=2",
        e.sub()
    );
    let mut names = Vec::new();
    let mut pages = 0;
    loop {
        let r = e.get(&url).await;
        pages += 1;
        for g in r.body["value"].as_array().unwrap() {
            names.push(g["name"].as_str().unwrap().to_owned());
        }
        match r.body["nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 2);
    assert_eq!(names, ["rg-page-0", "rg-page-1", "rg-page-2"]);
}

#[tokio::test]
async fn paths_and_names_are_matched_case_insensitively() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    let r = e
        .send(
            Method::PUT,
            &format!("/subscriptions/{sub}/resourceGroups/MyRG?api-version=2021-04-01"),
            json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = e
        .get(&format!(
            "/subscriptions/{}/RESOURCEGROUPS/myrg?api-version=2021-04-01",
            sub.to_uppercase()
        ))
        .await;
    assert_eq!((r.status, r.body["name"].as_str()), (200, Some("MyRG")));
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/providers/microsoft.keyvault?api-version=2021-04-01"
        ))
        .await;
    assert_eq!(r.body["namespace"], "Microsoft.KeyVault");
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/providers/MICROSOFT.COMPUTE/Locations/EastUS/usages?API-VERSION=2024-03-01"
        ))
        .await;
    assert_eq!(r.status, 200);

    // A deployments path in unusual casing reaches the deployments routes all the same.
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/RESOURCEGROUPS/MyRG/PROVIDERS/MICROSOFT.RESOURCES/DEPLOYMENTS?api-version=2021-04-01"
        ))
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert!(r.body["value"].is_array());
}

#[tokio::test]
async fn unknown_routes_and_methods_get_arm_errors() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/widgets?api-version=2021-04-01"
        ))
        .await;
    assert_eq!((r.status, r.code()), (404, "InvalidResourceType"));
    let r = e
        .call_as(
            &e.sp,
            Method::DELETE,
            &format!("/subscriptions/{sub}/locations?api-version=2022-12-01"),
            None,
        )
        .await;
    assert_eq!((r.status, r.code()), (405, "MethodNotAllowed"));
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/operationresults/bm90LWFuLW9w?api-version=2021-04-01"
        ))
        .await;
    assert_eq!(r.status, 404);
}

// ---------------------------------------------------------------------------------------------
// Providers

#[tokio::test]
async fn provider_registration_moves_through_registering_to_registered() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    let recorded = java_bodies("canUnregisterAndRegisterProvider.json");
    let list = e
        .get(&format!(
            "/subscriptions/{sub}/providers?api-version=2020-06-01"
        ))
        .await;
    assert_eq!(list.status, 200);
    let providers = list.body["value"].as_array().unwrap();
    let acr = providers
        .iter()
        .find(|p| p["namespace"] == "Microsoft.ContainerRegistry")
        .unwrap();
    let recorded_acr = &recorded[0].2["value"][0];
    let mut expected = recorded_acr.clone();
    expected.as_object_mut().unwrap().remove("authorizations");
    assert_shape(&expected, acr, "provider");
    let state = |ns: &str| {
        providers.iter().find(|p| p["namespace"] == ns).unwrap()["registrationState"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(state("Microsoft.ContainerService"), "NotRegistered");
    assert_eq!(state("Microsoft.DBforMySQL"), "NotRegistered");
    assert_eq!(state("Microsoft.Storage"), "Registered");
    for ns in [
        "Microsoft.Resources",
        "Microsoft.Network",
        "Microsoft.KeyVault",
        "Microsoft.OperationalInsights",
        "Microsoft.Authorization",
        "Microsoft.Compute",
        "Microsoft.ManagedIdentity",
        "microsoft.insights",
        "Microsoft.ContainerRegistry",
    ] {
        assert!(providers.iter().any(|p| p["namespace"] == ns), "{ns}");
    }

    let ns_path = format!("/subscriptions/{sub}/providers/Microsoft.ContainerService");
    let r = e
        .call_as(
            &e.sp,
            Method::POST,
            &format!("{ns_path}/register?api-version=2020-06-01"),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["registrationState"], "Registering");
    let mut expected = recorded[5].2.clone();
    expected.as_object_mut().unwrap().remove("authorizations");
    assert_shape(&expected, &r.body, "register");
    let aks = r.body["resourceTypes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["resourceType"] == "managedClusters")
        .unwrap()
        .clone();
    assert!(
        aks["locations"]
            .as_array()
            .unwrap()
            .contains(&json!("East US"))
    );

    e.clock.advance(Duration::seconds(60));
    let r = e.get(&format!("{ns_path}?api-version=2020-06-01")).await;
    assert_eq!(r.body["registrationState"], "Registering");
    e.clock.advance(Duration::seconds(15));
    let r = e.get(&format!("{ns_path}?api-version=2020-06-01")).await;
    assert_eq!(r.body["registrationState"], "Registered");

    let r = e
        .call_as(
            &e.sp,
            Method::POST,
            &format!("{ns_path}/unregister?api-version=2020-06-01"),
            None,
        )
        .await;
    assert_eq!(r.body["registrationState"], "Unregistering");
    e.clock.advance(Duration::seconds(10));
    let r = e.get(&format!("{ns_path}?api-version=2020-06-01")).await;
    assert_eq!(r.body["registrationState"], "Unregistered");

    let r = e
        .get(&format!(
            "/subscriptions/{sub}/providers/Contoso.Widgets?api-version=2021-04-01"
        ))
        .await;
    assert_eq!((r.status, r.code()), (404, "InvalidResourceNamespace"));
}

// ---------------------------------------------------------------------------------------------
// Generic resources

#[tokio::test]
async fn resources_are_listed_by_group_and_found_by_tag() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    e.create_group("rg-demo", "eastus").await;
    e.create_group("rg-other", "eastus").await;
    let rg = format!("/subscriptions/{sub}/resourceGroups/rg-demo");
    let tag = json!({"landfall-instance": "demo1", "landfall-version": "1.0.0"});
    e.put_resource(
        &format!("{rg}/providers/Microsoft.Storage/storageAccounts/stdemo1"),
        "eastus",
        tag.clone(),
        json!({"sku": {"name": "Standard_LRS", "tier": "Standard"}, "kind": "StorageV2"}),
        json!({"provisioningState": "Succeeded"}),
    );
    e.put_resource(
        &format!("{rg}/providers/Microsoft.KeyVault/vaults/kv-demo1"),
        "eastus",
        tag,
        json!({}),
        json!({"provisioningState": "Succeeded", "vaultUri": "https://kv-demo1.vault.azure.net/"}),
    );
    e.put_resource(
        &format!("{rg}/providers/Microsoft.Network/virtualNetworks/vnet/subnets/aks"),
        "eastus",
        json!({}),
        json!({}),
        json!({"addressPrefix": "10.0.0.0/22"}),
    );
    e.put_resource(
        &format!("/subscriptions/{sub}/resourceGroups/rg-other/providers/Microsoft.Storage/storageAccounts/stother"),
        "westus2",
        json!({}),
        json!({"kind": "StorageV2"}),
        json!({}),
    );

    let r = e
        .get(&format!(
            "/subscriptions/{sub}/resourceGroups/rg-demo/resources?api-version=2021-04-01"
        ))
        .await;
    assert_eq!(r.status, 200);
    let recorded = azd_body(
        "Test_CLI_ProvisionState.yaml",
        "/resources?api-version=2021-04-01",
    );
    let storage = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == "stdemo1")
        .unwrap();
    assert_shape(&recorded["value"][0], storage, "resources");
    let names: Vec<&str> = r.body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["kv-demo1", "stdemo1"],
        "child resources are not listed"
    );
    assert!(r.body["value"][0].get("properties").is_none());

    let tagged = e
        .get(&format!(
            "/subscriptions/{sub}/resources?$filter=tagName%20eq%20%27landfall-instance%27&api-version=2021-04-01"
        ))
        .await;
    assert_eq!(tagged.body["value"].as_array().unwrap().len(), 2);
    let other = e
        .get(&format!(
            "/subscriptions/{sub}/resources?$filter=tagName eq 'landfall-instance' and tagValue eq 'demo2'&api-version=2021-04-01"
        ))
        .await;
    assert_eq!(other.body["value"], json!([]));
    let by_type = e
        .get(&format!(
            "/subscriptions/{sub}/resources?$filter=resourceType eq 'Microsoft.Storage/storageAccounts'&$expand=createdTime,provisioningState&api-version=2021-04-01"
        ))
        .await;
    let items = by_type.body["value"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["createdTime"], "2026-03-02T09:00:00Z");
    assert!(items[0].get("provisioningState").is_some());
    let bad = e
        .get(&format!(
            "/subscriptions/{sub}/resources?$filter=name gt 'a'&api-version=2021-04-01"
        ))
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (400, "InvalidFilterInQueryString")
    );

    let id = format!("{rg}/providers/Microsoft.Storage/storageAccounts/stdemo1");
    let r = e
        .get(&format!("{}?api-version=2023-01-01", id.to_lowercase()))
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["id"], id.as_str());
    assert_eq!(r.body["properties"]["provisioningState"], "Succeeded");
    assert_eq!(r.body["sku"]["name"], "Standard_LRS");
    let head = e
        .call_as(
            &e.sp,
            Method::HEAD,
            &format!("{id}?api-version=2023-01-01"),
            None,
        )
        .await;
    assert_eq!(head.status, 204);
    let collection = e
        .get(&format!(
            "{rg}/providers/Microsoft.Storage/storageAccounts?api-version=2023-01-01"
        ))
        .await;
    assert_eq!(collection.body["value"].as_array().unwrap().len(), 1);

    let missing = e
        .get(&format!(
            "{rg}/providers/Microsoft.Storage/storageAccounts/nope?api-version=2023-01-01"
        ))
        .await;
    assert_eq!((missing.status, missing.code()), (404, "ResourceNotFound"));
    assert_eq!(
        missing.message(),
        "The Resource 'Microsoft.Storage/storageAccounts/nope' under resource group 'rg-demo' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    );
    let r = e
        .get(&format!(
            "{rg}/providers/Contoso.Widgets/widgets/w?api-version=2023-01-01"
        ))
        .await;
    assert_eq!((r.status, r.code()), (404, "InvalidResourceNamespace"));
    let r = e
        .get(&format!(
            "{rg}/providers/Microsoft.Storage/widgets/w?api-version=2023-01-01"
        ))
        .await;
    assert_eq!((r.status, r.code()), (404, "InvalidResourceType"));
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/resourceGroups/rg-none/providers/Microsoft.Storage/storageAccounts/x?api-version=2023-01-01"
        ))
        .await;
    assert_eq!((r.status, r.code()), (404, "ResourceGroupNotFound"));
}

// ---------------------------------------------------------------------------------------------
// Key Vault soft delete, names

#[tokio::test]
async fn deleting_a_group_soft_deletes_its_vaults_until_purged() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    e.create_group("rg-kv", "eastus").await;
    e.put_resource(
        &format!("/subscriptions/{sub}/resourceGroups/rg-kv/providers/Microsoft.KeyVault/vaults/kv-landfall-01"),
        "eastus",
        json!({"landfall-instance": "demo1"}),
        json!({}),
        json!({"provisioningState": "Succeeded"}),
    );
    let del = e
        .call_as(
            &e.sp,
            Method::DELETE,
            &format!("/subscriptions/{sub}/resourcegroups/rg-kv?api-version=2021-04-01"),
            None,
        )
        .await;
    assert_eq!(del.status, 202);
    e.clock.advance(Duration::seconds(40));
    assert_eq!(e.get(del.header("location")).await.status, 200);

    let list = e
        .get(&format!(
            "/subscriptions/{sub}/providers/Microsoft.KeyVault/deletedVaults?api-version=2023-07-01"
        ))
        .await;
    let v = &list.body["value"][0];
    assert_eq!(v["name"], "kv-landfall-01");
    assert_eq!(v["type"], "Microsoft.KeyVault/deletedVaults");
    assert_eq!(v["properties"]["location"], "eastus");
    assert_eq!(v["properties"]["deletionDate"], "2026-03-02T09:00:40Z");
    assert_eq!(
        v["properties"]["scheduledPurgeDate"],
        "2026-05-31T09:00:40Z"
    );
    assert_eq!(v["properties"]["tags"]["landfall-instance"], "demo1");
    let deleted = format!(
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/eastus/deletedVaults/kv-landfall-01"
    );
    let r = e.get(&format!("{deleted}?api-version=2023-07-01")).await;
    assert_eq!(
        (r.status, r.body["id"].as_str()),
        (200, Some(deleted.as_str()))
    );
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/providers/Microsoft.KeyVault/locations/westus2/deletedVaults/kv-landfall-01?api-version=2023-07-01"
        ))
        .await;
    assert_eq!(r.status, 404);

    let check = format!(
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability?api-version=2023-07-01"
    );
    let body = json!({"name": "kv-landfall-01", "type": "Microsoft.KeyVault/vaults"});
    let r = e.send(Method::POST, &check, body.clone()).await;
    assert_eq!(r.body["nameAvailable"], false);
    assert_eq!(r.body["reason"], "AlreadyExists");
    assert!(
        r.body["message"]
            .as_str()
            .unwrap()
            .contains("recoverable state")
    );

    let purge = e
        .call_as(
            &e.sp,
            Method::POST,
            &format!("{deleted}/purge?api-version=2023-07-01"),
            None,
        )
        .await;
    assert_eq!(purge.status, 202);
    let op = purge.header("location").to_owned();
    assert_eq!(e.get(&op).await.status, 202);
    e.clock.advance(Duration::seconds(31));
    assert_eq!(e.get(&op).await.status, 200);
    assert_eq!(
        e.get(&format!("{deleted}?api-version=2023-07-01"))
            .await
            .status,
        404
    );
    let r = e.send(Method::POST, &check, body).await;
    assert_eq!(r.body, json!({"nameAvailable": true}));
}

#[tokio::test]
async fn name_availability_checks_format_use_and_taken_names() {
    let e = env(Scenario {
        taken_names: vec![
            "takenstorage01".into(),
            "taken-kv".into(),
            "taken-mysql".into(),
        ],
        ..Scenario::default()
    })
    .await;
    let sub = e.sub();
    e.create_group("rg-names", "eastus").await;
    e.put_resource(
        &format!("/subscriptions/{sub}/resourceGroups/rg-names/providers/Microsoft.Storage/storageAccounts/landfallsa01"),
        "eastus",
        json!({}),
        json!({}),
        json!({}),
    );
    let storage = format!(
        "/subscriptions/{sub}/providers/Microsoft.Storage/checkNameAvailability?api-version=2023-01-01"
    );
    let check = |path: String, name: &'static str, ty: &'static str| {
        let e = &e;
        async move {
            e.send(Method::POST, &path, json!({"name": name, "type": ty}))
                .await
                .body
        }
    };
    let st = "Microsoft.Storage/storageAccounts";
    assert_eq!(
        check(storage.clone(), "Invalid_Name", st).await,
        json!({
            "nameAvailable": false,
            "reason": "AccountNameInvalid",
            "message": "Invalid_Name is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
        })
    );
    assert_eq!(
        check(storage.clone(), "takenstorage01", st).await["message"],
        "The storage account named takenstorage01 is already taken."
    );
    assert_eq!(
        check(storage.clone(), "landfallsa01", st).await["reason"],
        "AlreadyExists"
    );
    assert_eq!(
        check(storage.clone(), "freshname123", st).await,
        json!({"nameAvailable": true})
    );

    let kv = format!(
        "/subscriptions/{sub}/providers/Microsoft.KeyVault/checkNameAvailability?api-version=2023-07-01"
    );
    let kt = "Microsoft.KeyVault/vaults";
    assert_eq!(
        check(kv.clone(), "1bad", kt).await["reason"],
        "AccountNameInvalid"
    );
    assert_eq!(
        check(kv.clone(), "Taken-KV", kt).await["reason"],
        "AlreadyExists"
    );
    assert_eq!(
        check(kv.clone(), "kv-fresh-1", kt).await["nameAvailable"],
        true
    );

    let mt = "Microsoft.DBforMySQL/flexibleServers";
    for path in [
        format!(
            "/subscriptions/{sub}/providers/Microsoft.DBforMySQL/checkNameAvailability?api-version=2023-12-30"
        ),
        format!(
            "/subscriptions/{sub}/providers/Microsoft.DBforMySQL/locations/eastus/checkNameAvailability?api-version=2023-12-30"
        ),
    ] {
        assert_eq!(
            check(path.clone(), "Bad_Name", mt).await["reason"],
            "Invalid"
        );
        assert_eq!(
            check(path.clone(), "taken-mysql", mt).await,
            json!({"nameAvailable": false, "message": "Specified server name is already used.", "reason": "AlreadyExists"})
        );
        assert_eq!(
            check(path.clone(), "mysql-fresh", mt).await,
            json!({"nameAvailable": true, "message": "", "reason": ""})
        );
    }

    let r = e.call_as(&e.sp, Method::POST, &storage, None).await;
    assert_eq!((r.status, r.code()), (400, "InvalidRequestContent"));
    let r = e.send(Method::POST, &storage, json!({"type": st})).await;
    assert_eq!((r.status, r.code()), (400, "InvalidRequestContent"));
}

// ---------------------------------------------------------------------------------------------
// Compute, MySQL

#[tokio::test]
async fn compute_usages_report_defaults_consumption_and_quota_overrides() {
    let e = env(Scenario {
        quotas: vec![
            QuotaOverride {
                location: "eastus".into(),
                name: "standardDSv3Family".into(),
                limit: 10,
                current_value: 8,
            },
            QuotaOverride {
                location: "East US".into(),
                name: "cores".into(),
                limit: 20,
                current_value: 0,
            },
        ],
        ..Scenario::default()
    })
    .await;
    let sub = e.sub();
    let usages = |loc: &'static str| {
        let e = &e;
        let sub = sub.clone();
        async move {
            let r = e
                .get(&format!(
                    "/subscriptions/{sub}/providers/Microsoft.Compute/locations/{loc}/usages?api-version=2024-03-01"
                ))
                .await;
            assert_eq!(r.status, 200);
            r.body
        }
    };
    let find = |body: &Json, name: &str| {
        body["value"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["name"]["value"] == name)
            .unwrap()
            .clone()
    };
    let spec: Json = serde_json::from_str(&read(
        "specs/examples/compute-2024-03-01_Usage_List_MaximumSet_Gen.json",
    ))
    .unwrap();
    let body = usages("eastus").await;
    assert_shape(
        &spec["responses"]["200"]["body"]["value"],
        &body["value"],
        "usages",
    );
    let ds = find(&body, "standardDSv3Family");
    assert_eq!(
        ds,
        json!({"limit": 10, "unit": "Count", "currentValue": 8,
               "name": {"value": "standardDSv3Family", "localizedValue": "Standard DSv3 Family vCPUs"}})
    );
    let cores = find(&body, "cores");
    assert_eq!(cores["name"]["localizedValue"], "Total Regional vCPUs");
    assert_eq!(
        (cores["limit"].as_i64(), cores["currentValue"].as_i64()),
        (Some(20), Some(0))
    );
    for family in [
        "standardDSv5Family",
        "standardDv5Family",
        "standardBSFamily",
        "standardESv5Family",
        "standardFSv2Family",
    ] {
        let u = find(&body, family);
        assert!(
            (10..=100).contains(&u["limit"].as_i64().unwrap()),
            "{family}"
        );
    }

    e.create_group("rg-aks", "eastus").await;
    e.put_resource(
        &format!("/subscriptions/{sub}/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/aks1"),
        "eastus",
        json!({}),
        json!({}),
        json!({"agentPoolProfiles": [{"name": "system", "vmSize": "Standard_D4s_v3", "count": 3}]}),
    );
    let body = usages("eastus").await;
    assert_eq!(find(&body, "standardDSv3Family")["currentValue"], 20);
    assert_eq!(find(&body, "cores")["currentValue"], 12);
    assert_eq!(find(&body, "virtualMachines")["currentValue"], 3);
    let west = usages("westus2").await;
    assert_eq!(find(&west, "standardDSv3Family")["currentValue"], 0);
    assert_eq!(find(&west, "standardDSv3Family")["limit"], 100);

    let r = e
        .get(&format!(
            "/subscriptions/{sub}/providers/Microsoft.Compute/locations/atlantis/usages?api-version=2024-03-01"
        ))
        .await;
    assert_eq!((r.status, r.code()), (400, "NoRegisteredProviderFound"));
}

#[tokio::test]
async fn compute_skus_carry_location_and_zone_restrictions_from_the_scenario() {
    let e = env(Scenario {
        unavailable_skus: vec![
            SkuRestriction {
                location: "eastus".into(),
                sku: "Standard_D4s_v3".into(),
                zones: vec![],
            },
            SkuRestriction {
                location: "westus2".into(),
                sku: "Standard_D8s_v5".into(),
                zones: vec!["2".into()],
            },
        ],
        ..Scenario::default()
    })
    .await;
    let sub = e.sub();
    let skus = |loc: &'static str| {
        let e = &e;
        let sub = sub.clone();
        async move {
            e.get(&format!(
                "/subscriptions/{sub}/providers/Microsoft.Compute/skus?api-version=2021-07-01&$filter=location%20eq%20%27{loc}%27"
            ))
            .await
            .body["value"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    let find = |v: &[Json], n: &str| v.iter().find(|s| s["name"] == n).unwrap().clone();
    let east = skus("eastus").await;
    assert!(east.iter().all(|s| s["locations"] == json!(["eastus"])));
    let d4 = find(&east, "Standard_D4s_v3");
    assert_eq!(
        d4["restrictions"],
        json!([{"type": "Location", "values": ["eastus"],
                "restrictionInfo": {"locations": ["eastus"]},
                "reasonCode": "NotAvailableForSubscription"}])
    );
    assert_eq!(
        (
            d4["resourceType"].as_str(),
            d4["tier"].as_str(),
            d4["size"].as_str(),
            d4["family"].as_str()
        ),
        (
            Some("virtualMachines"),
            Some("Standard"),
            Some("D4s_v3"),
            Some("standardDSv3Family")
        )
    );
    let cap = |s: &Json, n: &str| {
        s["capabilities"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()["value"]
            .clone()
    };
    assert_eq!(
        (cap(&d4, "vCPUs"), cap(&d4, "MemoryGB")),
        (json!("4"), json!("16"))
    );
    assert_eq!(find(&east, "Standard_D2s_v3")["restrictions"], json!([]));
    assert_eq!(d4["locationInfo"][0]["zones"], json!(["1", "2", "3"]));

    let west2 = skus("westus2").await;
    let d8 = find(&west2, "Standard_D8s_v5");
    assert_eq!(d8["restrictions"][0]["type"], "Zone");
    assert_eq!(
        d8["restrictions"][0]["restrictionInfo"]["zones"],
        json!(["2"])
    );
    assert_eq!(find(&west2, "Standard_D4s_v3")["restrictions"], json!([]));
    let west = skus("westus").await;
    assert_eq!(
        find(&west, "Standard_B2s")["locationInfo"][0]["zones"],
        json!([])
    );
    assert!(skus("atlantis").await.is_empty());
}

#[tokio::test]
async fn mysql_capabilities_describe_editions_skus_and_ha_per_region() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    let caps = |loc: &str| {
        format!(
            "/subscriptions/{sub}/providers/Microsoft.DBforMySQL/locations/{loc}/capabilities?api-version=2023-12-30"
        )
    };
    let r = e.get(&caps("eastus")).await;
    assert_eq!(r.status, 200);
    let entries = r.body["value"].as_array().unwrap();
    let zones: Vec<&str> = entries
        .iter()
        .map(|v| v["zone"].as_str().unwrap())
        .collect();
    assert_eq!(zones, ["none", "1", "2", "3"]);
    assert_eq!(
        entries[0]["supportedHAMode"],
        json!(["SameZone", "ZoneRedundant"])
    );
    let editions = entries[0]["supportedFlexibleServerEditions"]
        .as_array()
        .unwrap();
    let names: Vec<&str> = editions
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Burstable", "GeneralPurpose", "MemoryOptimized"]);
    let skus = |i: usize| -> Vec<String> {
        editions[i]["supportedServerVersions"][0]["supportedSkus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert!(skus(0).contains(&"Standard_B1ms".to_owned()));
    assert!(skus(1).contains(&"Standard_D2ds_v4".to_owned()));
    assert_eq!(
        editions[1]["supportedStorageEditions"][0]["minStorageSize"],
        20480
    );
    let versions: Vec<&str> = editions[1]["supportedServerVersions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["5.7", "8.0.21"]);

    let west = e.get(&caps("westus")).await;
    assert_eq!(west.body["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        west.body["value"][0]["supportedHAMode"],
        json!(["SameZone"])
    );
    let r = e.get(&caps("atlantis")).await;
    assert_eq!((r.status, r.code()), (400, "NoRegisteredProviderFound"));
}

// ---------------------------------------------------------------------------------------------
// Authorization

#[tokio::test]
async fn owner_can_assign_roles_and_contributor_cannot() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    let id = e.sim.sim.options.identity.clone();
    e.create_group("rg-rbac", "eastus").await;
    let perms = format!(
        "/subscriptions/{sub}/resourceGroups/rg-rbac/providers/Microsoft.Authorization/permissions?api-version=2022-04-01"
    );
    let r = e.get(&perms).await;
    assert_eq!(
        r.body,
        json!({"value": [{"actions": ["*"], "notActions": [], "dataActions": [], "notDataActions": []}]})
    );

    let principal = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    let name = "6f1c1a52-6b7e-4a57-9d53-2c7d6c9e0a11";
    let assignment = format!(
        "/subscriptions/{sub}/resourceGroups/rg-rbac/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"
    );
    let body = json!({"properties": {
        "roleDefinitionId": format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}"),
        "principalId": principal,
        "principalType": "ServicePrincipal"
    }});
    let r = e.send(Method::PUT, &assignment, body.clone()).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["name"], name);
    assert_eq!(r.body["type"], "Microsoft.Authorization/roleAssignments");
    assert_eq!(
        r.body["properties"]["scope"],
        format!("/subscriptions/{sub}/resourceGroups/rg-rbac")
    );
    assert_eq!(r.body["properties"]["principalId"], principal);
    assert_eq!(e.get(&assignment).await.status, 200);
    let dup = e
        .send(
            Method::PUT,
            &assignment.replace(name, "0e7a3c1e-9d5e-4e52-a1a4-5d2b8f3c9e77"),
            body.clone(),
        )
        .await;
    assert_eq!((dup.status, dup.code()), (409, "RoleAssignmentExists"));

    let list = |filter: &str| {
        format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01{filter}"
        )
    };
    assert_eq!(
        e.get(&list("")).await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        e.get(&list("&$filter=atScope()")).await.body["value"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let mine = e
        .get(&list(&format!(
            "&$filter=principalId%20eq%20%27{}%27",
            id.client_object_id
        )))
        .await;
    assert_eq!(mine.body["value"].as_array().unwrap().len(), 1);
    assert!(
        mine.body["value"][0]["properties"]["roleDefinitionId"]
            .as_str()
            .unwrap()
            .ends_with("8e3af657-a8ff-443c-a75c-2fe8c4bcb635")
    );

    // The service principal becomes Contributor: it keeps "*" but loses role assignment writes.
    {
        let mut st = e.sim.sim.lock_state();
        let identity = st.identity.clone();
        st.authorization
            .set_subscription_role(&identity, &id.client_object_id, CONTRIBUTOR, T0);
    }
    let r = e.get(&perms).await;
    let not_actions = r.body["value"][0]["notActions"].as_array().unwrap();
    assert!(not_actions.contains(&json!("Microsoft.Authorization/*/Write")));
    let other = assignment.replace(name, "9b0d6a2e-1c3f-4b5a-8e7d-6f5e4d3c2b1a");
    let body2 = json!({"properties": {
        "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"),
        "principalId": principal
    }});
    let r = e.send(Method::PUT, &other, body2.clone()).await;
    assert_eq!((r.status, r.code()), (403, "AuthorizationFailed"));
    assert!(
        r.message()
            .contains("'Microsoft.Authorization/roleAssignments/write'")
    );
    assert!(r.message().contains(&id.client_object_id));
    let r = e
        .call_as(&e.user, Method::PUT, &other, Some(&body2.to_string()))
        .await;
    assert_eq!(r.status, 201, "the user is still Owner");

    let r = e
        .send(
            Method::PUT,
            &assignment.replace(name, "not-a-guid"),
            body.clone(),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "InvalidRoleAssignmentId"));
    let unknown_role = json!({"properties": {
        "roleDefinitionId": "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000",
        "principalId": principal
    }});
    let r = e
        .call_as(
            &e.user,
            Method::PUT,
            &assignment.replace(name, "1a2b3c4d-0000-4000-8000-000000000001"),
            Some(&unknown_role.to_string()),
        )
        .await;
    assert_eq!((r.status, r.code()), (400, "RoleDefinitionDoesNotExist"));

    let r = e.call_as(&e.user, Method::DELETE, &assignment, None).await;
    assert_eq!(r.status, 200);
    let r = e.call_as(&e.user, Method::DELETE, &assignment, None).await;
    assert_eq!(r.status, 204);
    let r = e.get(&assignment).await;
    assert_eq!((r.status, r.code()), (404, "RoleAssignmentNotFound"));
}

#[tokio::test]
async fn built_in_role_definitions_carry_their_real_ids() {
    let e = env(Scenario::default()).await;
    let sub = e.sub();
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions?$filter=roleName%20eq%20%27Contributor%27&api-version=2022-04-01"
        ))
        .await;
    let defs = r.body["value"].as_array().unwrap();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0]["name"], CONTRIBUTOR);
    assert_eq!(
        defs[0]["id"],
        format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"
        )
    );
    assert_eq!(defs[0]["properties"]["type"], "BuiltInRole");
    let r = e
        .get(&format!(
            "/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL}?api-version=2022-04-01"
        ))
        .await;
    assert_eq!(r.body["properties"]["roleName"], "AcrPull");
    let r = e
        .get(&format!(
            "/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/4633458b-17de-408a-b874-0445c86b69e6?api-version=2022-04-01"
        ))
        .await;
    assert_eq!(r.body["properties"]["roleName"], "Key Vault Secrets User");
    let r = e
        .get("/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-000000000000?api-version=2022-04-01")
        .await;
    assert_eq!((r.status, r.code()), (404, "RoleDefinitionDoesNotExist"));
}
