//! Discovery: the OpenID configuration, the signing keys, instance discovery (MSAL's
//! authority validation), logout and the `error_uri` lookup page.
//!
//! Shapes follow Entra ID's published documents (for example
//! `login.microsoftonline.com/organizations/v2.0/.well-known/openid-configuration` and its
//! `discovery/v2.0/keys`), with every endpoint the simulator serves pointing at the simulator.
//! Endpoints it does not serve (Graph's userinfo) keep Azure's values.
//!
//! These endpoints read the identity and the signing key; only logout writes (it ends the
//! browser session in the sign-in store). A key that cannot be made is Entra ID's server
//! error.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Ctx;
use super::directory::{TenantPath, truncate};
use super::error::{EntraError, entra_json, escape_html, page};
use super::keys;
use crate::http::set_header;

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`.
pub async fn openid_configuration(ctx: Ctx, Path(tenant): Path<String>) -> Response {
    let tp = match TenantPath::resolve(&ctx.sim.options.identity, &tenant) {
        Ok(t) => t,
        Err(e) => return e.json(&ctx.err),
    };
    let base = &ctx.sim.base_url;
    let seg = tp.endpoint_segment();
    let region = match tp {
        TenantPath::Tenant { .. } => json!("NA"),
        TenantPath::Multi(_) => json!(null),
    };
    entra_json(
        &ctx.err,
        json!({
            "token_endpoint": format!("{base}/{seg}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": [
                "client_secret_post", "private_key_jwt", "client_secret_basic"
            ],
            "jwks_uri": format!("{base}/{seg}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/{}/v2.0", tp.issuer_segment()),
            "request_uri_parameter_supported": false,
            "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
            "authorization_endpoint": format!("{base}/{seg}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/{seg}/oauth2/v2.0/devicecode"),
            "http_logout_supported": true,
            "frontchannel_logout_supported": true,
            "end_session_endpoint": format!("{base}/{seg}/oauth2/v2.0/logout"),
            "claims_supported": [
                "sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
                "cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time",
                "acr", "nonce", "preferred_username", "name", "tid", "ver", "at_hash",
                "c_hash", "email"
            ],
            "kerberos_endpoint": format!("{base}/{seg}/kerberos"),
            "tenant_region_scope": region,
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
            "rbac_url": "https://pas.windows.net",
        }),
    )
}

/// `GET /{tenant}/discovery/v2.0/keys` (and the v1 `discovery/keys`): the signing key as a
/// JWKS with `x5c`.
pub async fn keys(ctx: Ctx, Path(tenant): Path<String>) -> Response {
    let tp = match TenantPath::resolve(&ctx.sim.options.identity, &tenant) {
        Ok(t) => t,
        Err(e) => return e.json(&ctx.err),
    };
    let Some(key) = keys::signing_key_async().await else {
        return server_error(&ctx);
    };
    let issuer = format!("{}/{}/v2.0", ctx.sim.base_url, tp.issuer_segment());
    entra_json(&ctx.err, json!({"keys": [key.material.jwk(&issuer)]}))
}

/// `GET /common/discovery/instance?api-version=1.1&authorization_endpoint=...`: instance
/// discovery. Known when the authorization endpoint is on the simulator's host; the answer
/// names the tenant discovery endpoint and the host's aliases, as Entra ID's does.
pub async fn instance(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> Response {
    let Some(endpoint) = q.get("authorization_endpoint") else {
        return EntraError::missing("authorization_endpoint").json(&ctx.err);
    };
    let host = ctx
        .sim
        .base_url
        .strip_prefix("https://")
        .unwrap_or(&ctx.sim.base_url)
        .to_owned();
    let port = host.rsplit_once(':').map(|(_, p)| p.to_owned());
    let mut aliases = vec![host.clone()];
    if let Some(p) = &port {
        aliases.push(format!("localhost:{p}"));
    }
    let Some(rest) = endpoint.strip_prefix("https://") else {
        return invalid_instance(&ctx);
    };
    let (ep_host, path) = rest.split_once('/').unwrap_or((rest, ""));
    if !aliases.iter().any(|a| a.eq_ignore_ascii_case(ep_host)) {
        return invalid_instance(&ctx);
    }
    let tenant = path
        .split('/')
        .next()
        .filter(|t| !t.is_empty())
        .unwrap_or("common");
    let api_version = q.get("api-version").map_or("1.1", String::as_str);
    entra_json(
        &ctx.err,
        json!({
            "tenant_discovery_endpoint": format!(
                "{}/{}/v2.0/.well-known/openid-configuration",
                ctx.sim.base_url,
                truncate(tenant, 100)
            ),
            "api-version": truncate(api_version, 20),
            "metadata": [{
                "preferred_network": host,
                "preferred_cache": host,
                "aliases": aliases,
            }],
        }),
    )
}

/// AADSTS50049: an authority that is not the simulator.
fn invalid_instance(ctx: &Ctx) -> Response {
    EntraError::bad_request("invalid_instance", 50049, "Unknown or invalid instance.")
        .json(&ctx.err)
}

/// AADSTS50000, `temporarily_unavailable`.
fn server_error(ctx: &Ctx) -> Response {
    EntraError {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        error: "temporarily_unavailable",
        code: 50000,
        message: "There was an error issuing a token or an authorization code. Please try again."
            .into(),
    }
    .json(&ctx.err)
}

/// A server-side failure (the signing key could not be made), as Entra ID reports it.
pub fn token_issuance_error(ctx: &Ctx) -> Response {
    server_error(ctx)
}

/// `GET /{tenant}/oauth2/v2.0/logout`: ends the browser session; redirects to a loopback
/// `post_logout_redirect_uri`, else shows the signed-out page.
pub async fn logout(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> Response {
    if let Some(cookie) = super::authorize::session_cookie(&ctx.headers) {
        ctx.sim.tokens.store().sessions.remove(&cookie);
    }
    let mut r = match q.get("post_logout_redirect_uri") {
        Some(uri) if super::authorize::is_loopback_redirect(uri) => {
            let mut r = StatusCode::FOUND.into_response();
            set_header(r.headers_mut(), "location", uri);
            r
        }
        _ => page(
            "Sign out",
            "<h1>You signed out of your account</h1>\
             <p>It's a good idea to close all browser windows.</p>",
        )
        .into_response(),
    };
    set_header(
        r.headers_mut(),
        "set-cookie",
        &format!(
            "{}=; path=/; secure; HttpOnly; SameSite=None; Max-Age=0",
            super::authorize::SESSION_COOKIE
        ),
    );
    r
}

/// `GET /error?code=N`: the page an `error_uri` points to.
pub async fn error_page(Query(q): Query<HashMap<String, String>>) -> Response {
    let code: String = q
        .get("code")
        .map(|c| c.chars().filter(char::is_ascii_digit).take(10).collect())
        .unwrap_or_default();
    page(
        "Error lookup",
        &format!(
            "<h1>Error code AADSTS{}</h1><p>The simulator returned this code. The \
             <code>error_description</code> of the response says what went wrong.</p>",
            escape_html(&code)
        ),
    )
    .into_response()
}
