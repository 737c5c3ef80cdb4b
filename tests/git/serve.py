#!/usr/bin/python3
"""Git servers for the tests of git sources, bound to 127.0.0.1 only.

usage:
  serve.py daemon BASE        git:// (git daemon --inetd per connection)
  serve.py http BASE TOKEN    smart HTTP (git http-backend) behind Basic
                              auth: the token as password (or user name)
  serve.py drop PORT LIMIT    a TCP proxy to 127.0.0.1:PORT that drops the
                              connection once LIMIT bytes went to the client

Each mode listens on a port the kernel picks, prints it on one line, and
serves until its standard input closes (the test ended, or died) or it is
terminated. Every repository under BASE is exported.
"""

import base64
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def listen():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server


def announce(port):
    print(port, flush=True)


def serve_forever_in_background(accept_loop):
    threading.Thread(target=accept_loop, daemon=True).start()
    # The test closes our stdin when it is done with us (or dies).
    sys.stdin.read()


def daemon_command(base):
    return ["git", "daemon", "--inetd", "--export-all", "--log-destination=none",
            "--base-path=" + base, base]


def run_daemon(base):
    server = listen()
    announce(server.getsockname()[1])

    def accept_loop():
        while True:
            conn, _ = server.accept()
            # git daemon --inetd talks over its stdin and stdout.
            subprocess.Popen(daemon_command(base), stdin=conn.fileno(), stdout=conn.fileno(),
                             stderr=subprocess.DEVNULL)
            conn.close()

    serve_forever_in_background(accept_loop)


def run_drop(port, limit):
    server = listen()
    announce(server.getsockname()[1])

    def relay(conn):
        upstream = socket.create_connection(("127.0.0.1", port))

        def to_server():
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    upstream.sendall(data)
            except OSError:
                pass

        threading.Thread(target=to_server, daemon=True).start()
        sent = 0
        try:
            while sent < limit:
                data = upstream.recv(min(65536, limit - sent))
                if not data:
                    break
                conn.sendall(data)
                sent += len(data)
        except OSError:
            pass
        # Mid-transfer: the connection just goes away.
        for s in (conn, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def accept_loop():
        while True:
            conn, _ = server.accept()
            threading.Thread(target=relay, args=(conn,), daemon=True).start()

    serve_forever_in_background(accept_loop)


class GitHTTP(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    base = ""
    token = ""

    def log_message(self, *args):
        pass

    def authorized(self):
        kind, _, value = self.headers.get("Authorization", "").partition(" ")
        if kind.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(value).decode().partition(":")
        except ValueError:
            return False
        return self.token in (user, password)

    def body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status, headers, payload):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def serve(self):
        data = self.body()
        if not self.authorized():
            self.reply(401, [("WWW-Authenticate", 'Basic realm="jobreg test"')], b"")
            return
        path, _, query = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=self.base, GIT_HTTP_EXPORT_ALL="1",
                   PATH_INFO=path, QUERY_STRING=query, REQUEST_METHOD=self.command,
                   CONTENT_TYPE=self.headers.get("Content-Type", ""),
                   CONTENT_LENGTH=str(len(data)), REMOTE_USER="test", REMOTE_ADDR="127.0.0.1")
        if self.headers.get("Git-Protocol"):
            env["GIT_PROTOCOL"] = self.headers["Git-Protocol"]
        if self.headers.get("Content-Encoding"):
            env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
        out = subprocess.run(["git", "http-backend"], input=data, env=env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        if not payload and b"\n\n" in head:
            head, _, payload = out.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name.lower() != "content-length" and name:
                headers.append((name, value.strip()))
        self.reply(status, headers, payload)

    do_GET = serve
    do_POST = serve


def run_http(base, token):
    GitHTTP.base = base
    GitHTTP.token = token
    server = ThreadingHTTPServer(("127.0.0.1", 0), GitHTTP)
    server.daemon_threads = True
    announce(server.server_address[1])
    serve_forever_in_background(server.serve_forever)


def main(argv):
    if len(argv) == 3 and argv[1] == "daemon":
        run_daemon(argv[2])
    elif len(argv) == 4 and argv[1] == "http":
        run_http(argv[2], argv[3])
    elif len(argv) == 4 and argv[1] == "drop":
        run_drop(int(argv[2]), int(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
