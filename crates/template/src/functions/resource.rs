//! Resource and scope functions: resource IDs, `resourceGroup()`, `subscription()`, `tenant()`,
//! `managementGroup()`, and the ones only a live deployment can answer (`reference`,
//! `references`, `list*`, `providers`, `pickZones`), which go to the scope (resources of this
//! deployment), then the resolver, and otherwise become deferred values.

use super::{Args, FnDef, FnError};
use crate::context::DeploymentScope;
use crate::eval::Evaluator;
use crate::value::{Deferred, Value, render_literal};

/// The resource and scope functions.
pub const FUNCTIONS: &[FnDef] = &[
    FnDef::new("resourceId", resource_id, 2, None),
    FnDef::new("subscriptionResourceId", subscription_resource_id, 2, None),
    FnDef::new("tenantResourceId", tenant_resource_id, 2, None),
    FnDef::new("extensionResourceId", extension_resource_id, 3, None),
    FnDef::new(
        "managementGroupResourceId",
        management_group_resource_id,
        2,
        None,
    ),
    FnDef::new("resourceGroup", resource_group, 0, Some(0)),
    FnDef::new("subscription", subscription, 0, Some(0)),
    FnDef::new("tenant", tenant, 0, Some(0)),
    FnDef::new("managementGroup", management_group, 0, Some(1)),
    FnDef::new("reference", reference, 1, Some(3)),
    FnDef::new("references", references, 1, Some(2)),
    FnDef::new("providers", providers, 1, Some(2)),
    FnDef::new("pickZones", pick_zones, 3, Some(5)),
];

/// The `list*` family (`listKeys`, `listSecrets`, `listAccountSas`...), matched by prefix.
pub static LIST_FN: FnDef = FnDef::new("list*", list, 2, Some(3));

/// Splits `Namespace/type/child` into the namespace and type segments; checks the name count.
fn type_segments<'a>(fname: &str, ty: &'a str, names: usize) -> Result<Vec<&'a str>, FnError> {
    // ARM tolerates a trailing slash ('Microsoft.Network/virtualNetworks/'), as real
    // Marketplace templates rely on.
    let segs: Vec<&str> = ty.trim_end_matches('/').split('/').collect();
    if segs.len() < 2 || segs.iter().any(|s| s.is_empty()) {
        return Err(FnError::call(
            fname,
            format!(
                "the resource type '{ty}' is not valid: it must look like 'Namespace/type' or 'Namespace/type/childType'."
            ),
        ));
    }
    if segs.len() - 1 != names {
        return Err(FnError::call(
            fname,
            format!(
                "the type '{ty}' requires {} resource name argument(s), but {names} were given.",
                segs.len() - 1
            ),
        ));
    }
    Ok(segs)
}

/// Builds `providers/Ns/type/name/child/name...` (without a leading slash); resource groups
/// get ARM's canonical `resourceGroups/name` instead.
pub fn provider_path(fname: &str, ty: &str, names: &[&str]) -> Result<String, FnError> {
    let segs = type_segments(fname, ty, names.len())?;
    if segs.len() == 2
        && segs[0].eq_ignore_ascii_case("Microsoft.Resources")
        && segs[1].eq_ignore_ascii_case("resourceGroups")
    {
        return Ok(format!("resourceGroups/{}", names[0]));
    }
    let mut out = format!("providers/{}", segs[0]);
    for (t, n) in segs[1..].iter().zip(names) {
        out.push('/');
        out.push_str(t);
        out.push('/');
        out.push_str(n);
    }
    Ok(out)
}

fn strings<'a>(a: &Args<'a>) -> Result<Vec<&'a str>, FnError> {
    (0..a.len()).map(|i| a.str(i)).collect()
}

/// Index of the resource type among the arguments: the first one containing a '/'.
fn type_index(fname: &str, args: &[&str]) -> Result<usize, FnError> {
    args.iter().position(|s| s.contains('/')).ok_or_else(|| {
        FnError::call(
            fname,
            "no resource type (an argument like 'Namespace/type') was given.",
        )
    })
}

fn resource_id(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let s = strings(&a)?;
    let ti = type_index(name, &s)?;
    if ti > 2 {
        return Err(FnError::call(
            name,
            "at most a subscription ID and a resource group name may come before the resource type.",
        ));
    }
    let path = provider_path(name, s[ti], &s[ti + 1..])?;
    let ctx = ev.context();
    let id = match ti {
        2 => format!("/subscriptions/{}/resourceGroups/{}/{path}", s[0], s[1]),
        1 => format!(
            "/subscriptions/{}/resourceGroups/{}/{path}",
            ctx.subscription_id, s[0]
        ),
        _ => match ctx.scope {
            DeploymentScope::ResourceGroup => {
                format!(
                    "/subscriptions/{}/resourceGroups/{}/{path}",
                    ctx.subscription_id, ctx.resource_group.name
                )
            }
            DeploymentScope::Subscription => {
                format!("/subscriptions/{}/{path}", ctx.subscription_id)
            }
            DeploymentScope::ManagementGroup | DeploymentScope::Tenant => format!("/{path}"),
        },
    };
    Ok(Value::String(id))
}

/// Splits `[scope], type, names...` where at most one scope argument (a subscription or a
/// management group) may come before the type; returns the scope and the provider path.
fn optional_scope_and_path<'a>(
    name: &'a str,
    args: &'a [Value],
    scope_word: &str,
) -> Result<(Option<&'a str>, String), FnError> {
    let a = Args::new(name, args);
    let s = strings(&a)?;
    let ti = type_index(name, &s)?;
    if ti > 1 {
        return Err(FnError::call(
            name,
            format!("only a {scope_word} ID may come before the resource type."),
        ));
    }
    let path = provider_path(name, s[ti], &s[ti + 1..])?;
    Ok(((ti == 1).then_some(s[0]), path))
}

fn subscription_resource_id(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: &[Value],
) -> Result<Value, FnError> {
    let (sub, path) = optional_scope_and_path(name, args, "subscription")?;
    let sub = sub.unwrap_or(&ev.context().subscription_id);
    Ok(Value::String(format!("/subscriptions/{sub}/{path}")))
}

fn tenant_resource_id(_: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let s = strings(&a)?;
    let path = provider_path(name, s[0], &s[1..])?;
    Ok(Value::String(format!("/{path}")))
}

fn management_group_resource_id(
    ev: &mut Evaluator<'_>,
    name: &str,
    args: &[Value],
) -> Result<Value, FnError> {
    let (mg, path) = optional_scope_and_path(name, args, "management group")?;
    let mg = mg.unwrap_or(&ev.context().management_group);
    Ok(Value::String(format!(
        "/providers/Microsoft.Management/managementGroups/{mg}/{path}"
    )))
}

fn extension_resource_id(
    _: &mut Evaluator<'_>,
    name: &str,
    args: &[Value],
) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let s = strings(&a)?;
    let base = s[0].trim_end_matches('/');
    let path = provider_path(name, s[1], &s[2..])?;
    Ok(Value::String(format!("{base}/{path}")))
}

fn resource_group(ev: &mut Evaluator<'_>, name: &str, _: &[Value]) -> Result<Value, FnError> {
    let ctx = ev.context();
    if ctx.scope != DeploymentScope::ResourceGroup {
        return Err(FnError::new(format!(
            "The template function '{name}' is not expected at this location: the deployment is not at resource group scope."
        )));
    }
    Ok(ctx.resource_group_value())
}

fn subscription(ev: &mut Evaluator<'_>, name: &str, _: &[Value]) -> Result<Value, FnError> {
    let ctx = ev.context();
    if matches!(
        ctx.scope,
        DeploymentScope::ManagementGroup | DeploymentScope::Tenant
    ) {
        return Err(FnError::new(format!(
            "The template function '{name}' is not expected at this location: the deployment is not at subscription or resource group scope."
        )));
    }
    Ok(ctx.subscription_value())
}

fn tenant(ev: &mut Evaluator<'_>, _: &str, _: &[Value]) -> Result<Value, FnError> {
    Ok(ev.context().tenant_value())
}

fn management_group(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    if let Some(id) = Args::new(name, args).opt_str(0)? {
        return Ok(Value::String(format!(
            "/providers/Microsoft.Management/managementGroups/{id}"
        )));
    }
    Ok(ev.context().management_group_value())
}

fn deferred(name: &str, args: &[Value]) -> Value {
    let parts: Vec<String> = args.iter().map(render_literal).collect();
    Value::Deferred(Deferred {
        expr: format!("{name}({})", parts.join(", ")),
    })
}

fn reference(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let target = a.str(0)?;
    let api = a.opt_str(1)?;
    let full = match a.opt_str(2)? {
        None => false,
        Some(s) if s.eq_ignore_ascii_case("full") => true,
        Some(s) => {
            return Err(FnError::at(
                2,
                format!(
                    "Unable to evaluate template language function 'reference': the third argument must be 'Full', not '{s}'."
                ),
            ));
        }
    };
    if let Some(local) = ev.scope().local_reference(target, full) {
        return local.map_err(|m| FnError::at(0, m));
    }
    // Resources of this deployment are known to Azure by their full ID, whatever the
    // template called them.
    let id = ev
        .scope()
        .local_resource_id(target)
        .unwrap_or_else(|| target.to_owned());
    if let Some(v) = ev.scope().resolver().reference(&id, api, full) {
        return Ok(v);
    }
    let mut shown = args.to_vec();
    shown[0] = Value::String(id);
    Ok(deferred(name, &shown))
}

fn references(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let target = a.str(0)?;
    let full = a
        .opt_str(1)?
        .is_some_and(|s| s.eq_ignore_ascii_case("full"));
    if let Some(local) = ev
        .scope()
        .local_reference(&format!("references:{target}"), full)
    {
        return local.map_err(|m| FnError::at(0, m));
    }
    Ok(deferred(name, args))
}

fn list(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let target = a.str(0)?;
    let api = a.str(1)?;
    let id = ev
        .scope()
        .local_resource_id(target)
        .unwrap_or_else(|| target.to_owned());
    // Touch the local reference so the scope can record the implicit dependency.
    if let Some(Err(m)) = ev.scope().local_reference(target, false) {
        return Err(FnError::at(0, m));
    }
    if let Some(v) = ev.scope().resolver().list(name, &id, api, args.get(2)) {
        return Ok(v);
    }
    let mut shown = args.to_vec();
    shown[0] = Value::String(id);
    Ok(deferred(name, &shown))
}

fn providers(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let ns = a.str(0)?;
    let ty = a.opt_str(1)?;
    if let Some(v) = ev.scope().resolver().providers(ns, ty) {
        return Ok(v);
    }
    Ok(deferred(name, args))
}

fn pick_zones(ev: &mut Evaluator<'_>, name: &str, args: &[Value]) -> Result<Value, FnError> {
    let a = Args::new(name, args);
    let ns = a.str(0)?;
    let ty = a.str(1)?;
    let loc = a.str(2)?;
    let count = a.opt_int(3)?.unwrap_or(1);
    let offset = a.opt_int(4)?.unwrap_or(0);
    if let Some(v) = ev.scope().resolver().pick_zones(ns, ty, loc, count, offset) {
        return Ok(v);
    }
    Ok(deferred(name, args))
}
