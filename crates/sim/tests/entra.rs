//! Entra ID end to end over HTTPS: discovery, every sign-in flow, the errors Entra ID gives,
//! tokens as Resource Manager judges them, and the cloud metadata document.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use landfall_sim::entra::directory::AZURE_CLI;
use landfall_sim::entra::keys::KeyMaterial;
use landfall_sim::{Clock, ManualClock, SimHandle, SimOptions};
use serde_json::{Value as Json, json};
use sha2::Digest;
use time::macros::datetime;

const LOOPBACK: &str = "http://localhost:8400/";
const ARM_SCOPE: &str =
    "https://management.core.windows.net//.default offline_access openid profile";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A simulator on a manual clock, a client that trusts it and does not follow redirects.
struct Env {
    sim: SimHandle,
    http: reqwest::Client,
    clock: Arc<ManualClock>,
}

impl Env {
    async fn start() -> Env {
        Env::start_with(|_| {}).await
    }

    async fn start_with(configure: impl FnOnce(&mut SimOptions)) -> Env {
        let clock = Arc::new(ManualClock::new(datetime!(2026-01-15 10:00 UTC)));
        let mut options = SimOptions {
            clock: clock.clone(),
            ..SimOptions::default()
        };
        configure(&mut options);
        let sim = common::start(options).await;
        let http = no_redirect_client(&sim);
        Env { sim, http, clock }
    }

    fn base(&self) -> &str {
        &self.sim.base_url
    }

    fn id(&self) -> &landfall_sim::Identity {
        &self.sim.sim.options.identity
    }

    fn advance(&self, seconds: i64) {
        self.clock.advance(time::Duration::seconds(seconds));
    }

    /// POSTs a form to `{base}/{path}`: status, JSON body, headers.
    async fn form(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
    ) -> (u16, Json, reqwest::header::HeaderMap) {
        self.form_with(path, pairs, |r| r).await
    }

    async fn form_with(
        &self,
        path: &str,
        pairs: &[(&str, &str)],
        extra: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> (u16, Json, reqwest::header::HeaderMap) {
        let req = self
            .http
            .post(format!("{}/{path}", self.base()))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(enc(pairs));
        let r = extra(req).send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Json::String(text));
        (status, body, headers)
    }

    async fn get_json(&self, path: &str) -> (u16, Json) {
        let r = self
            .http
            .get(format!("{}/{path}", self.base()))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Json::Null))
    }

    /// `GET /subscriptions` on ARM with a bearer token: status and body.
    async fn arm(&self, token: &str) -> (u16, Json, reqwest::header::HeaderMap) {
        let r = self
            .http
            .get(format!(
                "{}/subscriptions?api-version=2022-12-01",
                self.base()
            ))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        (status, r.json().await.unwrap_or(Json::Null), headers)
    }

    /// Client credentials with the secret, for a scope: the token response.
    async fn app_token(&self, scope: &str) -> Json {
        let tenant = self.id().tenant_id.clone();
        let (status, body, _) = self
            .form(
                &format!("{tenant}/oauth2/v2.0/token"),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &self.id().client_id),
                    ("client_secret", &self.id().client_secret),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Authorize (auto-consent) and redeem the code with PKCE: the token response.
    async fn sign_in(&self, tenant: &str, scope: &str) -> Json {
        let (verifier, challenge) = pkce();
        let params = self
            .authorize(
                tenant,
                &[
                    ("client_id", AZURE_CLI),
                    ("response_type", "code"),
                    ("redirect_uri", LOOPBACK),
                    ("scope", scope),
                    ("state", "s"),
                    ("code_challenge", &challenge),
                    ("code_challenge_method", "S256"),
                ],
            )
            .await;
        let (status, body, _) = self
            .form(
                &format!("{tenant}/oauth2/v2.0/token"),
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", AZURE_CLI),
                    ("code", &params["code"]),
                    ("redirect_uri", LOOPBACK),
                    ("code_verifier", &verifier),
                    ("scope", scope),
                ],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Calls authorize, expects a redirect to the loopback, returns its query parameters.
    async fn authorize(&self, tenant: &str, pairs: &[(&str, &str)]) -> HashMap<String, String> {
        let r = self
            .http
            .get(format!(
                "{}/{tenant}/oauth2/v2.0/authorize?{}",
                self.base(),
                enc(pairs)
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 302, "{:?}", r.text().await);
        let location = r.headers()["location"].to_str().unwrap().to_owned();
        let (target, query) = location.split_once('?').unwrap();
        assert_eq!(target, LOOPBACK.trim_end_matches('?'));
        parse_query(query)
    }

    async fn device_code(&self, tenant: &str) -> Json {
        let (status, body, _) = self
            .form(
                &format!("{tenant}/oauth2/v2.0/devicecode"),
                &[("client_id", AZURE_CLI), ("scope", ARM_SCOPE)],
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    async fn poll(&self, tenant: &str, device_code: &str) -> (u16, Json) {
        let (status, body, _) = self
            .form(
                &format!("{tenant}/oauth2/v2.0/token"),
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("client_id", AZURE_CLI),
                    ("device_code", device_code),
                ],
            )
            .await;
        (status, body)
    }
}

fn no_redirect_client(handle: &SimHandle) -> reqwest::Client {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(handle.ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn enc(pairs: &[(&str, &str)]) -> String {
    let owned: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    landfall_sim::entra::form_encode(&owned)
}

fn parse_query(q: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    };
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn pkce() -> (String, String) {
    let verifier = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let challenge = URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn jwt_part(token: &str, index: usize) -> Json {
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn claims(token: &str) -> Json {
    jwt_part(token, 1)
}

fn code_of(body: &Json) -> i64 {
    body["error_codes"][0].as_i64().unwrap()
}

fn assertion(key: &KeyMaterial, header: jsonwebtoken::Header, claims: &Json) -> String {
    let k = jsonwebtoken::EncodingKey::from_rsa_der(&key.pkcs1_der);
    jsonwebtoken::encode(&header, claims, &k).unwrap()
}

fn rs256_with_x5t(x5t: &str) -> jsonwebtoken::Header {
    let mut h = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    h.x5t = Some(x5t.to_owned());
    h
}

// ---------------------------------------------------------------------------------------------
// Discovery

#[tokio::test]
async fn openid_configuration_points_every_endpoint_at_the_simulator() {
    let env = Env::start().await;
    let base = env.base().to_owned();
    let tid = env.id().tenant_id.clone();

    // By domain: endpoints use the tenant ID, as Entra ID canonicalises them.
    let (status, c) = env
        .get_json("contoso.example/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(status, 200);
    assert_eq!(c["issuer"], format!("{base}/{tid}/v2.0"));
    assert_eq!(
        c["authorization_endpoint"],
        format!("{base}/{tid}/oauth2/v2.0/authorize")
    );
    assert_eq!(
        c["token_endpoint"],
        format!("{base}/{tid}/oauth2/v2.0/token")
    );
    assert_eq!(
        c["device_authorization_endpoint"],
        format!("{base}/{tid}/oauth2/v2.0/devicecode")
    );
    assert_eq!(c["jwks_uri"], format!("{base}/{tid}/discovery/v2.0/keys"));
    assert_eq!(
        c["end_session_endpoint"],
        format!("{base}/{tid}/oauth2/v2.0/logout")
    );
    assert_eq!(c["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(
        c["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic"
        ])
    );
    assert_eq!(c["request_uri_parameter_supported"], false);

    // Multi-tenant: the issuer is a template, endpoints keep the alias.
    let (_, c) = env
        .get_json("organizations/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(c["issuer"], format!("{base}/{{tenantid}}/v2.0"));
    assert_eq!(
        c["token_endpoint"],
        format!("{base}/organizations/oauth2/v2.0/token")
    );
    assert_eq!(c["tenant_region_scope"], Json::Null);

    // Unknown tenants are AADSTS90002.
    let (status, e) = env
        .get_json("nosuchtenant/v2.0/.well-known/openid-configuration")
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "invalid_tenant");
    assert_eq!(code_of(&e), 90002);
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS90002: Tenant 'nosuchtenant' not found.")
    );
}

#[tokio::test]
async fn signing_keys_are_published_with_the_kid_tokens_carry() {
    let env = Env::start().await;
    let (status, jwks) = env.get_json("common/discovery/v2.0/keys").await;
    assert_eq!(status, 200);
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["use"], "sig");
    assert_eq!(key["e"], "AQAB");
    assert_eq!(key["kid"], key["x5t"]);
    assert!(key["x5c"][0].as_str().unwrap().len() > 500);
    assert_eq!(key["issuer"], format!("{}/{{tenantid}}/v2.0", env.base()));

    let token = env.app_token(&format!("{}/.default", env.base())).await;
    let header = jwt_part(token["access_token"].as_str().unwrap(), 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], key["kid"]);
    assert_eq!(header["x5t"], key["kid"]);
}

#[tokio::test]
async fn instance_discovery_knows_the_simulator_host_and_refuses_others() {
    let env = Env::start().await;
    let host = env.base().strip_prefix("https://").unwrap().to_owned();
    let endpoint = format!("{}/organizations/oauth2/v2.0/authorize", env.base());
    let (status, d) = env
        .get_json(&format!(
            "common/discovery/instance?{}",
            enc(&[
                ("api-version", "1.1"),
                ("authorization_endpoint", &endpoint)
            ])
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        d["tenant_discovery_endpoint"],
        format!(
            "{}/organizations/v2.0/.well-known/openid-configuration",
            env.base()
        )
    );
    assert_eq!(d["api-version"], "1.1");
    assert_eq!(d["metadata"][0]["preferred_network"], host);
    assert_eq!(d["metadata"][0]["preferred_cache"], host);
    assert!(
        d["metadata"][0]["aliases"]
            .as_array()
            .unwrap()
            .contains(&json!(host))
    );

    let (status, e) = env
        .get_json(&format!(
            "common/discovery/instance?{}",
            enc(&[
                ("api-version", "1.1"),
                (
                    "authorization_endpoint",
                    "https://evil.example/common/oauth2/v2.0/authorize"
                )
            ])
        ))
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "invalid_instance");
    assert_eq!(code_of(&e), 50049);
}

// ---------------------------------------------------------------------------------------------
// Authorization code with PKCE

#[tokio::test]
async fn auth_code_with_pkce_redirects_to_the_loopback_and_redeems_once() {
    let env = Env::start().await;
    let id = env.id().clone();
    let (verifier, challenge) = pkce();
    let params = env
        .authorize(
            "organizations",
            &[
                ("client_id", AZURE_CLI),
                ("response_type", "code"),
                ("redirect_uri", LOOPBACK),
                ("scope", ARM_SCOPE),
                ("state", "st-123"),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
                ("nonce", "n-456"),
                ("prompt", "select_account"),
                ("client_info", "1"),
            ],
        )
        .await;
    assert_eq!(params["state"], "st-123");
    assert!(params["code"].len() > 100);
    assert!(params.contains_key("session_state"));
    assert!(params.contains_key("client_info"));

    let redeem = [
        ("grant_type", "authorization_code"),
        ("client_id", AZURE_CLI),
        ("code", params["code"].as_str()),
        ("redirect_uri", LOOPBACK),
        ("code_verifier", verifier.as_str()),
        ("scope", ARM_SCOPE),
        ("client_info", "1"),
    ];
    let (status, t, headers) = env.form("organizations/oauth2/v2.0/token", &redeem).await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(headers["cache-control"], "no-store, no-cache");
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "token_type",
            "scope",
            "expires_in",
            "ext_expires_in",
            "access_token",
            "refresh_token",
            "id_token",
            "client_info",
            "foci"
        ]
    );
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(
        t["scope"],
        "https://management.core.windows.net//user_impersonation https://management.core.windows.net//.default"
    );
    assert_eq!(t["expires_in"], 3600);
    assert_eq!(t["ext_expires_in"], 3600);

    let info: Json = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(t["client_info"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        info,
        json!({"uid": id.user_object_id, "utid": id.tenant_id})
    );

    let idt = claims(t["id_token"].as_str().unwrap());
    assert_eq!(idt["aud"], AZURE_CLI);
    assert_eq!(idt["iss"], format!("{}/{}/v2.0", env.base(), id.tenant_id));
    assert_eq!(idt["tid"], id.tenant_id);
    assert_eq!(idt["oid"], id.user_object_id);
    assert_eq!(idt["preferred_username"], id.user_upn);
    assert_eq!(idt["name"], id.user_display_name);
    assert_eq!(idt["nonce"], "n-456");
    assert_eq!(idt["ver"], "2.0");

    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], "https://management.core.windows.net/");
    assert_eq!(at["tid"], id.tenant_id);
    assert_eq!(at["oid"], id.user_object_id);
    assert_eq!(at["upn"], id.user_upn);
    assert_eq!(at["appid"], AZURE_CLI);
    assert_eq!(at["scp"], "user_impersonation");
    assert_eq!(at["idtyp"], "user");
    let now = env.clock.now().unix_timestamp();
    assert_eq!(at["exp"].as_i64().unwrap(), now + 3600);

    let (status, body, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_ne!(status, 401, "{body}");

    // A code is single use.
    let (status, e, _) = env.form("organizations/oauth2/v2.0/token", &redeem).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(code_of(&e), 54005);
    assert!(
        !e.to_string().contains(&params["code"]),
        "the code is never echoed"
    );
}

#[tokio::test]
async fn authorize_with_a_redirect_uri_that_is_not_loopback_shows_an_error_page() {
    let env = Env::start().await;
    for (client, redirect, aadsts) in [
        (AZURE_CLI, "https://evil.example/callback", "AADSTS50011"),
        (AZURE_CLI, "http://localhost.evil.example/", "AADSTS50011"),
        (
            "11111111-2222-3333-4444-555555555555",
            LOOPBACK,
            "AADSTS700016",
        ),
    ] {
        let r = env
            .http
            .get(format!(
                "{}/common/oauth2/v2.0/authorize?{}",
                env.base(),
                enc(&[
                    ("client_id", client),
                    ("response_type", "code"),
                    ("redirect_uri", redirect),
                    ("scope", ARM_SCOPE),
                    ("state", "s"),
                ])
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.headers().get("location").is_none(), "never a redirect");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let html = r.text().await.unwrap();
        assert!(html.contains(aadsts), "{html}");
        assert!(!html.contains("<script"), "the redirect URI is escaped");
    }
}

#[tokio::test]
async fn authorize_errors_after_validation_go_back_to_the_app_with_the_state() {
    let env = Env::start().await;
    let base_params = [
        ("client_id", AZURE_CLI),
        ("redirect_uri", LOOPBACK),
        ("scope", ARM_SCOPE),
        ("state", "st"),
    ];

    let p = env.authorize("common", &base_params).await;
    assert_eq!(p["error"], "invalid_request");
    assert!(p["error_description"].starts_with(
        "AADSTS900144: The request body must contain the following parameter: 'response_type'."
    ));
    assert_eq!(p["state"], "st");

    let mut with_prompt = base_params.to_vec();
    with_prompt.extend([("response_type", "code"), ("prompt", "none")]);
    let p = env.authorize("common", &with_prompt).await;
    assert_eq!(p["error"], "login_required");
    assert!(p["error_description"].starts_with("AADSTS50058:"));

    let mut bad_scope = base_params.to_vec();
    bad_scope[2] = ("scope", "https://unknown.example/.default");
    bad_scope.push(("response_type", "code"));
    let p = env.authorize("common", &bad_scope).await;
    assert_eq!(p["error"], "invalid_resource");
    assert!(p["error_description"].starts_with("AADSTS500011:"));

    // After an interactive sign-in the browser has a session: `prompt=none` then succeeds.
    let mut interactive = base_params.to_vec();
    interactive.push(("response_type", "code"));
    let r = env
        .http
        .get(format!(
            "{}/common/oauth2/v2.0/authorize?{}",
            env.base(),
            enc(&interactive)
        ))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"].to_str().unwrap();
    let session = cookie.split(';').next().unwrap().to_owned();
    assert!(session.starts_with("ESTSAUTH="));
    let r = env
        .http
        .get(format!(
            "{}/common/oauth2/v2.0/authorize?{}",
            env.base(),
            enc(&with_prompt)
        ))
        .header("cookie", session)
        .send()
        .await
        .unwrap();
    let location = r.headers()["location"].to_str().unwrap();
    assert!(location.contains("code="), "{location}");
}

#[tokio::test]
async fn pkce_redirect_and_client_mismatches_are_refused_without_burning_the_code() {
    let env = Env::start().await;
    let (verifier, challenge) = pkce();
    let params = env
        .authorize(
            "common",
            &[
                ("client_id", AZURE_CLI),
                ("response_type", "code"),
                ("redirect_uri", LOOPBACK),
                ("scope", ARM_SCOPE),
                ("code_challenge", &challenge),
                ("code_challenge_method", "S256"),
            ],
        )
        .await;
    let code = params["code"].clone();
    let attempt = |verifier: Option<&str>, redirect: &str, client: &str| {
        let mut pairs = vec![
            ("grant_type", "authorization_code".to_owned()),
            ("client_id", client.to_owned()),
            ("code", code.clone()),
            ("redirect_uri", redirect.to_owned()),
        ];
        if let Some(v) = verifier {
            pairs.push(("code_verifier", v.to_owned()));
        }
        pairs
    };
    let send = |pairs: Vec<(&'static str, String)>| {
        let env = &env;
        async move {
            let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            env.form("common/oauth2/v2.0/token", &borrowed).await
        }
    };

    let wrong = format!("{verifier}x");
    let (status, e, _) = send(attempt(Some(&wrong), LOOPBACK, AZURE_CLI)).await;
    assert_eq!((status, code_of(&e)), (400, 501481), "{e}");
    let (_, e, _) = send(attempt(None, LOOPBACK, AZURE_CLI)).await;
    assert_eq!(code_of(&e), 50148);
    let (_, e, _) = send(attempt(
        Some(&verifier),
        "http://localhost:9999/",
        AZURE_CLI,
    ))
    .await;
    assert_eq!(code_of(&e), 500112);
    let (_, e, _) = send(attempt(
        Some(&verifier),
        LOOPBACK,
        landfall_sim::entra::directory::AZURE_POWERSHELL,
    ))
    .await;
    assert_eq!(code_of(&e), 70000);
    let (_, e, _) = send(attempt(Some(&verifier), LOOPBACK, AZURE_CLI)).await;
    assert!(
        e["access_token"].is_string(),
        "the right verifier still works: {e}"
    );
}

#[tokio::test]
async fn authorization_codes_expire_after_ten_minutes() {
    let env = Env::start().await;
    let params = env
        .authorize(
            "common",
            &[
                ("client_id", AZURE_CLI),
                ("response_type", "code"),
                ("redirect_uri", LOOPBACK),
                ("scope", ARM_SCOPE),
            ],
        )
        .await;
    env.advance(10 * 60);
    let (status, e, _) = env
        .form(
            "common/oauth2/v2.0/token",
            &[
                ("grant_type", "authorization_code"),
                ("client_id", AZURE_CLI),
                ("code", &params["code"]),
                ("redirect_uri", LOOPBACK),
            ],
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(code_of(&e), 70008);
}

#[tokio::test]
async fn a_guest_tenant_sign_in_gets_guest_tenant_tokens() {
    let env = Env::start().await;
    let id = env.id().clone();
    let t = env.sign_in(&id.guest_tenant_id, ARM_SCOPE).await;
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["tid"], id.guest_tenant_id);
    assert_ne!(at["oid"], id.user_object_id, "a guest is another object");
    assert_eq!(at["idp"], format!("{}/{}/", env.base(), id.tenant_id));
    let (status, _, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_ne!(status, 401);
}

// ---------------------------------------------------------------------------------------------
// Refresh tokens

#[tokio::test]
async fn refresh_returns_new_tokens_with_a_rotated_refresh_token_across_tenants() {
    let env = Env::start().await;
    let id = env.id().clone();
    let first = env.sign_in("organizations", ARM_SCOPE).await;
    let rt = first["refresh_token"].as_str().unwrap().to_owned();
    env.advance(60);

    let refresh = |tenant: String, token: String| {
        let env = &env;
        async move {
            env.form(
                &format!("{tenant}/oauth2/v2.0/token"),
                &[
                    ("grant_type", "refresh_token"),
                    ("client_id", AZURE_CLI),
                    ("refresh_token", &token),
                    ("scope", ARM_SCOPE),
                    ("client_info", "1"),
                ],
            )
            .await
        }
    };
    let (status, second, _) = refresh("organizations".into(), rt.clone()).await;
    assert_eq!(status, 200, "{second}");
    let rt2 = second["refresh_token"].as_str().unwrap();
    assert_ne!(rt2, rt, "rotated");
    assert_ne!(second["access_token"], first["access_token"]);
    assert!(second["id_token"].is_string());
    let at = claims(second["access_token"].as_str().unwrap());
    assert_eq!(at["tid"], id.tenant_id);
    assert_eq!(
        at["iat"].as_i64().unwrap(),
        claims(first["access_token"].as_str().unwrap())["iat"]
            .as_i64()
            .unwrap()
            + 60
    );

    // The home tenant's refresh token gets a token for the guest tenant (as the Azure CLI does
    // when it lists subscriptions across tenants).
    let (status, guest, _) = refresh(id.guest_tenant_id.clone(), rt2.to_owned()).await;
    assert_eq!(status, 200, "{guest}");
    assert_eq!(
        claims(guest["access_token"].as_str().unwrap())["tid"],
        id.guest_tenant_id
    );

    // An unknown refresh token, and one unused for 90 days.
    let (status, e) = {
        let (s, b, _) = refresh("organizations".into(), "1.Anope".into()).await;
        (s, b)
    };
    assert_eq!((status, code_of(&e)), (400, 9002313));
    env.advance(91 * 24 * 3600);
    let (status, e, _) = refresh("organizations".into(), rt).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "invalid_grant");
    assert_eq!(code_of(&e), 700082);
}

// ---------------------------------------------------------------------------------------------
// Client credentials

#[tokio::test]
async fn client_credentials_with_the_secret_issue_app_tokens() {
    let env = Env::start().await;
    let id = env.id().clone();
    let t = env.app_token(&format!("{}/.default", env.base())).await;
    let keys: Vec<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["token_type", "expires_in", "ext_expires_in", "access_token"]
    );
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["aud"], env.base());
    assert_eq!(at["tid"], id.tenant_id);
    assert_eq!(at["appid"], id.client_id);
    assert_eq!(at["oid"], id.client_object_id);
    assert_eq!(at["idtyp"], "app");
    assert_eq!(at["appidacr"], "1");
    assert_eq!(at["iss"], format!("{}/{}/", env.base(), id.tenant_id));
    assert!(at.get("upn").is_none());
    let (status, body, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_ne!(status, 401, "{body}");

    // HTTP Basic client authentication (client_secret_basic).
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", id.client_id, id.client_secret));
    let (status, _, _) = env
        .form_with(
            &format!("{}/oauth2/v2.0/token", id.tenant_id),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "https://management.azure.com/.default"),
            ],
            |r| r.header("authorization", format!("Basic {basic}")),
        )
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn client_credentials_failures_use_entra_ids_codes_and_never_echo_the_secret() {
    let env = Env::start().await;
    let id = env.id().clone();
    let token_path = |t: &str| format!("{t}/oauth2/v2.0/token");
    let ask = |tenant: String, client: String, secret: String, scope: String| {
        let env = &env;
        async move {
            env.form(
                &tenant,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &client),
                    ("client_secret", &secret),
                    ("scope", &scope),
                ],
            )
            .await
        }
    };
    let arm = "https://management.azure.com/.default".to_owned();

    let (status, e, _) = ask(
        token_path(&id.tenant_id),
        id.client_id.clone(),
        "wrong-secret-value".into(),
        arm.clone(),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(e["error"], "invalid_client");
    assert_eq!(code_of(&e), 7000215);
    assert!(!e.to_string().contains("wrong-secret-value"));
    assert!(!e.to_string().contains(&id.client_secret));

    let (status, e, _) = ask(
        token_path(&id.tenant_id),
        "11111111-2222-3333-4444-555555555555".into(),
        id.client_secret.clone(),
        arm.clone(),
    )
    .await;
    assert_eq!(
        (status, e["error"].as_str().unwrap(), code_of(&e)),
        (400, "unauthorized_client", 700016)
    );

    for (tenant, scope, status_code, error, aadsts) in [
        (
            id.tenant_id.clone(),
            "https://management.azure.com/user_impersonation".to_owned(),
            400,
            "invalid_scope",
            1002012,
        ),
        (
            id.tenant_id.clone(),
            "https://unknown.example/.default".to_owned(),
            400,
            "invalid_resource",
            500011,
        ),
        (
            id.tenant_id.clone(),
            "https://management.azure.com/.default https://graph.microsoft.com/.default".to_owned(),
            400,
            "invalid_scope",
            700022,
        ),
        (
            "common".to_owned(),
            arm.clone(),
            400,
            "invalid_request",
            9001023,
        ),
        (
            id.guest_tenant_id.clone(),
            arm.clone(),
            400,
            "unauthorized_client",
            700016,
        ),
        (
            "nosuchtenant".to_owned(),
            arm.clone(),
            400,
            "invalid_request",
            90002,
        ),
    ] {
        let (status, e, _) = ask(
            token_path(&tenant),
            id.client_id.clone(),
            id.client_secret.clone(),
            scope,
        )
        .await;
        assert_eq!(status, status_code, "{e}");
        assert_eq!(e["error"], error, "{e}");
        assert_eq!(code_of(&e), aadsts, "{e}");
    }

    // No credential at all, and a public client presenting one.
    let (status, e, _) = env
        .form(
            &token_path(&id.tenant_id),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id.client_id),
                ("scope", &arm),
            ],
        )
        .await;
    assert_eq!((status, code_of(&e)), (401, 7000218));
    let (status, e, _) = ask(
        token_path(&id.tenant_id),
        AZURE_CLI.into(),
        "x".into(),
        arm.clone(),
    )
    .await;
    assert_eq!((status, code_of(&e)), (401, 700025));
}

#[tokio::test]
async fn client_credentials_with_a_certificate_assertion_issue_app_tokens() {
    let env = Env::start().await;
    let id = env.id().clone();
    let cert = env.sim.sim.tokens.client_certificate(&id).unwrap().clone();
    let endpoint = format!("{}/{}/oauth2/v2.0/token", env.base(), id.tenant_id);
    let now = env.clock.now().unix_timestamp();
    let good = json!({
        "aud": endpoint, "iss": id.client_id, "sub": id.client_id,
        "jti": uuid::Uuid::new_v4().to_string(), "nbf": now, "exp": now + 600,
    });
    let ask = |assertion: String| {
        let env = &env;
        let id = id.clone();
        async move {
            env.form(
                &format!("{}/oauth2/v2.0/token", id.tenant_id),
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id.client_id),
                    ("scope", "https://management.azure.com/.default"),
                    ("client_assertion_type", JWT_BEARER),
                    ("client_assertion", &assertion),
                ],
            )
            .await
        }
    };

    let (status, t, _) = ask(assertion(&cert, rs256_with_x5t(&cert.x5t), &good)).await;
    assert_eq!(status, 200, "{t}");
    let at = claims(t["access_token"].as_str().unwrap());
    assert_eq!(at["appidacr"], "2");
    assert_eq!(at["aud"], "https://management.azure.com");
    let (status, _, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_ne!(status, 401);

    // PS256 with the SHA-256 thumbprint, as newer MSAL versions send.
    let mut ps = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::PS256);
    ps.x5t_s256 = Some(cert.x5t_s256.clone());
    let (status, t, _) = ask(assertion(&cert, ps, &good)).await;
    assert_eq!(status, 200, "{t}");

    // NumericDates with a fraction, as MSAL for Python writes `time.time()`.
    let mut fractional = good.clone();
    fractional["nbf"] = json!(now as f64 + 0.25);
    fractional["exp"] = json!(now as f64 + 600.75);
    let (status, t, _) = ask(assertion(&cert, rs256_with_x5t(&cert.x5t), &fractional)).await;
    assert_eq!(status, 200, "{t}");

    let other = KeyMaterial::generate("someone else").unwrap();
    let mut wrong_aud = good.clone();
    wrong_aud["aud"] = json!(format!("{}/common/oauth2/v2.0/token", env.base()));
    let mut expired = good.clone();
    expired["exp"] = json!(now - 3600);
    let mut wrong_iss = good.clone();
    wrong_iss["iss"] = json!("someone");
    wrong_iss["sub"] = json!("someone");
    let mut sub_differs = good.clone();
    sub_differs["sub"] = json!("someone");
    for (jwt, aadsts) in [
        (assertion(&other, rs256_with_x5t(&cert.x5t), &good), 700027),
        (assertion(&other, rs256_with_x5t(&other.x5t), &good), 700027),
        (
            assertion(&cert, rs256_with_x5t(&cert.x5t), &wrong_aud),
            50012,
        ),
        (
            assertion(&cert, rs256_with_x5t(&cert.x5t), &expired),
            700024,
        ),
        (
            assertion(&cert, rs256_with_x5t(&cert.x5t), &wrong_iss),
            700021,
        ),
        (
            assertion(&cert, rs256_with_x5t(&cert.x5t), &sub_differs),
            50048,
        ),
        ("not.a.jwt".to_owned(), 50027),
    ] {
        let (status, e, _) = ask(jwt).await;
        assert_eq!(status, 401, "{e}");
        assert_eq!(e["error"], "invalid_client");
        assert_eq!(code_of(&e), aadsts, "{e}");
    }
}

#[tokio::test]
async fn a_configured_client_certificate_replaces_the_generated_one() {
    let configured = KeyMaterial::generate("configured").unwrap();
    let (cert_pem, key_pem) = (
        configured.certificate_pem.clone(),
        configured.private_key_pem.clone(),
    );
    let env = Env::start_with(move |o| {
        o.identity.client_certificate_pem = cert_pem;
        o.identity.client_certificate_key_pem = key_pem;
    })
    .await;
    let id = env.id().clone();
    assert_eq!(
        env.sim.sim.tokens.client_certificate(&id).unwrap().x5t,
        configured.x5t
    );
    let now = env.clock.now().unix_timestamp();
    let claims_json = json!({
        "aud": format!("{}/{}/oauth2/v2.0/token", env.base(), id.tenant_id),
        "iss": id.client_id, "sub": id.client_id, "exp": now + 600,
    });
    let (status, t, _) = env
        .form(
            &format!("{}/oauth2/v2.0/token", id.tenant_id),
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &id.client_id),
                ("scope", "https://management.azure.com/.default"),
                ("client_assertion_type", JWT_BEARER),
                (
                    "client_assertion",
                    &assertion(&configured, rs256_with_x5t(&configured.x5t), &claims_json),
                ),
            ],
        )
        .await;
    assert_eq!(status, 200, "{t}");
}

// ---------------------------------------------------------------------------------------------
// Device code

#[tokio::test]
async fn device_code_goes_pending_then_slow_down_then_approved() {
    let env = Env::start().await;
    let d = env.device_code("organizations").await;
    let user_code = d["user_code"].as_str().unwrap().to_owned();
    let device_code = d["device_code"].as_str().unwrap().to_owned();
    assert_eq!(user_code.len(), 9);
    assert!(
        user_code
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    );
    assert_eq!(d["verification_uri"], format!("{}/devicelogin", env.base()));
    assert_eq!(d["expires_in"], 900);
    assert_eq!(d["interval"], 5);
    assert_eq!(
        d["message"],
        format!(
            "To sign in, use a web browser to open the page {}/devicelogin and enter the code {user_code} to authenticate.",
            env.base()
        )
    );

    let (status, e) = env.poll("organizations", &device_code).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "authorization_pending");
    assert_eq!(code_of(&e), 70016);
    env.advance(5);
    let (_, e) = env.poll("organizations", &device_code).await;
    assert_eq!(e["error"], "authorization_pending");
    let (status, e) = env.poll("organizations", &device_code).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "slow_down", "polled again at once");

    let r = env
        .http
        .post(format!("{}/_sim/device/approve", env.base()))
        .json(&json!({"userCode": user_code.to_lowercase()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let approved: Json = r.json().await.unwrap();
    assert_eq!(approved["status"], "approved");

    env.advance(5);
    let (status, t) = env.poll("organizations", &device_code).await;
    assert_eq!(status, 200, "{t}");
    assert!(t["refresh_token"].is_string());
    assert!(t["id_token"].is_string());
    let (status, _, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_ne!(status, 401);

    let (status, e) = env.poll("organizations", &device_code).await;
    assert_eq!(
        (status, code_of(&e)),
        (400, 54005),
        "a device code is redeemed once"
    );
    let r = env
        .http
        .post(format!("{}/_sim/device/approve", env.base()))
        .json(&json!({"userCode": user_code}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn device_code_expires_after_fifteen_minutes() {
    let env = Env::start().await;
    let d = env.device_code("organizations").await;
    env.advance(900);
    let (status, e) = env
        .poll("organizations", d["device_code"].as_str().unwrap())
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "expired_token");
    assert_eq!(code_of(&e), 70020);
    let r = env
        .http
        .post(format!("{}/_sim/device/approve", env.base()))
        .json(&json!({"userCode": d["user_code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 410);
}

#[tokio::test]
async fn a_device_code_declined_on_the_verification_page_is_refused() {
    let env = Env::start().await;
    let d = env.device_code("common").await;
    let user_code = d["user_code"].as_str().unwrap();

    let page = env
        .http
        .get(format!("{}/devicelogin?otc={user_code}", env.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<form") && html.contains(user_code), "{html}");

    let (status, html, _) = env
        .form(
            "devicelogin",
            &[("otc", "ZZZZZZZZZ"), ("action", "approve")],
        )
        .await;
    assert_eq!(status, 400);
    assert!(
        html.as_str()
            .unwrap()
            .contains("Check the code and try again.")
    );

    let (status, html, _) = env
        .form("devicelogin", &[("otc", user_code), ("action", "decline")])
        .await;
    assert_eq!(status, 200);
    assert!(html.as_str().unwrap().contains("declined"));

    let (status, e) = env.poll("common", d["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "authorization_declined");
    assert_eq!(code_of(&e), 65004);
}

#[tokio::test]
async fn a_device_code_approved_on_the_verification_page_signs_in() {
    let env = Env::start().await;
    let d = env.device_code("common").await;
    let (status, html, _) = env
        .form(
            "devicelogin",
            &[
                ("otc", d["user_code"].as_str().unwrap()),
                ("action", "approve"),
            ],
        )
        .await;
    assert_eq!(status, 200);
    assert!(
        html.as_str()
            .unwrap()
            .contains("You have signed in to the Microsoft Azure CLI")
    );
    let (status, t) = env.poll("common", d["device_code"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{t}");
}

// ---------------------------------------------------------------------------------------------
// Tokens as Resource Manager judges them

#[tokio::test]
async fn tokens_for_every_arm_audience_are_accepted_by_resource_manager() {
    let env = Env::start().await;
    for scope in [
        format!("{}/.default", env.base()),
        format!("{}//.default", env.base()),
        "https://management.azure.com/.default".to_owned(),
        "https://management.core.windows.net//.default".to_owned(),
    ] {
        let t = env.app_token(&scope).await;
        let (status, body, _) = env.arm(t["access_token"].as_str().unwrap()).await;
        assert_ne!(status, 401, "{scope}: {body}");
    }
    let t = env
        .sign_in(
            "common",
            &format!("{}/user_impersonation offline_access", env.base()),
        )
        .await;
    assert_eq!(t["scope"], format!("{}/user_impersonation", env.base()));
    let (status, body, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_ne!(status, 401, "{body}");
}

#[tokio::test]
async fn an_expired_token_is_refused_with_expired_authentication_token() {
    let env = Env::start().await;
    let t = env.app_token("https://management.azure.com/.default").await;
    let token = t["access_token"].as_str().unwrap();
    env.advance(3599);
    let (status, _, _) = env.arm(token).await;
    assert_ne!(status, 401);
    env.advance(1);
    let (status, body, headers) = env.arm(token).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "ExpiredAuthenticationToken");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("The access token expiry UTC time '1/15/2026 11:00:00 AM' is earlier than current UTC time '1/15/2026 11:00:00 AM'."),
        "{body}"
    );
    assert!(headers.get("www-authenticate").is_some());
}

#[tokio::test]
async fn the_scenario_token_lifetime_expires_tokens_mid_run() {
    let env = Env::start_with(|o| o.scenario.token_lifetime_seconds = Some(120)).await;
    let t = env.app_token("https://management.azure.com/.default").await;
    assert_eq!(t["expires_in"], 120);
    assert_eq!(t["ext_expires_in"], 120);
    env.advance(121);
    let (status, body, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "ExpiredAuthenticationToken");
}

#[tokio::test]
async fn a_token_for_another_audience_or_signer_is_refused_by_resource_manager() {
    let env = Env::start().await;
    let t = env.app_token("https://graph.microsoft.com/.default").await;
    let (status, body, headers) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationTokenAudience");
    assert!(headers.get("www-authenticate").is_some());

    let forged = {
        let other = KeyMaterial::generate("forger").unwrap();
        let mut c = claims(
            env.app_token("https://management.azure.com/.default").await["access_token"]
                .as_str()
                .unwrap(),
        );
        c["oid"] = json!("someone-else");
        assertion(&other, rs256_with_x5t(&other.x5t), &c)
    };
    let (status, body, _) = env.arm(&forged).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");
}

// ---------------------------------------------------------------------------------------------
// Errors

#[tokio::test]
async fn errors_carry_trace_and_correlation_ids_and_the_simulator_time() {
    let env = Env::start().await;
    let (status, e, headers) = env
        .form_with(
            "common/oauth2/v2.0/token",
            &[("grant_type", "password"), ("client_id", AZURE_CLI)],
            |r| r.header("client-request-id", "corr-1234"),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(e["error"], "unsupported_grant_type");
    assert_eq!(code_of(&e), 70003);
    let trace = headers["x-ms-request-id"].to_str().unwrap();
    assert_eq!(e["trace_id"], trace);
    assert_eq!(e["correlation_id"], "corr-1234");
    assert_eq!(headers["client-request-id"], "corr-1234");
    assert_eq!(e["timestamp"], "2026-01-15 10:00:00Z");
    assert_eq!(
        e["error_description"],
        format!(
            "AADSTS70003: The app requested an unsupported grant type 'password'.\r\nTrace ID: {trace}\r\nCorrelation ID: corr-1234\r\nTimestamp: 2026-01-15 10:00:00Z"
        )
    );
    assert_eq!(e["error_uri"], format!("{}/error?code=70003", env.base()));

    let (status, e, _) = env
        .form("common/oauth2/v2.0/token", &[("client_id", AZURE_CLI)])
        .await;
    assert_eq!((status, code_of(&e)), (400, 900144));

    let r = env
        .http
        .get(format!("{}/common/oauth2/v2.0/token", env.base()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let e: Json = r.json().await.unwrap();
    assert_eq!(code_of(&e), 900561);
}

// ---------------------------------------------------------------------------------------------
// Cloud metadata

#[tokio::test]
async fn metadata_2022_09_01_is_one_cloud_pointing_at_the_simulator() {
    let env = Env::start().await;
    let base = env.base().to_owned();
    let (status, m) = env
        .get_json("metadata/endpoints?api-version=2022-09-01")
        .await;
    assert_eq!(status, 200, "not ARM-authenticated");
    let keys: Vec<&str> = m.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "portal",
            "authentication",
            "media",
            "graphAudience",
            "graph",
            "name",
            "suffixes",
            "batch",
            "resourceManager",
            "vmImageAliasDoc",
            "activeDirectoryDataLake",
            "sqlManagement",
            "microsoftGraphResourceId",
            "appInsightsResourceId",
            "appInsightsTelemetryChannelResourceId",
            "attestationResourceId",
            "synapseAnalyticsResourceId",
            "logAnalyticsResourceId",
            "ossrDbmsResourceId"
        ]
    );
    assert_eq!(m["authentication"]["loginEndpoint"], base);
    assert_eq!(m["authentication"]["tenant"], "common");
    assert_eq!(m["authentication"]["identityProvider"], "AAD");
    assert_eq!(m["resourceManager"], format!("{base}/"));
    assert_eq!(
        m["microsoftGraphResourceId"],
        "https://graph.microsoft.com/"
    );
    assert_eq!(m["suffixes"]["keyVaultDns"], "vault.azure.net");
    assert_eq!(
        m["suffixes"]["mysqlServerEndpoint"],
        "mysql.database.azure.com"
    );
    assert_eq!(m["suffixes"].as_object().unwrap().len(), 14);
    assert!(
        m["name"]
            .as_str()
            .is_some_and(|n| !n.is_empty() && n != "AzureCloud")
    );

    // A client registering the cloud asks a token for audiences[0]: ARM accepts it.
    let audience = m["authentication"]["audiences"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(audience, format!("{base}/"));
    let t = env.app_token(&format!("{audience}/.default")).await;
    let (status, _, _) = env.arm(t["access_token"].as_str().unwrap()).await;
    assert_ne!(status, 401);
    // The login endpoint is this simulator's Entra ID.
    let (status, _) = env
        .get_json(&format!(
            "{}/v2.0/.well-known/openid-configuration",
            env.id().tenant_id
        ))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn older_metadata_api_versions_get_the_older_shapes() {
    let env = Env::start().await;
    let base = env.base().to_owned();
    let (status, list) = env
        .get_json("metadata/endpoints?api-version=2019-05-01")
        .await;
    assert_eq!(status, 200);
    let clouds = list.as_array().unwrap();
    assert_eq!(clouds.len(), 1);
    assert_eq!(clouds[0]["resourceManager"], format!("{base}/"));
    assert_eq!(
        clouds[0]["authentication"]["loginEndpoint"],
        format!("{base}/")
    );

    let (_, legacy) = env.get_json("metadata/endpoints").await;
    assert_eq!(
        legacy["authentication"]["loginEndpoint"],
        format!("{base}/")
    );
    assert!(legacy["galleryEndpoint"].is_string());

    let (_, y2018) = env
        .get_json("metadata/endpoints?api-version=2018-01-01")
        .await;
    assert!(y2018["cloudEndpoint"].is_object());

    let (status, e) = env.get_json("metadata/endpoints?api-version=latest").await;
    assert_eq!(status, 400);
    assert_eq!(e["error"]["code"], "InvalidApiVersionParameter");
}
