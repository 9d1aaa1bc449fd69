// Drive the official JavaScript client (npm truelayer-client, Data API v1) against the
// emulator: the same batch as benchmarks/_loopback_client.py.
//
//   node benchmarks/js/driver.js NODE_MODULES_DIR CONFIG.json
//
// The client builds every URL from `Constants.API_URL` at call time, so pointing it at the
// emulator is one assignment on the exported Constants object; nothing of the package is
// copied or changed on disk. Prints one JSON line with the batch's duration and counts.
"use strict";

const fs = require("fs");
const path = require("path");

// VmHWM of this process (KiB): like the Python clients, not ru_maxrss, which on Linux
// also counts the high-water mark of the parent this process was forked from.
function peakRssKib() {
  try {
    const match = /^VmHWM:\s+(\d+)/m.exec(fs.readFileSync("/proc/self/status", "utf8"));
    if (match) return Number(match[1]);
  } catch (err) {
    // not Linux: fall through
  }
  return process.resourceUsage().maxRSS;
}

async function main() {
  const [modulesDir, configPath] = process.argv.slice(2);
  const config = JSON.parse(fs.readFileSync(configPath, "utf8"));
  const tl = require(path.join(modulesDir, "truelayer-client"));
  tl.Constants.API_URL = config.url; // the emulator serves /data/v1 under its base URL
  tl.Constants.AUTH_URL = config.url;
  const { DataAPIClient } = tl;

  const stats = { requests: 0, transactions: 0, errors: 0 };
  let next = 0;
  async function worker() {
    while (next < config.tokens.length) {
      const token = config.tokens[next++].access_token;
      try {
        const accounts = await DataAPIClient.getAccounts(token);
        const accountId = accounts.results[0].account_id;
        await DataAPIClient.getBalance(token, accountId);
        const transactions = await DataAPIClient.getTransactions(token, accountId);
        stats.transactions += transactions.results.length;
        stats.requests += 3;
      } catch (err) {
        stats.errors += 1;
        if (stats.errors === 1) console.error(String(err && (err.message || err)));
      }
    }
  }

  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: config.concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  console.log(
    JSON.stringify({
      client: "truelayer-client (node)",
      seconds,
      cpu_seconds: (used.user + used.system) / 1e6,
      requests: stats.requests,
      transactions: stats.transactions,
      errors: stats.errors,
      peak_rss_kib: peakRssKib(),
    })
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
