//! A man in the middle for system tests: an HTTP proxy on 127.0.0.1 between a `gate-agent` and
//! the issuer, as an attacker on a plain-HTTP link would sit. It passes everything through until
//! a test sets a rewrite, which then sees each request and may change the issuer's answer (or
//! replace it) before the gate gets it.
//!
//! axum on a tokio runtime of its own thread; the upstream request goes through reqwest.

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

/// What the gate asked for.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
}

impl Seen {
    /// The value of a query parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .split('&')
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
    }
}

/// An answer, as the issuer gave it (decompressed) or as the attacker makes it.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    /// A JSON answer.
    pub fn json(status: u16, v: &serde_json::Value) -> Answer {
        Answer {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: serde_json::to_vec(v).unwrap(),
        }
    }

    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

type Rewrite = Arc<dyn Fn(&Seen, Answer) -> Answer + Send + Sync>;

struct Shared {
    upstream: String,
    client: reqwest::Client,
    rewrite: Mutex<Option<Rewrite>>,
}

/// A running proxy; stops when dropped.
pub struct Mitm {
    /// Where gates should think the issuer is.
    pub url: String,
    shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Mitm {
    /// Starts a proxy to `upstream` (the issuer's base URL) on a free port of 127.0.0.1.
    pub fn start(upstream: &str) -> Mitm {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            rewrite: Mutex::new(None),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new().fallback(relay).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .unwrap();
            });
        });
        let addr = addr_rx.recv().unwrap();
        Mitm {
            url: format!("http://{addr}"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// From now on every answer goes through `f` (and requests lose `If-None-Match`, so the
    /// issuer answers in full).
    pub fn set(&self, f: impl Fn(&Seen, Answer) -> Answer + Send + Sync + 'static) {
        *self.shared.rewrite.lock().unwrap() = Some(Arc::new(f));
    }

    /// Back to passing everything through untouched.
    pub fn pass(&self) {
        *self.shared.rewrite.lock().unwrap() = None;
    }
}

impl Drop for Mitm {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Headers that belong to one hop (or that the proxy recomputes).
fn hop_header(name: &str) -> bool {
    matches!(
        name,
        "host" | "connection" | "content-length" | "transfer-encoding" | "accept-encoding" | "content-encoding"
    )
}

async fn relay(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 256 << 20).await.unwrap_or_default();
    let seen = Seen {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or("").to_owned(),
    };
    let rewrite = shared.rewrite.lock().unwrap().clone();
    let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut up = shared
        .client
        .request(parts.method.clone(), format!("{}{pq}", shared.upstream))
        .body(body);
    for (k, v) in &parts.headers {
        let k = k.as_str();
        if hop_header(k) || (rewrite.is_some() && k == "if-none-match") {
            continue;
        }
        up = up.header(k, v);
    }
    let answer = match up.send().await {
        Ok(r) => {
            let status = r.status().as_u16();
            let headers = r
                .headers()
                .iter()
                .filter(|(k, _)| !hop_header(k.as_str()))
                .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
                .collect();
            let body = r.bytes().await.map(|b| b.to_vec()).unwrap_or_default();
            Answer { status, headers, body }
        }
        Err(e) => Answer {
            status: 502,
            headers: vec![],
            body: e.to_string().into_bytes(),
        },
    };
    let answer = match rewrite {
        Some(f) => f(&seen, answer),
        None => answer,
    };
    let mut resp = Response::new(Body::from(answer.body));
    *resp.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (k, v) in answer.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(k), HeaderValue::try_from(v)) {
            resp.headers_mut().append(k, v);
        }
    }
    resp
}
