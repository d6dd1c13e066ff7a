//! The compose deployment (`deploy/docker-compose.yml`) run natively, with its real files: the
//! real `deploy/nginx/nginx.conf` in front of two `issuer serve` replicas on one PostgreSQL
//! database, configured only through the environment variables the compose file sets and sharing
//! one `keys/` directory as the compose file's `issuer-keys` volume does. Only what names a
//! container is made local: upstream `issuer:8080`/`issuer-2:8080` become the replicas' ports on
//! 127.0.0.1, `listen 443`/`listen 80` free ports of 127.0.0.1, the certificates a throwaway
//! self-signed one for `localhost`, and pid, logs and temp files go to a temp dir.
//!
//! A buyer then goes through nginx's HTTPS port only, from 127.0.0.2 (nginx reaches the
//! replicas from 127.0.0.1, the trusted proxy): catalogue, sign-up, activation from the mailed
//! link as a browser would (page, cookie, form with its token, `Origin`), log-in, a Solo bought
//! and paid by card, its ticket; then one replica is killed (SIGKILL) and the buyer keeps
//! reading and buying with no 5xx. The issuer keys its rate limits on the buyer's own address
//! (`rate_hits` buckets), never nginx's, and a forged `X-Forwarded-For` does not change it.
//!
//! Needs nginx and openssl (`.ci/run` installs them) and a PostgreSQL server
//! (`OG_TEST_DATABASE_URL`, default the local one), as the other system tests do.

mod support;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use og_fixtures::poll;
use og_issuer::store::{DatabaseUrl, ScratchDatabase};
use og_system_tests::smtp::SmtpSink;
use serde_json::{Value, json};
use support::{PASSWORD, issuer_bin};

/// The buyer's own address: nginx sees this one; the replicas see nginx's, 127.0.0.1.
const BUYER_IP: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("cannot read {rel}: {e}"))
}

fn require_tools() {
    for tool in ["nginx", "openssl"] {
        let found = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {tool} >/dev/null"))
            .status()
            .unwrap()
            .success();
        assert!(
            found,
            "{tool} is missing: run .ci/run, which installs it (Debian packages nginx, openssl)"
        );
    }
}

/// The `environment:` block of the compose file's `x-issuer` anchor (every replica's), in order.
fn compose_issuer_env() -> BTreeMap<String, String> {
    let compose = read("deploy/docker-compose.yml");
    let mut lines = compose
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("environment: &issuer-env"));
    let head = lines.next().expect("the compose file has `environment: &issuer-env`");
    let indent = head.len() - head.trim_start().len();
    let mut env = BTreeMap::new();
    for line in lines {
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if line.len() - body.len() <= indent {
            break;
        }
        let (k, v) = body.split_once(':').expect("KEY: value");
        env.insert(k.trim().to_owned(), v.trim().trim_matches('"').to_owned());
    }
    assert!(!env.is_empty(), "no variables under `environment: &issuer-env`");
    env
}

/// The variables `issuer serve` reads (clap prints `[env: NAME=...]` for each).
fn variables_the_issuer_reads() -> Vec<String> {
    let out = Command::new(issuer_bin()).args(["serve", "--help"]).output().unwrap();
    assert!(out.status.success());
    // Wrapped help text may break a line anywhere between words.
    let help = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    help.split("[env: ")
        .skip(1)
        .map(|s| s.split(['=', ']']).next().unwrap().to_owned())
        .collect()
}

#[test]
fn every_variable_the_compose_file_gives_the_issuer_is_one_every_issuer_command_reads() {
    let reads = variables_the_issuer_reads();
    let env = compose_issuer_env();
    for name in env.keys() {
        assert!(
            reads.contains(name),
            "the compose file sets {name}, which `issuer serve` does not read ({reads:?})"
        );
    }
    // The database and its password are in the environment, not in an entrypoint's shell: so
    // `docker compose exec issuer issuer admin ...` reaches the same database as the replicas
    // (a command without them would open a SQLite file of its own in the data dir).
    let url = &env["OG_DATABASE_URL"];
    let user = url
        .strip_prefix("postgres://")
        .and_then(|r| r.split_once('@'))
        .map(|(u, _)| u);
    assert_eq!(user, Some("og"), "the user and no password in the compose file: {url}");
    assert_eq!(env["OG_DATABASE_PASSWORD_FILE"], "/run/secrets/postgres-password");
    let compose = read("deploy/docker-compose.yml");
    assert!(
        !compose.contains("entrypoint:"),
        "replicas run the image's `issuer serve`"
    );
    // The image runs `issuer serve` and names the data dir, where the `issuer-keys` volume is
    // mounted as `keys/`.
    let dockerfile = read("deploy/Dockerfile.issuer");
    assert!(dockerfile.contains("OG_DATA_DIR=/var/lib/og-issuer"), "{dockerfile}");
    assert!(dockerfile.contains(r#"CMD ["serve"]"#), "{dockerfile}");
    assert!(compose.contains("issuer-keys:/var/lib/og-issuer/keys"));
}

/// The `location` blocks of nginx.conf: (what follows `location`, the block's text).
fn nginx_locations(conf: &str) -> Vec<(String, String)> {
    let conf: String = conf
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    let mut rest = conf.as_str();
    while let Some(at) = rest.find("location ") {
        let after = &rest[at + "location ".len()..];
        let open = after.find('{').expect("a location opens a block");
        let mut depth = 0;
        let mut end = open;
        for (i, ch) in after[open..].char_indices() {
            match ch {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                end = open + i;
                break;
            }
        }
        found.push((after[..open].trim().to_owned(), after[open + 1..end].to_owned()));
        rest = &after[end..];
    }
    found
}

#[test]
fn every_proxied_location_of_the_nginx_conf_passes_on_the_host_and_the_client_address() {
    // nginx inherits no proxy_set_header into a location that sets one of its own, and these
    // are set per location: a location without them hands the issuer nginx's address as the
    // client (rate limits) and the upstream's name as the Host (the form posts' origin check).
    let locations = nginx_locations(&read("deploy/nginx/nginx.conf"));
    assert!(!locations.is_empty());
    for (path, block) in locations.iter().filter(|(_, b)| b.contains("proxy_pass")) {
        for header in [
            "proxy_set_header Host $host;",
            "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
            "proxy_set_header X-Forwarded-Proto https;",
        ] {
            assert!(block.contains(header), "location {path} lacks `{header}`");
        }
    }
}

/// `n` distinct free ports of 127.0.0.1 (held together while chosen, so they differ).
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n).map(|_| TcpListener::bind("127.0.0.1:0").unwrap()).collect();
    held.iter().map(|l| l.local_addr().unwrap().port()).collect()
}

/// A child process killed (SIGKILL) when dropped.
struct Proc {
    name: &'static str,
    child: Option<Child>,
    log: PathBuf,
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log if the process has exited.
    fn assert_running(&mut self) {
        if let Some(c) = self.child.as_mut()
            && let Some(status) = c.try_wait().unwrap()
        {
            panic!("{} exited ({status}):\n{}", self.name, self.log());
        }
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// nginx's master: stopped with SIGTERM (a SIGKILL would leave its workers holding the ports).
struct Nginx(Proc);

impl Drop for Nginx {
    fn drop(&mut self) {
        if let Some(c) = self.0.child.as_mut() {
            let _ = Command::new("kill").arg("-TERM").arg(c.id().to_string()).status();
            let stopped = poll::within(Duration::from_secs(10), Duration::from_millis(50), || {
                c.try_wait().ok().flatten()
            });
            if stopped.is_some() {
                self.0.child = None;
            }
        }
    }
}

/// One issuer replica as compose runs it: `issuer serve` with no flag, configured by `env`.
fn start_replica(name: &'static str, data_dir: &Path, env: &BTreeMap<String, String>) -> Proc {
    let log = data_dir.with_extension("log");
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(issuer_bin());
    // Nothing of the test's own environment configures the replica.
    for (k, _) in std::env::vars() {
        if k.starts_with("OG_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg("serve")
        .envs(env)
        .env("OG_DATA_DIR", data_dir)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    Proc {
        name,
        child: Some(cmd.spawn().unwrap()),
        log,
    }
}

/// Waits for compose's health check of a replica: its port takes a TCP connection.
fn wait_healthy(replica: &mut Proc, port: u16) {
    poll::until(
        &format!("{} healthy (port {port} open)", replica.name),
        Duration::from_secs(60),
        Duration::from_millis(50),
        || {
            replica.assert_running();
            TcpStream::connect(("127.0.0.1", port)).ok()
        },
    );
}

/// Replaces `from` (which must occur) by `to`.
fn rewrite(conf: &str, from: &str, to: &str) -> String {
    assert!(conf.contains(from), "deploy/nginx/nginx.conf no longer has `{from}`");
    conf.replace(from, to)
}

/// A throwaway self-signed certificate for `localhost` in `dir/tls.crt`, `dir/tls.key`.
fn throwaway_cert(dir: &Path) -> Vec<u8> {
    std::fs::create_dir_all(dir).unwrap();
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-addext",
            "extendedKeyUsage=serverAuth",
            "-keyout",
        ])
        .arg(dir.join("tls.key"))
        .arg("-out")
        .arg(dir.join("tls.crt"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(dir.join("tls.crt")).unwrap()
}

/// The real nginx.conf with container names and paths made local.
fn nginx_conf(tmp: &Path, upstreams: [u16; 2], https: u16, http: u16) -> String {
    let t = tmp.display();
    let mut conf = read("deploy/nginx/nginx.conf");
    conf = rewrite(
        &conf,
        "server issuer:8080 ",
        &format!("server 127.0.0.1:{} ", upstreams[0]),
    );
    conf = rewrite(
        &conf,
        "server issuer-2:8080 ",
        &format!("server 127.0.0.1:{} ", upstreams[1]),
    );
    conf = rewrite(&conf, "listen 443 ", &format!("listen 127.0.0.1:{https} "));
    conf = rewrite(&conf, "listen 80;", &format!("listen 127.0.0.1:{http};"));
    conf = rewrite(&conf, "/etc/nginx/certs", &format!("{t}/certs"));
    conf = rewrite(
        &conf,
        "http {",
        &format!(
            "http {{\n    access_log {t}/access.log;\n    client_body_temp_path {t}/temp/body;\n    \
             proxy_temp_path {t}/temp/proxy;\n    fastcgi_temp_path {t}/temp/fastcgi;\n    \
             uwsgi_temp_path {t}/temp/uwsgi;\n    scgi_temp_path {t}/temp/scgi;\n"
        ),
    );
    format!("pid {t}/nginx.pid;\nerror_log {t}/error.log;\n{conf}")
}

fn start_nginx(tmp: &Path, conf: &str) -> Nginx {
    std::fs::create_dir_all(tmp.join("temp")).unwrap();
    let path = tmp.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let log = tmp.join("nginx-stderr.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(format!("{}/", tmp.display()))
        .arg("-e")
        .arg(tmp.join("error.log"))
        .args(["-g", "daemon off;"])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    Nginx(Proc {
        name: "nginx",
        child: Some(child),
        log,
    })
}

/// The buyer's browser or API client: HTTPS to `localhost` (nginx), trusting only the throwaway
/// certificate, from [`BUYER_IP`], following no redirect.
fn buyer_client(cert: &[u8], https: u16) -> reqwest::blocking::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::blocking::Client::builder()
        .no_proxy()
        .tls_certs_only([reqwest::Certificate::from_pem(cert).unwrap()])
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], https)))
        .local_address(IpAddr::V4(BUYER_IP))
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Everything the buyer got through nginx, to show that none was a server error.
#[derive(Default)]
struct Seen(Vec<(String, u16)>);

impl Seen {
    fn note(&mut self, what: &str, r: &reqwest::blocking::Response) {
        self.0.push((what.to_owned(), r.status().as_u16()));
    }

    fn server_errors(&self) -> Vec<&(String, u16)> {
        self.0.iter().filter(|(_, s)| *s >= 500).collect()
    }
}

/// The deployment, running.
struct Deployment {
    pg: ScratchDatabase,
    sink: SmtpSink,
    replicas: Vec<Proc>,
    nginx: Nginx,
    https: u16,
    http: u16,
    public_url: String,
    cert: Vec<u8>,
    tmp: tempfile::TempDir,
}

impl Deployment {
    fn start() -> Deployment {
        require_tools();
        let pg = ScratchDatabase::create("og_deploy");
        let DatabaseUrl::Postgres(db_url) = pg.url() else {
            unreachable!()
        };
        let sink = SmtpSink::start().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        // nginx's workers (user nobody when the master is root) write their temp files in it.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let ports = free_ports(4);
        let (upstreams, https, http) = ([ports[0], ports[1]], ports[2], ports[3]);
        let public_url = format!("https://localhost:{https}");

        // Each compose variable, made local where it names the container's world.
        let mut env = BTreeMap::new();
        for (name, value) in compose_issuer_env() {
            match name.as_str() {
                // The container's port 8080 on all its interfaces -> this replica's port.
                "OG_BIND" => assert_eq!(value, "0.0.0.0:8080"),
                // compose publishes nginx's 443 as localhost:8443 -> nginx's HTTPS port here.
                "OG_PUBLIC_URL" => {
                    assert_eq!(value, "https://localhost:8443");
                    env.insert(name, public_url.clone());
                }
                "OG_DEPLOYMENT_ID" => {
                    env.insert(name, value);
                }
                // The `postgres` service's database -> the scratch database.
                "OG_DATABASE_URL" => {
                    assert_eq!(value, "postgres://og@postgres/og");
                    env.insert(name, db_url.clone());
                }
                // The Docker secret -> a file with a password (the test server trusts local
                // connections, so it is read and sent, and any one lets the user in).
                "OG_DATABASE_PASSWORD_FILE" => {
                    let secret = tmp.path().join("postgres-password");
                    std::fs::write(&secret, "compose-secret\n").unwrap();
                    env.insert(name, secret.display().to_string());
                }
                // The compose networks nginx comes from -> nginx's address here.
                "OG_TRUSTED_PROXIES" => {
                    env.insert(name, "127.0.0.1".to_owned());
                }
                other => panic!("the compose file sets {other}: say here what it becomes natively"),
            }
        }
        env.insert("OG_SMTP_URL".to_owned(), sink.url());

        // `issuer` first (it creates the keys in the shared volume), `issuer-2` once the first
        // is healthy (depends_on: service_healthy), its `keys/` the same directory.
        let dir1 = tmp.path().join("issuer-1-data");
        let dir2 = tmp.path().join("issuer-2-data");
        let mut env1 = env.clone();
        env1.insert("OG_BIND".to_owned(), format!("127.0.0.1:{}", upstreams[0]));
        let mut first = start_replica("issuer", &dir1, &env1);
        wait_healthy(&mut first, upstreams[0]);
        assert!(dir1.join("keys/ticket-signing-key.pem").exists(), "{}", first.log());
        std::fs::create_dir_all(&dir2).unwrap();
        std::os::unix::fs::symlink(dir1.join("keys"), dir2.join("keys")).unwrap();
        let mut env2 = env;
        env2.insert("OG_BIND".to_owned(), format!("127.0.0.1:{}", upstreams[1]));
        let mut second = start_replica("issuer-2", &dir2, &env2);
        wait_healthy(&mut second, upstreams[1]);

        let cert = throwaway_cert(&tmp.path().join("certs"));
        let mut nginx = start_nginx(tmp.path(), &nginx_conf(tmp.path(), upstreams, https, http));
        let probe = buyer_client(&cert, https);
        poll::until(
            "nginx answers /health over HTTPS",
            Duration::from_secs(30),
            Duration::from_millis(50),
            || {
                nginx.0.assert_running();
                probe
                    .get(format!("{public_url}/health"))
                    .send()
                    .ok()
                    .filter(|r| r.status() == 200)
            },
        );
        Deployment {
            pg,
            sink,
            replicas: vec![first, second],
            nginx,
            https,
            http,
            public_url,
            cert,
            tmp,
        }
    }

    fn client(&self) -> reqwest::blocking::Client {
        buyer_client(&self.cert, self.https)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// What every process logged, for failure messages.
    fn logs(&self) -> String {
        let mut all = String::new();
        for r in &self.replicas {
            all += &format!("--- {} ---\n{}\n", r.name, r.log());
        }
        let error_log = std::fs::read_to_string(self.tmp.path().join("error.log")).unwrap_or_default();
        all += &format!("--- nginx ---\n{}{error_log}", self.nginx.0.log());
        all
    }

    fn count(&self, sql: &str) -> i64 {
        og_issuer::store::Db::connect(&self.pg.url())
            .unwrap()
            .read_sync(|c| Ok(c.query_row(sql, [], |r| r.get(0))?))
            .unwrap()
    }
}

/// The value of the `name` cookie among the answer's `Set-Cookie` headers.
fn set_cookie(r: &reqwest::blocking::Response, name: &str) -> Option<String> {
    r.headers().get_all("set-cookie").iter().find_map(|v| {
        let v = v.to_str().ok()?;
        let (n, rest) = v.split_once('=')?;
        (n == name).then(|| rest.split(';').next().unwrap_or_default().to_owned())
    })
}

/// The `value` of the first `<input name="NAME" value="...">` in a page.
fn form_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\""))?;
    let start = html[..at].rfind('<')?;
    let tag = &html[start..start + html[start..].find('>')?];
    let v = tag.split("value=\"").nth(1)?.split('"').next()?;
    Some(v.to_owned())
}

/// Signs `email` up, activates it from the mailed link as a browser would (the page, then its
/// form with the cookie's token and the browser's `Origin`) and logs in; the access token.
fn sign_up_and_log_in(d: &Deployment, c: &reqwest::blocking::Client, email: &str, seen: &mut Seen) -> String {
    let r = c
        .post(d.url("/api/v1/accounts"))
        .json(&json!({"accept_terms": true, "email": email, "password": PASSWORD, "name": "Compose Buyer"}))
        .send()
        .unwrap();
    seen.note("sign-up", &r);
    assert_eq!(r.status(), 202, "sign-up through nginx\n{}", d.logs());

    let mail = d
        .sink
        .wait_for(email, Duration::from_secs(60))
        .unwrap_or_else(|| panic!("no activation mail\n{}", d.logs()));
    let link = mail.link_containing("/activate?token=").expect("activation link");
    // Links in mails name the public URL (OG_PUBLIC_URL), which is nginx.
    assert!(link.starts_with(&format!("{}/activate?token=", d.public_url)), "{link}");
    let page = c.get(&link).header("Accept", "text/html").send().unwrap();
    seen.note("activation page", &page);
    assert_eq!(page.status(), 200);
    let cookie = set_cookie(&page, "__Host-og_csrf").expect("the page sets the CSRF cookie");
    let html = page.text().unwrap();
    let token = form_value(&html, "token").expect("the page's form holds the mailed token");
    let csrf = form_value(&html, "csrf").expect("the page's form holds its CSRF token");
    let r = c
        .post(d.url("/activate"))
        .header("Origin", &d.public_url)
        .header("Sec-Fetch-Site", "same-origin")
        .header("Cookie", format!("__Host-og_csrf={cookie}"))
        .header("Accept", "text/html")
        .form(&[("token", token.as_str()), ("csrf", csrf.as_str())])
        .send()
        .unwrap();
    seen.note("activation", &r);
    assert_eq!(r.status(), 200, "activation form through nginx\n{}", d.logs());
    assert_eq!(
        d.count(&format!(
            "SELECT count(*) FROM accounts WHERE email = '{email}' AND status = 'active'"
        )),
        1,
        "the account is active"
    );

    // A forged X-Forwarded-For from the buyer: nginx appends the real address, which counts.
    let r = c
        .post(d.url("/api/v1/auth/login"))
        .header("X-Forwarded-For", "203.0.113.66")
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .unwrap();
    seen.note("log-in", &r);
    assert_eq!(r.status(), 200, "log-in through nginx\n{}", d.logs());
    r.json::<Value>().unwrap()["access_token"].as_str().unwrap().to_owned()
}

/// The Solo offer of an event on sale in the demo catalogue the first replica seeded.
fn solo_on_sale(d: &Deployment, c: &reqwest::blocking::Client, seen: &mut Seen) -> i64 {
    let r = c.get(d.url("/api/v1/events")).send().unwrap();
    seen.note("catalogue API", &r);
    assert_eq!(r.status(), 200);
    let events: Value = r.json().unwrap();
    events["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["sale"]["state"] == "open")
        .flat_map(|e| e["offers"].as_array().unwrap())
        .find(|o| o["kind"] == "solo")
        .and_then(|o| o["id"].as_i64())
        .expect("a Solo on sale in the demo catalogue")
}

/// Cart, checkout, card; then waits until the order is paid with its ticket. The order.
fn buy_solo(
    d: &Deployment,
    c: &reqwest::blocking::Client,
    access: &str,
    offer: i64,
    key: &str,
    seen: &mut Seen,
) -> Value {
    let r = c
        .put(d.url("/api/v1/cart/items"))
        .bearer_auth(access)
        .json(&json!({"offer_id": offer, "quantity": 1}))
        .send()
        .unwrap();
    seen.note("cart", &r);
    assert!(r.status().is_success(), "cart: {}\n{}", r.status(), d.logs());
    let r = c
        .post(d.url("/api/v1/checkout"))
        .bearer_auth(access)
        .header("Idempotency-Key", key)
        .send()
        .unwrap();
    seen.note("checkout", &r);
    assert_eq!(r.status(), 201, "checkout\n{}", d.logs());
    let order: Value = r.json().unwrap();
    assert_eq!(order["status"], "pending", "{order}");
    let pid = order["payment_id"].as_str().expect("payment id");
    let r = c
        .post(d.url(&format!("/api/v1/payments/{pid}/card")))
        .json(&json!({"card_number": "4242424242424242"}))
        .send()
        .unwrap();
    seen.note("card", &r);
    assert_eq!(r.status(), 200, "card payment\n{}", d.logs());
    let paid: Value = r.json().unwrap();
    assert_eq!(paid["status"], "succeeded", "{paid}");
    let id = order["id"].as_i64().unwrap();
    let order = poll::within(Duration::from_secs(30), Duration::from_millis(100), || {
        let r = c
            .get(d.url(&format!("/api/v1/orders/{id}")))
            .bearer_auth(access)
            .send()
            .unwrap();
        seen.note("order", &r);
        let o: Value = r.json().ok()?;
        (o["status"] == "paid").then_some(o)
    })
    .unwrap_or_else(|| panic!("order {id} not paid within 30 s\n{}", d.logs()));
    let tickets = order["tickets"].as_array().expect("tickets");
    assert_eq!(tickets.len(), 1, "one Solo, one ticket: {order}");
    assert_eq!(tickets[0]["admits"], 1, "a Solo admits one: {order}");
    order
}

#[test]
fn a_buyer_behind_the_compose_nginx_buys_a_ticket_and_keeps_buying_after_a_replica_is_killed() {
    let started = Instant::now();
    let mut d = Deployment::start();
    let c = d.client();
    let mut seen = Seen::default();

    // The HTML catalogue, over HTTPS, with HSTS on it and on an error answer.
    let r = c.get(d.url("/")).header("Accept", "text/html").send().unwrap();
    seen.note("catalogue page", &r);
    assert_eq!(r.status(), 200, "{}", d.logs());
    assert_eq!(
        r.headers()["strict-transport-security"],
        "max-age=31536000",
        "HSTS on the catalogue"
    );
    assert!(r.text().unwrap().contains("Stade de France"), "the seeded catalogue");
    let r = c.get(d.url("/api/v1/orders")).send().unwrap();
    assert_eq!(r.status(), 401);
    assert!(
        r.headers().contains_key("strict-transport-security"),
        "HSTS on an error answer"
    );

    // Plain HTTP answers with a permanent redirect to HTTPS, same host and path.
    let plain = reqwest::blocking::Client::builder()
        .no_proxy()
        .resolve("localhost", SocketAddr::from(([127, 0, 0, 1], d.http)))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://localhost:{}/events?sport=Judo", d.http))
        .send()
        .unwrap();
    assert_eq!(r.status(), 301);
    assert_eq!(r.headers()["location"], "https://localhost/events?sport=Judo");

    // Sign up, activate from the mail, log in; a Solo bought and paid by card.
    let email = "compose-buyer@example.org";
    let access = sign_up_and_log_in(&d, &c, email, &mut seen);
    let solo = solo_on_sale(&d, &c, &mut seen);
    let first = buy_solo(&d, &c, &access, solo, "compose-order-1", &mut seen);
    let serial = first["tickets"][0]["serial"].as_u64().unwrap();
    let r = c
        .get(d.url(&format!("/api/v1/tickets/{serial}")))
        .bearer_auth(&access)
        .send()
        .unwrap();
    seen.note("ticket", &r);
    assert_eq!(r.status(), 200, "the buyer's ticket\n{}", d.logs());
    d.sink
        .wait_for_containing(email, "tickets attached", Duration::from_secs(60))
        .unwrap_or_else(|| panic!("no order confirmation\n{}", d.logs()));

    // The replicas saw the buyer's own address (nginx's X-Forwarded-For, trusted from
    // 127.0.0.1), neither nginx's nor the one the buyer forged.
    let hits = |bucket: &str| d.count(&format!("SELECT count(*) FROM rate_hits WHERE bucket = '{bucket}'"));
    assert_eq!(hits("signup:127.0.0.2"), 1, "sign-up counted on the buyer's address");
    assert_eq!(hits("login-ip:127.0.0.2"), 1, "log-in counted on the buyer's address");
    assert_eq!(
        d.count("SELECT count(*) FROM rate_hits WHERE bucket LIKE '%127.0.0.1' OR bucket LIKE '%203.0.113.66'"),
        0,
        "nothing counted on nginx's address or the forged one"
    );

    // One replica dies without a goodbye; the buyer, through nginx, sees nothing of it.
    d.replicas[0].kill();
    for _ in 0..10 {
        let r = c
            .get(d.url(&format!("/api/v1/orders/{}", first["id"])))
            .bearer_auth(&access)
            .send()
            .unwrap();
        seen.note("order after the kill", &r);
        assert_eq!(r.status(), 200, "reading the order after the kill\n{}", d.logs());
    }
    let r = c.get(d.url("/")).header("Accept", "text/html").send().unwrap();
    seen.note("catalogue after the kill", &r);
    assert_eq!(r.status(), 200);
    let second = buy_solo(&d, &c, &access, solo, "compose-order-2", &mut seen);
    assert_ne!(second["id"], first["id"]);
    let r = c.get(d.url("/api/v1/tickets")).bearer_auth(&access).send().unwrap();
    seen.note("tickets after the kill", &r);
    let tickets: Value = r.json().unwrap();
    assert_eq!(tickets["tickets"].as_array().unwrap().len(), 2, "{tickets}");
    assert!(
        seen.server_errors().is_empty(),
        "5xx through nginx: {:?}\n{}",
        seen.server_errors(),
        d.logs()
    );
    eprintln!(
        "deployment: {} answers through nginx, none a 5xx, in {:?}",
        seen.0.len(),
        started.elapsed()
    );
}
