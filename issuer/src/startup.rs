//! Builds and runs the issuer application.
//!
//! [`Application::build`] does everything a start needs (data dir, database migration, keys,
//! demo seed, recovery) and binds the listener, so tests can start a real server on port 0 and
//! learn its address before serving.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::config::Settings;
use crate::state::{AppState, Secrets};
use crate::store::Db;
use crate::trust::keys;

/// A bound, ready-to-serve issuer.
pub struct Application {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
}

/// Opens the data dir: database, signing key (registered for gates), secrets, demo seed.
/// Shared by `serve` and the offline subcommands. The data dir is owner-only (0700) and the
/// database file 0600 (SQLite gives its `-wal` and `-shm` files the same mode).
pub fn open_data_dir(settings: &Settings) -> Result<(Db, og_shared::TicketSigner, Secrets), String> {
    keys::create_private_dir(&settings.data_dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", settings.data_dir.display()))?;
    let db = Db::connect(&settings.database_url())?;
    let (signer, created) = keys::load_or_create_signer(&settings.signing_key_path(), &settings.deployment)?;
    if created {
        tracing::info!(key_id = %signer.key_id(), "created a new ticket-signing key");
    }
    crate::trust::issuance::register_signing_key(&db, &signer, crate::now()).map_err(|e| e.to_string())?;
    let kd = keys::keys_dir(&settings.data_dir);
    let secrets = Secrets {
        jwt: keys::load_or_create_secret(&kd.join("jwt-secret.hex"))?,
        webhook: keys::load_or_create_secret(&kd.join("webhook-secret.hex"))?,
    };
    if settings.seed_demo {
        let n = crate::seed::seed_if_empty(&db, crate::now()).map_err(|e| e.to_string())?;
        if n > 0 {
            tracing::info!(events = n, "seeded the demo catalogue");
        }
    }
    Ok((db, signer, secrets))
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, String> {
        crate::i18n::check()?;
        crate::config::resolve_default_language(Some(settings.default_language.clone()))?;
        let (db, signer, secrets) = open_data_dir(&settings)?;
        let retired = keys::load_retired_signers(&keys::keys_dir(&settings.data_dir), &settings.deployment)?;
        let listener = TcpListener::bind(settings.bind)
            .await
            .map_err(|e| format!("cannot listen on {}: {e}", settings.bind))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        let base_url: Arc<str> = settings.base_url(addr).into();
        let state = AppState {
            services: crate::shop::Services {
                db,
                signer: Arc::new(signer),
                settings: Arc::new(settings),
                secrets: Arc::new(secrets),
                base_url,
                own_url: own_url(addr).into(),
                mail_queued: Arc::default(),
            },
            retired_signers: Arc::new(retired),
            ops_metrics: Arc::default(),
            ops_snapshot: Arc::default(),
            catalogue: Arc::default(),
        };
        crate::background::recover_on_start(&state)?;
        Ok(Application { listener, addr, state })
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        self.state.base_url.to_string()
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until the process is stopped (Ctrl-C or SIGTERM finish in-flight requests).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        crate::background::spawn(self.state.clone());
        let app = crate::web::router(self.state);
        axum::serve(self.listener, app.into_make_service_with_connect_info::<SocketAddr>())
            .with_graceful_shutdown(shutdown_signal())
            .await
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

/// The URL this process reaches itself at: the address it bound, loopback for one bound to
/// every interface (`0.0.0.0`, `::`).
pub fn own_url(bound: SocketAddr) -> String {
    let ip = match bound.ip() {
        IpAddr::V4(v) if v.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v) if v.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    format!("http://{}", SocketAddr::new(ip, bound.port()))
}

#[cfg(test)]
mod tests {
    use super::own_url;

    #[test]
    fn a_process_bound_to_every_interface_reaches_itself_on_loopback() {
        assert_eq!(own_url("0.0.0.0:8080".parse().unwrap()), "http://127.0.0.1:8080");
        assert_eq!(own_url("[::]:8080".parse().unwrap()), "http://[::1]:8080");
        assert_eq!(own_url("10.0.0.5:9000".parse().unwrap()), "http://10.0.0.5:9000");
    }
}
