import { OperationError, UsageError } from "../../errors.ts";
import { createDaemonClient, type DaemonClient } from "../../ui/daemon-client.ts";
import { shortTime } from "../../ui/format.ts";
import { createNoticeStore } from "../../ui/notice-store.ts";
import { createStatusStore, startPolling } from "../../ui/status-store.ts";
import type { Deps } from "../../app/deps.ts";
import { osUser } from "../../app/release.ts";
import { parseDaemonUrl } from "../daemon-url.ts";

export interface DashboardOptions {
  /** The daemon's HTTP address (`cwsync run --listen`). */
  url: string;
  /** How often to read /api/status. */
  pollMs?: number;
}

/** The terminal the dashboard draws on and reads keys from. */
export interface Terminal {
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
}

const POLL_MS = 2000;

/** The test Ink itself applies (is-in-ci): `CI` or `CONTINUOUS_INTEGRATION` set to anything but `0` or `false`. */

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** `cwsync dashboard`: the Ink dashboard attached over HTTP to a daemon that runs elsewhere (or without a TTY). */
export async function dashboardCommand(opts: DashboardOptions, io: Deps, terminal: Terminal = { stdout: process.stdout, stdin: process.stdin }): Promise<number> {
  const url = parseDaemonUrl(opts.url);
  const why = !terminal.stdout.isTTY ? "stdout is not a terminal" : !terminal.stdin.isTTY ? "stdin is not a terminal" : io.settings.ci ? "CI is set" : undefined;
  if (why) throw new UsageError(`the dashboard needs an interactive terminal (${why}); use \`cwsync status\` for plain text, or read ${url}/api/status for JSON`);

  const client = createDaemonClient(url, { token: io.settings.apiToken });
  const first = await client.status().catch((e: unknown) => {
    throw new OperationError(unreachableMessage(client, e));
  });

  const store = createStatusStore(first);
  const notice = createNoticeStore();
  const stop = new AbortController();
  const poll = async (signal: AbortSignal) => {
    const snapshot = await client.status(signal);
    notice.set(undefined);
    return snapshot;
  };
  const polling = startPolling(store, poll, opts.pollMs ?? POLL_MS, stop.signal, (e) =>
    notice.set(`daemon not answering (${errorText(e)}); retrying — figures from ${shortTime(store.getSnapshot()?.at)}`),
  );
  // an action changes the status: read it at once instead of at the next poll
  const refresh = () => void poll(stop.signal).then(store.set, () => undefined);

  const { runDashboard } = await import("../../ui/run-dashboard.tsx");
  try {
    await runDashboard({
      store,
      notice,
      color: !io.settings.noColor,
      stdout: terminal.stdout,
      stdin: terminal.stdin,
      actions: {
        reconcile: (customer) => client.reconcile(customer).finally(refresh),
        sendNow: (customer, report) => client.sendNow(customer, report).finally(refresh),
        release: (customer) => client.release(customer, osUser(io.env)).finally(refresh),
      },
    });
  } finally {
    stop.abort();
    await polling;
  }
  return 0;
}

function unreachableMessage(client: DaemonClient, e: unknown): string {
  const status = (e as { status?: number }).status;
  if (status === 401) return `the daemon at ${client.url} wants its API token: set CWSYNC_API_TOKEN to the value the daemon runs with`;
  if (status === 403) return `the daemon at ${client.url} refused the dashboard: ${errorText(e)}`;
  return `no cwsync daemon answers at ${client.url} (${errorText(e)}); start one with \`cwsync run\`, or pass --url with the address it listens on (its --listen)`;
}
