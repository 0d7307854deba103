"""The front fake-gcs-server needs before git-mlv can push to it, as tests/cli/servers.rs
`put_front` does: fake-gcs-server 1.54 takes an XML-API object PUT only as a signed-URL
upload (an `X-Goog-Algorithm` query parameter, whose signature it does not check) and
answers it without the ETag header real GCS sends and object_store requires. This adds the
parameter to each PUT and an ETag to its answer, passing everything else through, one
request per connection. A process of its own so that its CPU counts as the server's.

    python3 gcsfront.py LISTEN_PORT UPSTREAM_PORT
"""

import socket
import sys
import threading


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


def _relay(client, upstream):
    try:
        head = _head(client).decode("latin-1")
        if not head:
            return
        lines = [line for line in head.split("\r\n") if line]
        first, put = lines[0], lines[0].startswith("PUT ")
        if put:
            target, version = first[4:].rsplit(" ", 1)
            first = f"PUT {target}{'&' if '?' in target else '?'}X-Goog-Algorithm=GOOG4-RSA-SHA256 {version}"
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
    main(int(sys.argv[1]), int(sys.argv[2]))
