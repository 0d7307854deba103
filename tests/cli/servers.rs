//! Real servers on loopback for remote tests: s3s-fs for `s3://`, nginx with WebDAV for
//! `http://`. Each test starts its own on a free port and the server stops when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ACCESS_KEY: &str = "mlvtestkey";
pub const SECRET_KEY: &str = "mlvtestsecret-do-not-print";
pub const BUCKET: &str = "mlv-bucket";
pub const HTTP_USER: &str = "mlv";
pub const HTTP_PASSWORD: &str = "webdav-password-do-not-print";

fn free_port() -> u16 {
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
    std::env::split_paths(&dirs)
        .chain([home.join("bin"), PathBuf::from("/usr/sbin")])
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
}

impl Server {
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
        format!("http://127.0.0.1:{}", self.port)
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
    let mut s = Server {
        child: None,
        cmd,
        port,
        dir,
    };
    s.spawn();
    s
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
    let mut s = Server {
        child: None,
        cmd,
        port,
        dir,
    };
    s.spawn();
    s
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
