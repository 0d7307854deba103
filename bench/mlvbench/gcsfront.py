"""The front fake-gcs-server needs before git-mlv can push to it, as tests/cli/servers.rs
`put_front` does: fake-gcs-server 1.54 takes an XML-API object PUT only as a signed-URL
upload (an `X-Goog-Algorithm` query parameter, whose signature it does not check) and
answers it without the ETag header real GCS sends and object_store requires. This adds the
parameter to each PUT and an ETag to its answer, passing everything else through, one
request per connection. A process of its own so that its CPU counts as the server's.

fake-gcs-server also serves no XML multipart uploads, which object_store sends for an
object over 16 MiB (a pack of 20,000 small files, a 1 GiB file). The tests keep their
objects under that size; for the benchmark this front stands in: it answers the initiate,
keeps each part in a file under PARTS_DIR, and on completion sends the parts, concatenated,
to fake-gcs-server as one PUT (the copy a real GCS avoids: measured as server time).

    python3 gcsfront.py LISTEN_PORT UPSTREAM_PORT PARTS_DIR
"""

import os
import re
import shutil
import socket
import sys
import threading
import uuid
from urllib.parse import parse_qs, urlsplit

PARTS = "."
SIGNED = "X-Goog-Algorithm=GOOG4-RSA-SHA256"


def _head(sock):
    buf = b""
    while not buf.endswith(b"\r\n\r\n"):
        b = sock.recv(1)
        if not b:
            return b""
        buf += b
    return buf


def _copy(src, dst):
    try:
        while True:
            b = src.recv(1 << 20)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _body(sock, lines):
    """The request's body, by its Content-Length."""
    n = next((int(v.split(":", 1)[1]) for v in lines if v.lower().startswith("content-length:")), 0)
    buf = bytearray()
    while len(buf) < n:
        b = sock.recv(min(1 << 20, n - len(buf)))
        if not b:
            break
        buf += b
    return bytes(buf)


def _answer(client, status, body=b"", headers=()):
    head = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close", *headers]
    if body:
        head.append("Content-Type: application/xml")
    client.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


def _multipart(client, upstream, method, target, lines):
    """Answers one XML multipart request; False when `target` is not one."""
    url = urlsplit(target)
    q = parse_qs(url.query, keep_blank_values=True)
    uid = q.get("uploadId", [""])[0]
    if method == "POST" and "uploads" in q:
        _body(client, lines)
        uid = uuid.uuid4().hex
        os.makedirs(os.path.join(PARTS, uid))
        _answer(client, "200 OK", ("<InitiateMultipartUploadResult><Bucket></Bucket><Key></Key>"
                                   f"<UploadId>{uid}</UploadId></InitiateMultipartUploadResult>").encode())
    elif method == "PUT" and uid and "partNumber" in q:
        with open(os.path.join(PARTS, uid, q["partNumber"][0]), "wb") as f:
            f.write(_body(client, lines))
        _answer(client, "200 OK", headers=[f'ETag: "{uid}-{q["partNumber"][0]}"'])
    elif method == "POST" and uid:
        numbers = re.findall(r"<PartNumber>(\d+)</PartNumber>", _body(client, lines).decode())
        files = [os.path.join(PARTS, uid, n) for n in numbers]
        size = sum(os.path.getsize(f) for f in files)
        host = next((v for v in lines if v.lower().startswith("host:")), "Host: 127.0.0.1")
        server = socket.create_connection(("127.0.0.1", upstream))
        server.sendall((f"PUT {url.path}?{SIGNED} HTTP/1.1\r\n{host}\r\nContent-Length: {size}\r\n"
                        "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n").encode("latin-1"))
        for f in files:
            with open(f, "rb") as fh:
                server.sendfile(fh)
        status = _head(server).decode("latin-1").split("\r\n", 1)[0].split(" ", 1)[1]
        server.close()
        shutil.rmtree(os.path.join(PARTS, uid), ignore_errors=True)
        if not status.startswith("2"):
            _answer(client, status)
        else:
            _answer(client, "200 OK", (f'<CompleteMultipartUploadResult><ETag>"{uid}"</ETag>'
                                       "</CompleteMultipartUploadResult>").encode())
    elif method == "DELETE" and uid:
        shutil.rmtree(os.path.join(PARTS, uid), ignore_errors=True)
        _answer(client, "204 No Content")
    else:
        return False
    return True


def _relay(client, upstream):
    try:
        head = _head(client).decode("latin-1")
        if not head:
            return
        lines = [line for line in head.split("\r\n") if line]
        method, target = lines[0].split(" ")[:2]
        if _multipart(client, upstream, method, target, lines):
            return
        first, put = lines[0], lines[0].startswith("PUT ")
        if put:
            target, version = first[4:].rsplit(" ", 1)
            first = f"PUT {target}{'&' if '?' in target else '?'}{SIGNED} {version}"
        out = [first] + [line for line in lines[1:] if not line.lower().startswith("connection:")]
        server = socket.create_connection(("127.0.0.1", upstream))
        server.sendall(("\r\n".join(out) + "\r\nConnection: close\r\n\r\n").encode("latin-1"))
        body = threading.Thread(target=_copy, args=(client, server), daemon=True)
        body.start()
        answer = _head(server).decode("latin-1")
        if put and "\r\netag:" not in answer.lower():
            answer = answer[:-2] + 'ETag: "fake-gcs-put"\r\n\r\n'
        client.sendall(answer.encode("latin-1"))
        _copy(server, client)
        client.shutdown(socket.SHUT_RDWR)
        body.join()
        server.close()
    except OSError:
        pass
    finally:
        client.close()


def main(listen, upstream):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", listen))
    ls.listen(256)
    while True:
        c, _ = ls.accept()
        c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        threading.Thread(target=_relay, args=(c, upstream), daemon=True).start()


if __name__ == "__main__":
    PARTS = sys.argv[3]
    main(int(sys.argv[1]), int(sys.argv[2]))
