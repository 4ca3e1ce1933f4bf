//! `GET /{tenant}/oauth2/v2.0/authorize`: the sign-in page, as an auto-consent. The simulated
//! user is always signed in and consents to everything, so a valid request is answered at once
//! with `302` to `redirect_uri?code=...&state=...` (or the fragment, or a self-submitting form
//! for `response_mode=form_post`).
//!
//! Errors follow Entra ID: while the app or its redirect URI cannot be trusted (unknown tenant
//! or app, a redirect URI that is not a loopback URL) there is nothing to redirect to, so the
//! answer is Entra ID's error page; after that, errors go back to the app as `error`,
//! `error_description` and `error_uri` on the redirect.
//!
//! A valid request stores an [`AuthCode`] (and a browser session) in the sign-in store, which
//! [`super::grants`] redeems; nothing else is written.

use std::collections::HashMap;

use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::directory::{Client, Scopes, TenantPath, truncate};
use super::error::{EntraError, escape_html, page};
use super::store::{AuthCode, UserGrant, random_token};
use super::{Ctx, form_encode};
use crate::http::set_header;

/// The browser session cookie (Entra ID calls its session cookie `ESTSAUTH`).
pub const SESSION_COOKIE: &str = "ESTSAUTH";

/// How the response goes back to the app.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ResponseMode {
    Query,
    Fragment,
    FormPost,
}

/// The `authorize` handler.
pub async fn authorize(
    ctx: Ctx,
    Path(tenant): Path<String>,
    query: Result<Query<HashMap<String, String>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = query.map(|Query(q)| q).unwrap_or_default();
    let identity = &ctx.sim.options.identity;
    let tp = match TenantPath::resolve(identity, &tenant) {
        Ok(t) => t,
        Err(e) => return e.html(&ctx.err),
    };
    let Some(client_id) = q.get("client_id").filter(|c| !c.is_empty()) else {
        return EntraError::missing("client_id").html(&ctx.err);
    };
    if let Err(e) = Client::find(identity, &tp, client_id) {
        return e.html(&ctx.err);
    }
    let Some(redirect_uri) = q.get("redirect_uri").filter(|r| !r.is_empty()) else {
        return EntraError::bad_request("invalid_request", 900971, "No reply address provided.")
            .html(&ctx.err);
    };
    if !is_loopback_redirect(redirect_uri) {
        return EntraError::bad_request(
            "invalid_request",
            50011,
            format!(
                "The redirect URI '{}' specified in the request does not match the redirect URIs configured for the application '{}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.",
                truncate(redirect_uri, 300),
                truncate(client_id, 100)
            ),
        )
        .html(&ctx.err);
    }

    // From here on, the app is known and errors go back to it.
    let mode = match q.get("response_mode").map(String::as_str) {
        Some("fragment") => ResponseMode::Fragment,
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    let state = q.get("state").cloned();
    let back = |params: Vec<(String, String)>| {
        let mut params = params;
        if let Some(s) = &state {
            params.push(("state".into(), s.clone()));
        }
        respond(redirect_uri, mode, &params)
    };
    let fail = |e: EntraError| {
        let mut r = back(e.redirect_params(&ctx.err));
        super::error::entra_headers(r.headers_mut(), &ctx.err);
        r
    };

    match q.get("response_type").map(String::as_str) {
        None | Some("") => return fail(EntraError::missing("response_type")),
        Some("code") => {}
        Some(other) => {
            return fail(EntraError::bad_request(
                "unsupported_response_type",
                70005,
                format!(
                    "response_type '{}' is not enabled for the application.",
                    truncate(other, 50)
                ),
            ));
        }
    }
    let Some(scope) = q.get("scope").filter(|s| !s.trim().is_empty()) else {
        return fail(EntraError::missing("scope"));
    };
    if let Err(e) = Scopes::parse(&ctx.sim, tp.display(identity), scope) {
        return fail(e);
    }
    let challenge = match q.get("code_challenge").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => {
            let method = q
                .get("code_challenge_method")
                .map_or("plain", String::as_str);
            if method != "S256" && method != "plain" {
                return fail(EntraError::bad_request(
                    "invalid_request",
                    50149,
                    "Invalid Code_Challenge_method parameter.",
                ));
            }
            if !(43..=128).contains(&c.len()) {
                return fail(EntraError::bad_request(
                    "invalid_request",
                    501491,
                    "Invalid size of Code_Challenge parameter.",
                ));
            }
            Some((c.clone(), method.to_owned()))
        }
    };
    let prompts: Vec<&str> = q
        .get("prompt")
        .map(|p| p.split_whitespace().collect())
        .unwrap_or_default();
    if let Some(bad) = prompts.iter().find(|p| {
        !matches!(
            **p,
            "none" | "login" | "consent" | "select_account" | "create"
        )
    }) {
        return fail(EntraError::bad_request(
            "invalid_request",
            90023,
            format!(
                "Invalid value for the 'prompt' parameter: '{}'.",
                truncate(bad, 50)
            ),
        ));
    }
    let now = ctx.sim.now();
    let session = session_cookie(&ctx.headers).filter(|c| {
        let mut store = ctx.sim.tokens.store();
        store.prune(now);
        store.sessions.contains_key(c)
    });
    if prompts.contains(&"none") && session.is_none() {
        return fail(EntraError::bad_request(
            "login_required",
            50058,
            "A silent sign-in request was sent but no user is signed in.",
        ));
    }

    let code = format!("1.A{}", random_token(300));
    let grant = UserGrant {
        client_id: client_id.clone(),
        tenant_segment: tp.endpoint_segment().to_owned(),
        tenant_id: tp.user_tenant(identity).to_owned(),
        scope: scope.clone(),
        nonce: q.get("nonce").cloned(),
        auth_time: now,
    };
    let new_session = session.is_none().then(|| random_token(64));
    {
        let mut store = ctx.sim.tokens.store();
        store.prune(now);
        store.codes.insert(
            code.clone(),
            AuthCode {
                grant,
                redirect_uri: redirect_uri.clone(),
                challenge,
                issued: now,
                redeemed: false,
            },
        );
        if let Some(s) = &new_session {
            store.sessions.insert(s.clone(), now);
        }
    }
    let mut params = vec![("code".to_owned(), code)];
    if q.get("client_info").is_some_and(|v| v == "1") {
        params.push(("client_info".into(), super::tokens::client_info(identity)));
    }
    let mut r = back(params);
    if let Some(s) = new_session {
        set_header(
            r.headers_mut(),
            "set-cookie",
            &format!("{SESSION_COOKIE}={s}; path=/; secure; HttpOnly; SameSite=None"),
        );
    }
    r
}

/// The redirect (or form post) carrying `params` back to the app. `session_state` is added
/// as Entra ID adds it.
fn respond(redirect_uri: &str, mode: ResponseMode, params: &[(String, String)]) -> Response {
    let mut params = params.to_vec();
    if params.iter().any(|(k, _)| k == "code") {
        params.push(("session_state".into(), uuid::Uuid::new_v4().to_string()));
    }
    match mode {
        ResponseMode::FormPost => {
            let inputs: String = params
                .iter()
                .map(|(k, v)| {
                    format!(
                        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
                        escape_html(k),
                        escape_html(v)
                    )
                })
                .collect();
            page(
                "Working...",
                &format!(
                    "<form method=\"POST\" name=\"hiddenform\" action=\"{}\">{inputs}\
                     <noscript><p>Script is disabled. Click Submit to continue.</p>\
                     <input type=\"submit\" value=\"Submit\"></noscript></form>\
                     <script>document.forms[0].submit();</script>",
                    escape_html(redirect_uri)
                ),
            )
            .into_response()
        }
        ResponseMode::Query | ResponseMode::Fragment => {
            let sep = if mode == ResponseMode::Fragment {
                "#"
            } else if redirect_uri.contains('?') {
                "&"
            } else {
                "?"
            };
            let mut r = StatusCode::FOUND.into_response();
            set_header(
                r.headers_mut(),
                "location",
                &format!("{redirect_uri}{sep}{}", form_encode(&params)),
            );
            r
        }
    }
}

/// Whether a redirect URI is one the simulated apps have registered: `http://localhost` or
/// `http://127.0.0.1`, any port and path (Entra ID ignores the port of loopback redirect URIs),
/// no user info and no fragment.
pub fn is_loopback_redirect(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    let Some(rest) = lower.strip_prefix("http://") else {
        return false;
    };
    if uri.contains('#') {
        return false;
    }
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (authority, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    (host == "localhost" || host == "127.0.0.1") && port_ok
}

/// The session cookie's value, if the browser sent one.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_http_redirects_are_accepted() {
        for ok in [
            "http://localhost",
            "http://localhost:8400/",
            "http://127.0.0.1:51234/callback?x=1",
            "http://LOCALHOST:1/",
        ] {
            assert!(is_loopback_redirect(ok), "{ok}");
        }
        for bad in [
            "https://localhost/",
            "http://localhost.evil.example/",
            "http://evil@localhost/",
            "http://localhost:80a/",
            "http://localhost/#frag",
            "http://10.0.0.1/",
            "urn:ietf:wg:oauth:2.0:oob",
        ] {
            assert!(!is_loopback_redirect(bad), "{bad}");
        }
    }
}
