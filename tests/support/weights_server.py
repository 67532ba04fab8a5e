#!/usr/bin/python3
"""A weights server for the download tests (tests/cli/test_download.cpp, tests/desktop/test_download_offer.cpp):
misbehaves on request, on 127.0.0.1 only.

Prints "PORT <n>" once listening (port 0: the system picks a free one). Every request is appended to the log file as
one JSON line {"path", "range"} before it is answered, so the test can assert what reached the server (a Range
header on a resume, no request at all for a cached file).

  /good/NAME       DIR/NAME, with Range support (206)
  /corrupt/NAME    DIR/NAME with its first byte changed: does not match the registry's hash
  /error/NAME      HTTP 500
  /truncated/NAME  without Range: announces DIR/NAME's full length, sends half, closes; with Range: as /good/
  /slow/NAME       as /good/, paced at SLOW_CHUNK bytes per SLOW_PAUSE seconds, so a client can cancel mid-transfer
  /stall/NAME      announces DIR/NAME's full length, sends its first STALL_FRACTION, then keeps the connection open
                   without sending anything more (a live stream whose source froze)

The server exits when its stdin closes (the test ended, even by crashing) or after --lifetime seconds.
"""
import argparse
import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CHUNK = 1 << 16
SLOW_CHUNK = 1 << 16
SLOW_PAUSE = 0.05   # 1.3 MB/s: a 21 MB checkpoint takes 16 s, far above the client's low-speed abort (1 kB/s)
STALL_FRACTION = 0.3
STALL_SECONDS = 120


class Handler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request per connection, so a closed connection always ends exactly one transfer.
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):   # keep stderr quiet; the log file is the record
        pass

    def do_GET(self):
        self.record()
        match = re.fullmatch(r"/(good|corrupt|error|truncated|slow|stall)/([\w.-]+)", self.path)
        if not match:
            return self.send_error(404)
        kind, name = match.groups()
        if kind == "error":
            return self.send_error(500, "simulated server error")
        path = os.path.join(self.server.folder, name)
        if not os.path.isfile(path):
            return self.send_error(404)
        with open(path, "rb") as f:
            data = f.read()
        if kind == "corrupt":
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        range_start = self.range_start()
        if kind == "truncated" and range_start is None:
            return self.send_truncated(data)
        if kind == "stall":
            return self.send_stalled(data)
        self.send_file(data, range_start, slow=kind == "slow")

    def record(self):
        entry = {"path": self.path, "range": self.headers.get("Range")}
        with open(self.server.log, "a") as log:
            log.write(json.dumps(entry) + "\n")

    def range_start(self):
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
        return int(match.group(1)) if match else None

    def send_file(self, data, start, slow=False):
        if start is not None and start >= len(data):
            return self.send_error(416)
        if start is None:
            self.send_response(200)
            body = data
        else:
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        step = SLOW_CHUNK if slow else CHUNK
        try:
            for i in range(0, len(body), step):
                self.wfile.write(body[i:i + step])
                if slow:
                    self.wfile.flush()
                    time.sleep(SLOW_PAUSE)
        except (BrokenPipeError, ConnectionResetError):
            pass   # the client gave up (a cancel): the transfer simply ends

    def send_truncated(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.wfile.flush()
        self.close_connection = True

    def send_stalled(self, data):
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data[:int(len(data) * STALL_FRACTION)])
            self.wfile.flush()
            time.sleep(STALL_SECONDS)
        except (BrokenPipeError, ConnectionResetError):
            pass


def exit_when_stdin_closes():
    sys.stdin.buffer.read()
    os._exit(0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True, help="folder with the files to serve")
    parser.add_argument("--log", required=True, help="file to append one JSON line per request to")
    parser.add_argument("--lifetime", type=float, default=600, help="seconds before the server exits regardless")
    args = parser.parse_args()

    # Threads: a stalled connection must not hold up the next request.
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.folder = args.dir
    server.log = args.log
    threading.Thread(target=exit_when_stdin_closes, daemon=True).start()
    deadline = threading.Timer(args.lifetime, lambda: os._exit(0))
    deadline.daemon = True
    deadline.start()
    print(f"PORT {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
