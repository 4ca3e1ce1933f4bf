//! Accepting TLS connections and serving the router.

use std::sync::{Arc, Mutex};

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::{Sim, SimError, SimHandle, SimOptions, arm, entra, faults, http, state, tls};

/// The whole HTTP surface: Entra ID, ARM and the simulator's own endpoints, behind the
/// middleware every request passes (request log, faults, standard headers).
pub fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .merge(entra::router())
        .merge(arm::router())
        .merge(http::sim_router())
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            http::middleware,
        ))
        .with_state(sim)
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
