//! Azure Resource Manager, the subset Landfall uses. Each module owns an area and its part
//! of [`crate::state::SimState`]: [`metadata`] (the cloud metadata document),
//! [`directory`] (tenants, subscriptions, the region table), [`providers`] (catalog and
//! registration), [`groups`] (resource groups, generic resources, `$filter`), [`deployments`]
//! (template deployments and their provisioning schedule), [`operations`] (async operations
//! polled by URL), [`compute`] (usages, VM SKUs), [`mysql`] (capabilities), [`names`] (name
//! availability), [`keyvault`] (soft-deleted vaults), [`authorization`] (role assignments and
//! permissions). `request` holds what their handlers share.
//!
//! # Routing
//! ARM matches paths case-insensitively (`resourcegroups` and `resourceGroups`,
//! `Microsoft.Compute` and `microsoft.compute`), axum case-sensitively. Two steps bridge that:
//!
//! 1. Before routing, [`crate::server::router`] rewrites every ARM path with
//!    [`canonical_path`]: keyword segments (`subscriptions`, `providers`, `deployments`,
//!    `whatIf`...) and known provider namespaces get one spelling (the one ARM's specs use,
//!    `resourcegroups` included), names keep theirs. ARM routes registered with axum
//!    ([`deployments`]) are therefore written once, in that spelling. The path as sent stays
//!    available as axum's [`axum::extract::OriginalUri`], which handlers and the request log
//!    use, so IDs, links and messages keep the client's casing.
//! 2. Everything else ARM serves is nested at arbitrary depth (`{scope}/providers/
//!    Microsoft.Authorization/roleAssignments/{name}` under any resource; generic resources of
//!    any type), which axum's routes cannot express. The router's fallback parses those paths
//!    itself (`request::ArmRequest`, segments compared lower-cased) and dispatches them to
//!    the module that owns them; the other modules register no routes.
//!
//! Data and errors: handlers read and change [`crate::state::SimState`] through
//! [`crate::Sim::lock_state`] (never across an `.await`) and answer with ARM's JSON shapes;
//! refusals are ARM's error envelope ([`crate::http::arm_error`]), built where the failure is
//! found. Authentication, `api-version`, faults and throttling are applied before any of
//! this by [`crate::http::middleware`].

pub mod authorization;
pub mod compute;
pub mod deployments;
pub mod directory;
pub mod groups;
pub mod keyvault;
pub mod metadata;
pub mod mysql;
pub mod names;
pub mod operations;
pub mod providers;
pub(crate) mod request;

use std::sync::Arc;

use axum::Router;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::Sim;
use crate::http::{Caller, arm_error, is_arm_path};
use request::{ArmRequest, method_not_allowed};

/// All ARM routes: the registered ones, and the fallback that dispatches the rest.
pub fn router() -> Router<Arc<Sim>> {
    Router::new()
        .merge(metadata::router())
        .merge(deployments::router())
        .fallback(fallback)
}

/// The largest request body the dispatched handlers read.
const MAX_BODY: usize = 32 * 1024 * 1024;

/// Serves every ARM path no route matched (see the module docs).
async fn fallback(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or_else(|| parts.uri.clone(), |o| o.0.clone());
    if !is_arm_path(uri.path()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return arm_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "RequestContentTooLarge",
            "The request content size exceeds the maximum allowed size.",
        );
    };
    let caller = parts.extensions.get::<Caller>().cloned();
    let req = ArmRequest::new(parts.method, &uri, body, caller);
    dispatch(&sim, &req)
}

/// Canonical spelling of the keyword segments of an ARM path, as routes are registered:
/// `subscriptions`, `resourcegroups`, `providers`, the provider namespace as its provider
/// spells it, `deployments`, `operations`, `operationStatuses`, `validate`, `whatIf`, `cancel`,
/// `exportTemplate`, `calculateTemplateHash`... Names (subscription IDs, group names,
/// resource names) are never touched: keywords are only recognised at keyword positions
/// (`/{keyword}/{name}/{keyword}/{name}...`, with `providers/{namespace}` as one keyword).
/// Empty segments and a trailing `/` stay as they are.
pub fn canonical_path(path: &str) -> String {
    const KEYWORDS: &[&str] = &[
        "subscriptions",
        "resourcegroups",
        "providers",
        "locations",
        "resources",
        "operationresults",
        "tenants",
        "deployments",
        "operations",
        "operationStatuses",
        "validate",
        "whatIf",
        "cancel",
        "exportTemplate",
        "calculateTemplateHash",
    ];
    let mut keyword_next = true;
    let mut namespace_next = false;
    let segments: Vec<&str> = path
        .split('/')
        .map(|seg| {
            if seg.is_empty() {
                return seg;
            }
            if namespace_next {
                namespace_next = false;
                return providers::provider(seg).map_or(seg, |p| p.namespace);
            }
            if !keyword_next {
                keyword_next = true;
                return seg;
            }
            if seg.eq_ignore_ascii_case("providers") {
                namespace_next = true;
            } else {
                keyword_next = false;
            }
            KEYWORDS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(seg))
                .copied()
                .unwrap_or(seg)
        })
        .collect();
    segments.join("/")
}

/// ARM's answer for a path it has no route for: the type under `Microsoft.Resources`.
fn unknown_route(req: &ArmRequest) -> Response {
    let t = req.segments.last().cloned().unwrap_or_default();
    arm_error(
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        format!(
            "The resource type '{t}' could not be found in the namespace 'Microsoft.Resources' for api version '{}'.",
            req.api_version()
        ),
    )
}

/// Finds `providers/Microsoft.Authorization/{permissions|roleAssignments|roleDefinitions}`.
fn authorization_index(l: &[&str]) -> Option<usize> {
    (0..l.len().saturating_sub(2)).rev().find(|&i| {
        l[i] == "providers"
            && l[i + 1] == "microsoft.authorization"
            && matches!(
                l[i + 2],
                "permissions" | "roleassignments" | "roledefinitions"
            )
            && l.len() <= i + 4
    })
}

/// Routes a parsed ARM request to the module that owns its path.
fn dispatch(sim: &Sim, req: &ArmRequest) -> Response {
    let l: Vec<&str> = req.lower.iter().map(String::as_str).collect();
    if let Some(i) = authorization_index(&l) {
        return authorization::handle(sim, req, i);
    }
    let get = req.method == Method::GET;
    match l.as_slice() {
        ["tenants"] if get => directory::list_tenants(sim, req),
        ["subscriptions"] if get => directory::list_subscriptions(sim, req),
        ["tenants"] | ["subscriptions"] => method_not_allowed(req),
        ["subscriptions", _, rest @ ..] => {
            let sub = req.segments[1].clone();
            if let Err(r) = directory::check_subscription(sim, req, &sub) {
                return *r;
            }
            subscription_scope(sim, req, &sub, rest)
        }
        _ => unknown_route(req),
    }
}

/// Routes what is under `/subscriptions/{sub}` (`rest`: the lower-cased segments after
/// it), once the subscription is known to be the caller's.
fn subscription_scope(sim: &Sim, req: &ArmRequest, sub: &str, rest: &[&str]) -> Response {
    let m = &req.method;
    let get = *m == Method::GET;
    let post = *m == Method::POST;
    // Indexes into `req.segments` are `2 + i` for `rest[i]`.
    let seg = |i: usize| req.segments.get(2 + i).map_or("", String::as_str);
    match rest {
        [] if get => directory::get_subscription(sim, req, sub),
        ["locations"] if get => directory::list_locations(sim, req, sub),
        ["operationresults", _] if get => operations::poll(sim, req, sub, seg(1)),
        ["resourcegroups"] if get => groups::list_groups(sim, req, sub),
        ["resourcegroups", _] => groups::group(sim, req, sub, seg(1)),
        ["resourcegroups", _, "resources"] if get => {
            groups::list_group_resources(sim, req, sub, seg(1))
        }
        ["resourcegroups", _, "providers", _, _, ..] => {
            groups::generic(sim, req, sub, Some(seg(1)))
        }
        ["resources"] if get => groups::list_subscription_resources(sim, req, sub),
        ["providers"] if get => providers::list(sim, req, sub),
        ["providers", _] if get => providers::get(sim, req, sub, seg(1)),
        ["providers", _, "register"] if post => providers::register(sim, req, sub, seg(1), true),
        ["providers", _, "unregister"] if post => providers::register(sim, req, sub, seg(1), false),
        ["providers", "microsoft.compute", "locations", _, "usages"] if get => {
            compute::usages(sim, req, sub, seg(3))
        }
        ["providers", "microsoft.compute", "skus"] if get => compute::skus(sim, req),
        [
            "providers",
            "microsoft.dbformysql",
            "locations",
            _,
            "capabilities",
        ] if get => mysql::capabilities(sim, req, seg(3)),
        ["providers", "microsoft.dbformysql", "checknameavailability"] if post => {
            names::mysql(sim, req, None)
        }
        [
            "providers",
            "microsoft.dbformysql",
            "locations",
            _,
            "checknameavailability",
        ] if post => names::mysql(sim, req, Some(seg(3))),
        ["providers", "microsoft.storage", "checknameavailability"] if post => {
            names::storage(sim, req)
        }
        ["providers", "microsoft.keyvault", "checknameavailability"] if post => {
            names::keyvault(sim, req)
        }
        ["providers", "microsoft.keyvault", "deletedvaults"] if get => {
            keyvault::list(sim, req, sub)
        }
        [
            "providers",
            "microsoft.keyvault",
            "locations",
            _,
            "deletedvaults",
            _,
        ] if get => keyvault::get(sim, req, sub, seg(3), seg(5)),
        [
            "providers",
            "microsoft.keyvault",
            "locations",
            _,
            "deletedvaults",
            _,
            "purge",
        ] if post => keyvault::purge(sim, req, sub, seg(3), seg(5)),
        ["providers", _, "register" | "unregister"] => method_not_allowed(req),
        ["providers", _, _, ..] => groups::generic(sim, req, sub, None),
        []
        | ["locations"]
        | ["operationresults", _]
        | ["resourcegroups"]
        | ["resources"]
        | ["resourcegroups", _, "resources"]
        | ["providers"]
        | ["providers", _] => method_not_allowed(req),
        _ => unknown_route(req),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_path_fixes_keyword_casing_only() {
        assert_eq!(
            canonical_path(
                "/subscriptions/S/resourceGroups/RG/providers/microsoft.resources/Deployments/Validate/operationstatuses/1"
            ),
            "/subscriptions/S/resourcegroups/RG/providers/Microsoft.Resources/deployments/Validate/operationStatuses/1"
        );
        assert_eq!(
            canonical_path("/SUBSCRIPTIONS/s/providers/Microsoft.Resources/deployments/d/whatif"),
            "/subscriptions/s/providers/Microsoft.Resources/deployments/d/whatIf"
        );
    }

    #[test]
    fn canonical_path_keeps_empty_segments_and_unknown_namespaces() {
        assert_eq!(
            canonical_path(
                "/Subscriptions/s/RESOURCEGROUPS/rg/providers/Contoso.Widgets/Deployments/"
            ),
            "/subscriptions/s/resourcegroups/rg/providers/Contoso.Widgets/deployments/"
        );
        assert_eq!(canonical_path("/"), "/");
        assert_eq!(canonical_path(""), "");
    }
}
