// A fast canned-response server for the fast-server batch (benchmarks/fast_batch.py).
//
//   node benchmarks/js/canned_server.js BODIES.json
//
// BODIES.json maps a route name to a response body precomputed once by the Python side
// (benchmarks/_payloads.py): {"accounts": "...", "balance": "...", "transactions": "...",
// "token": "..."}. Bodies are encoded to Buffers at start-up, so a request costs routing
// plus one write. Plain `http` module, keep-alive, no npm dependencies. Every Data API
// route needs an `Authorization: Bearer ...` header (401 otherwise), as TrueLayer does.
// Prints one JSON line {"url": ..., "pid": ...} once listening; exits when stdin closes.
// Answers GET /stats with {"requests": N} (Data API requests served so far).
"use strict";

const fs = require("fs");
const http = require("http");

const bodies = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const buffers = {};
for (const [name, text] of Object.entries(bodies)) buffers[name] = Buffer.from(text, "utf8");

const ACCOUNT_ROUTE = /^\/data\/v1\/accounts\/([^/?]+)\/(balance|transactions)(?:\?|$)/;
const UNAUTHORIZED = Buffer.from(
  JSON.stringify({ error: "invalid_token", error_description: "missing bearer token" })
);
const NOT_FOUND = Buffer.from(
  JSON.stringify({ error: "not_found", error_description: "no canned route" })
);
let served = 0;

function reply(res, status, body) {
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": body.length,
    "X-Tl-Correlation-Id": "canned",
  });
  res.end(body);
}

function route(req) {
  const url = req.url;
  if (req.method === "POST" && url === "/connect/token") return "token";
  if (req.method !== "GET") return null;
  if (url === "/data/v1/accounts" || url.startsWith("/data/v1/accounts?")) return "accounts";
  const match = ACCOUNT_ROUTE.exec(url);
  return match ? match[2] : null;
}

const server = http.createServer((req, res) => {
  if (req.url === "/stats") {
    reply(res, 200, Buffer.from(JSON.stringify({ requests: served })));
    return;
  }
  const name = route(req);
  // Drain any request body (the token POST) before answering, so keep-alive holds.
  req.resume();
  req.on("end", () => {
    if (name === null || buffers[name] === undefined) return reply(res, 404, NOT_FOUND);
    if (name !== "token") {
      const auth = req.headers.authorization;
      if (!auth || !auth.startsWith("Bearer ")) return reply(res, 401, UNAUTHORIZED);
      served += 1;
    }
    reply(res, 200, buffers[name]);
  });
});
server.keepAliveTimeout = 120000; // clients keep their pools warm between users
server.headersTimeout = 121000;
server.listen(0, "127.0.0.1", () => {
  const { port } = server.address();
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${port}`, pid: process.pid }) + "\n");
});
process.stdin.resume();
process.stdin.on("end", () => process.exit(0));
