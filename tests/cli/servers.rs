//! Real servers on loopback for remote tests: s3s-fs for `s3://`, nginx with WebDAV for
//! `http://`, OpenSSH's sshd for `ssh://`. Each test starts its own on a free port and the server stops when dropped.

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
    std::fs::create_dir_all(d.join("tmp")).unwrap();
    let port = free_port();
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
        listen 127.0.0.1:{port};
        root {d}/data;
        client_max_body_size 0;
        location / {{
            {auth_conf}
            dav_methods PUT DELETE MKCOL COPY MOVE;
            create_full_put_path on;
            dav_access user:rw group:r all:r;
        }}
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
    let mut s = Server {
        child: None,
        cmd,
        port,
        dir,
    };
    s.spawn();
    (s, client)
}
