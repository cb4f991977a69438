// Verifies 5,000 companies and resolves their agreements against the sandbox with 20 ms of latency
// per request: requests made and wall time, then the same with 5 % of requests answered 503.
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const dist = (p) => import(join(root, "dist", p));

export async function benchConnectWise(count = 5000) {
  const { startConnectWiseSandbox } = await dist("sandbox/connectwise-sandbox.js");
  const { bulkSeed } = await dist("sandbox/seed.js");
  const { ConnectWiseTransport } = await dist("adapters/connectwise/transport.js");
  const { ConnectWiseClient } = await dist("adapters/connectwise/connectwise-client.js");
  const { systemClock } = await dist("adapters/clock-system.js");
  const { observeConnectWise } = await dist("observe/observe-connectwise.js");
  const { checkCustomer } = await dist("core/connectwise-checks.js");

  const global = {
    connectwise: { defaultAgreementTypes: ["TMRM Management Solution", "Managed Service"], tickets: { board: "Managed Services" } },
    products: { "wfbs-svc": { displayName: "WFBS-SVC", lmp: { productName: "WFBS-SVC" }, catalogItem: "TM-WFBSS", quantity: "used" } },
  };
  const customers = Array.from({ length: count }, (_, i) => ({
    name: `bulk-${i + 1}`, enabled: true, companyId: `BULK${String(i + 1).padStart(5, "0")}`, agreements: { "wfbs-svc": "default" },
  }));

  async function run(label, faultRate) {
    const sandbox = await startConnectWiseSandbox({ seed: bulkSeed(count) });
    sandbox.faults.latencyMs = 20;
    if (faultRate > 0) sandbox.faults.add({ kind: "status", status: 503, probability: faultRate });
    const http = new ConnectWiseTransport({ url: sandbox.url, ...sandbox.credentials }, { clock: systemClock });
    const t0 = performance.now();
    const snapshot = await observeConnectWise(new ConnectWiseClient(http), customers, global);
    const checks = customers.map((c) => checkCustomer(c, global, snapshot));
    const ms = performance.now() - t0;
    const resolved = checks.filter((c) => c.company.state === "found" && c.mappings.every((m) => m.state === "resolved")).length;
    const r = { label, requests: sandbox.requests.length, failed: sandbox.requests.filter((q) => q.status >= 500).length, ms, resolved, waitedMs: http.limiter.waitedMs };
    await sandbox.close();
    return r;
  }
  return [await run("no faults", 0), await run("5% 503s", 0.05)];
}
