//! Accepting TLS connections and serving the router: [`start`] binds, makes the certificates
//! ([`crate::tls`]), loads or creates the state and spawns the accept loop; [`router`] is the
//! whole HTTP surface. Errors are only those of starting ([`SimError`]); a connection that
//! fails (a client that does not trust the CA, a dropped socket) ends alone.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{OriginalUri, Request};
use axum::http::Uri;
use axum::http::uri::PathAndQuery;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::{Sim, SimError, SimHandle, SimOptions, arm, entra, faults, http, state, tls};

/// The whole HTTP surface: Entra ID, ARM and the simulator's own endpoints, behind the
/// middleware every request passes (request log, faults, standard headers). ARM paths are
/// matched case-insensitively (see [`crate::arm`]).
pub fn router(sim: Arc<Sim>) -> Router {
    let routes = Router::new()
        .merge(entra::router())
        .merge(arm::router())
        .merge(http::sim_router())
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            http::middleware,
        ))
        .with_state(sim);
    // A `Router::layer` runs after routing, so the rewrite wraps the routed service instead.
    let rewritten = tower::Layer::layer(&axum::middleware::map_request(canonical_arm_path), routes);
    Router::new().fallback_service(rewritten)
}

/// Gives an ARM path its canonical spelling ([`arm::canonical_path`]) so that the routes,
/// registered in that spelling, match whatever casing the client used. The path as sent is
/// kept as [`OriginalUri`] for the request log, IDs and messages.
async fn canonical_arm_path(mut req: Request) -> Request {
    let original = req.uri().clone();
    if !http::is_arm_path(original.path()) {
        return req;
    }
    let path = arm::canonical_path(original.path());
    if path == original.path() {
        return req;
    }
    let path_and_query = match original.query() {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut parts = original.clone().into_parts();
    let Ok(pq) = PathAndQuery::try_from(path_and_query) else {
        return req;
    };
    parts.path_and_query = Some(pq);
    if let Ok(uri) = Uri::from_parts(parts) {
        *req.uri_mut() = uri;
        if req.extensions().get::<OriginalUri>().is_none() {
            req.extensions_mut().insert(OriginalUri(original));
        }
    }
    req
}

/// Binds, makes certificates, loads state and serves until the handle stops it.
pub async fn start(options: SimOptions) -> Result<SimHandle, SimError> {
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|source| SimError::Bind {
            addr: options.addr.to_string(),
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| SimError::Bind {
        addr: options.addr.to_string(),
        source,
    })?;
    let certs = tls::generate()?;
    if let Some(path) = &options.ca_out {
        state::write_atomic(path, certs.ca_pem.as_bytes())?;
    }
    let base_url = format!("https://{addr}");
    let initial = match &options.state_file {
        Some(path) if path.exists() => state::SimState::load(path)?,
        _ => state::SimState::new(&options.identity, options.clock.now()),
    };
    let sim = Arc::new(Sim {
        base_url: base_url.clone(),
        state: Mutex::new(initial),
        requests: Mutex::new(Vec::new()),
        tokens: entra::tokens::TokenKeys::generate(),
        faults: faults::Faults::new(&options.scenario, options.seed),
        options,
    });
    let app = router(sim.clone());
    let acceptor = TlsAcceptor::from(certs.server_config.clone());
    let (tx, mut rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let (tcp, _) = tokio::select! {
                _ = &mut rx => break,
                accepted = listener.accept() => match accepted {
                    Ok(c) => c,
                    Err(_) => continue,
                },
            };
            let acceptor = acceptor.clone();
            let app = app.clone();
            tokio::spawn(async move {
                // A failed handshake (a client that does not trust the CA) only ends this
                // connection.
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = TowerToHyperService::new(app);
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(SimHandle {
        base_url,
        ca_pem: certs.ca_pem,
        addr,
        sim,
        shutdown: Some(tx),
        task: Some(task),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(uri: &str) -> (String, Option<String>) {
        let req = Request::builder()
            .uri(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let req = rt.block_on(canonical_arm_path(req));
        let original = req
            .extensions()
            .get::<OriginalUri>()
            .map(|o| o.0.to_string());
        (req.uri().to_string(), original)
    }

    #[test]
    fn arm_paths_are_respelled_and_the_original_is_kept() {
        let sent = "/SUBSCRIPTIONS/s/ResourceGroups/RG/providers/microsoft.resources/Deployments/?api-version=1&x=A";
        assert_eq!(
            rewritten(sent),
            (
                "/subscriptions/s/resourcegroups/RG/providers/Microsoft.Resources/deployments/?api-version=1&x=A".to_owned(),
                Some(sent.to_owned())
            )
        );
    }

    #[test]
    fn other_paths_pass_untouched() {
        let entra = "/Contoso.example/oauth2/v2.0/token";
        assert_eq!(rewritten(entra), (entra.to_owned(), None));
        let canonical = "/subscriptions/s/resourcegroups/rg?api-version=1";
        assert_eq!(rewritten(canonical), (canonical.to_owned(), None));
    }
}
