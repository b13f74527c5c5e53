#!/usr/bin/python3
"""serve_peer.py -- the peer of bench/serve.sh: the same job in Python's standard
library and scikit-learn.  Trains HistGradientBoostingClassifier on the CoIL
training rows (is_test == 0), then answers POST /predict (CSV rows, header
first) with {"predictions": [{"id": .., "score": ..}, ...]} on 127.0.0.1, one
thread per connection (ThreadingHTTPServer).  Prints "listening on PORT" once
ready.

Usage: serve_peer.py TICDATA.csv
"""
import csv
import io
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier


def main():
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.reader(f))
    head, body = rows[0], rows[1:]
    feats = [c for c in head if c not in ("id", "CARAVAN", "is_test")]
    col = {c: k for k, c in enumerate(head)}
    train = [r for r in body if r[col["is_test"]] == "0"]
    X = np.array([[float(r[col[c]]) for c in feats] for r in train])
    y = np.array([int(r[col["CARAVAN"]]) for r in train])
    model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, random_state=1)
    model.fit(X, y)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"   # keep-alive, as libmicrohttpd

        def do_POST(self):
            n = int(self.headers.get("Content-Length", 0))
            text = self.rfile.read(n).decode()
            try:
                r = list(csv.reader(io.StringIO(text)))
                h = {c: k for k, c in enumerate(r[0])}
                Xq = np.array([[float(x[h[c]]) for c in feats] for x in r[1:]])
                p = model.predict_proba(Xq)[:, 1]
                out = {"predictions": [{"id": x[h["id"]], "score": float(s)}
                                       for x, s in zip(r[1:], p)]}
                code = 200
            except (KeyError, ValueError, IndexError) as e:
                out, code = {"error": str(e)}, 422
            data = json.dumps(out, separators=(",", ":")).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, fmt, *args):   # an access log line on stderr, as ours
            sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    print("listening on %d" % srv.server_address[1], flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
