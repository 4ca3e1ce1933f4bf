//! The device code flow's two other ends: `POST /{tenant}/oauth2/v2.0/devicecode` (the device
//! asks for a code) and the verification page at `{base_url}/devicelogin` where the user enters
//! it, approving or declining. Tests can skip the page with `POST /_sim/device/approve`
//! (`{"userCode": "...", "decline": false}`).
//!
//! The response follows Entra ID: `device_code`, a 9-character `user_code`, `verification_uri`,
//! `expires_in` 900, `interval` 5 and the same `message` wording ("To sign in, use a web browser
//! to open the page ... and enter the code ... to authenticate.").
//!
//! Data: the flow lives in the sign-in store ([`super::store::DeviceFlow`]); [`decide`] moves
//! it to approved or declined, and [`super::grants`] redeems it. The page reports unknown,
//! expired or already decided codes in words; `/_sim/device/approve` answers them as JSON
//! errors with `404`, `410` and `409`.

use std::collections::HashMap;

use axum::extract::rejection::{FormRejection, JsonRejection};
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::Ctx;
use super::directory::{Client, Scopes, TenantPath};
use super::error::{EntraError, entra_json, escape_html, page};
use super::store::{
    DEVICE_CODE_LIFETIME, DEVICE_POLL_INTERVAL, DeviceFlow, DeviceState, UserGrant,
    normalize_user_code, random_token, random_user_code,
};
use crate::http::json_response;

/// `POST /{tenant}/oauth2/v2.0/devicecode`.
pub async fn devicecode(
    ctx: Ctx,
    Path(tenant): Path<String>,
    form: Result<axum::Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = form.map(|axum::Form(f)| f).unwrap_or_default();
    match start(&ctx, &tenant, &form) {
        Ok(body) => entra_json(&ctx.err, body),
        Err(e) => e.json(&ctx.err),
    }
}

/// Checks the request and starts a device flow; the response body.
fn start(
    ctx: &Ctx,
    tenant: &str,
    form: &HashMap<String, String>,
) -> Result<serde_json::Value, EntraError> {
    let sim = &ctx.sim;
    let identity = &sim.options.identity;
    let tp = TenantPath::resolve(identity, tenant).map_err(|mut e| {
        e.error = "invalid_request";
        e
    })?;
    let client_id = form
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| EntraError::missing("client_id"))?;
    Client::find(identity, &tp, client_id)?;
    let scope = form
        .get("scope")
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| EntraError::missing("scope"))?;
    Scopes::parse(sim, tp.display(identity), scope)?;

    let now = sim.now();
    let device_code = format!("DAQABIQEAAAD{}", random_token(220));
    let mut store = sim.tokens.store();
    store.prune(now);
    let mut user_code = random_user_code();
    while store.device_by_user_code(&user_code).is_some() {
        user_code = random_user_code();
    }
    store.devices.insert(
        device_code.clone(),
        DeviceFlow {
            grant: UserGrant {
                client_id: client_id.clone(),
                tenant_segment: tp.endpoint_segment().to_owned(),
                tenant_id: tp.user_tenant(identity).to_owned(),
                scope: scope.clone(),
                nonce: None,
                auth_time: now,
            },
            user_code: user_code.clone(),
            issued: now,
            last_poll: None,
            state: DeviceState::Pending,
        },
    );
    drop(store);
    let verification_uri = format!("{}/devicelogin", sim.base_url);
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": verification_uri,
        "expires_in": DEVICE_CODE_LIFETIME.whole_seconds(),
        "interval": DEVICE_POLL_INTERVAL,
        "message": format!(
            "To sign in, use a web browser to open the page {verification_uri} and enter the code {user_code} to authenticate."
        ),
    }))
}

/// Why a user code could not be approved or declined.
#[derive(Debug, PartialEq, Eq)]
pub enum DecideError {
    /// No such code.
    Unknown,
    /// The code expired.
    Expired,
    /// Approved or declined already.
    AlreadyDecided,
}

/// Approves or declines the flow a user code belongs to; returns the app's name.
pub fn decide(ctx: &Ctx, user_code: &str, approve: bool) -> Result<&'static str, DecideError> {
    let sim = &ctx.sim;
    let now = sim.now();
    let mut store = sim.tokens.store();
    store.prune(now);
    let key = store
        .device_by_user_code(user_code)
        .ok_or(DecideError::Unknown)?;
    let flow = store.devices.get_mut(&key).ok_or(DecideError::Unknown)?;
    if flow.expired(now) {
        return Err(DecideError::Expired);
    }
    if flow.state != DeviceState::Pending {
        return Err(DecideError::AlreadyDecided);
    }
    flow.state = if approve {
        DeviceState::Approved
    } else {
        DeviceState::Declined
    };
    let identity = &sim.options.identity;
    let tp = TenantPath::resolve(identity, &flow.grant.tenant_id).ok();
    Ok(tp
        .and_then(|tp| Client::find(identity, &tp, &flow.grant.client_id).ok())
        .map_or("the application", |c| c.name()))
}

/// `GET /devicelogin[?otc=CODE]`: the "Enter code" page.
pub async fn verification_page(ctx: Ctx, Query(q): Query<HashMap<String, String>>) -> Response {
    let prefill = q
        .get("otc")
        .map(|c| normalize_user_code(c))
        .unwrap_or_default();
    code_form(&ctx, &prefill, None, StatusCode::OK)
}

/// The "Enter code" page, with an error and the code typed so far.
fn code_form(ctx: &Ctx, prefill: &str, error: Option<&str>, status: StatusCode) -> Response {
    let error = error
        .map(|e| format!("<p id=\"error\" role=\"alert\">{}</p>", escape_html(e)))
        .unwrap_or_default();
    let body = format!(
        "<h1>Enter code</h1><p>Enter the code displayed on your app or device.</p>{error}\
         <form method=\"POST\" action=\"/devicelogin\">\
         <input name=\"otc\" aria-label=\"Code\" autocomplete=\"off\" maxlength=\"20\" \
         value=\"{}\" autofocus>\
         <p>You are signing in as {}.</p>\
         <button type=\"submit\" name=\"action\" value=\"approve\">Continue</button> \
         <button type=\"submit\" name=\"action\" value=\"decline\">Cancel</button></form>",
        escape_html(prefill),
        escape_html(&ctx.sim.options.identity.user_upn),
    );
    (status, page("Enter code", &body)).into_response()
}

/// `POST /devicelogin` (`otc`, `action` = `approve` | `decline`).
pub async fn verification_submit(
    ctx: Ctx,
    form: Result<axum::Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let form = form.map(|axum::Form(f)| f).unwrap_or_default();
    let code = form.get("otc").map(String::as_str).unwrap_or("");
    let approve = form.get("action").map(String::as_str) != Some("decline");
    match decide(&ctx, code, approve) {
        Ok(app) if approve => page(
            "Signed in",
            &format!(
                "<h1>{}</h1><p>You have signed in to the {} application on your device. You may \
                 now close this window.</p>",
                escape_html(&ctx.sim.options.identity.user_upn),
                escape_html(app)
            ),
        )
        .into_response(),
        Ok(app) => page(
            "Sign-in declined",
            &format!(
                "<h1>Sign-in declined</h1><p>You declined to sign in to {} on your device. You \
                 may now close this window.</p>",
                escape_html(app)
            ),
        )
        .into_response(),
        Err(DecideError::Unknown) => code_form(
            &ctx,
            code,
            Some("That code didn't work. Check the code and try again."),
            StatusCode::BAD_REQUEST,
        ),
        Err(DecideError::Expired) => code_form(
            &ctx,
            code,
            Some(
                "The code you entered has expired. Get a new code from the device you're trying to sign in to and try again.",
            ),
            StatusCode::BAD_REQUEST,
        ),
        Err(DecideError::AlreadyDecided) => code_form(
            &ctx,
            code,
            Some("AADSTS90120: The request was already authorized or declined."),
            StatusCode::BAD_REQUEST,
        ),
    }
}

/// The body of `POST /_sim/device/approve`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApproveRequest {
    /// The user code shown to the user.
    pub user_code: String,
    /// Decline instead of approving.
    #[serde(default)]
    pub decline: bool,
}

/// `POST /_sim/device/approve`: approves (or declines) a device code as the user would.
pub async fn approve(
    ctx: Ctx,
    body: Result<axum::Json<ApproveRequest>, JsonRejection>,
) -> Response {
    let Ok(axum::Json(req)) = body else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"error": {"code": "InvalidRequest", "message": "Expected {\"userCode\": string, \"decline\"?: bool}."}}),
        );
    };
    match decide(&ctx, &req.user_code, !req.decline) {
        Ok(app) => json_response(
            StatusCode::OK,
            json!({
                "userCode": normalize_user_code(&req.user_code),
                "status": if req.decline { "declined" } else { "approved" },
                "application": app,
            }),
        ),
        Err(e) => {
            let (status, code, message) = match e {
                DecideError::Unknown => (
                    StatusCode::NOT_FOUND,
                    "UnknownUserCode",
                    "No device code flow has this user code.",
                ),
                DecideError::Expired => (
                    StatusCode::GONE,
                    "ExpiredUserCode",
                    "The device code flow expired.",
                ),
                DecideError::AlreadyDecided => (
                    StatusCode::CONFLICT,
                    "AlreadyDecided",
                    "The request was already authorized or declined.",
                ),
            };
            json_response(status, json!({"error": {"code": code, "message": message}}))
        }
    }
}
