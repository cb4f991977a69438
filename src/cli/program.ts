import { Argument, Command, CommanderError, Option } from "commander";
import { UsageError } from "../errors.ts";
import { cwsyncVersion } from "../version.ts";
import type { Deps } from "../app/deps.ts";

/** Maps argv to a command and its options; commands are imported lazily and return an exit code. */
export function buildProgram(io: Deps, setResult: (p: Promise<number>) => void): Command {
  const program = new Command("cwsync")
    .description("Trend Micro ↔ ConnectWise Manage integration as code")
    .version(cwsyncVersion(), "-V, --version", "print cwsync's version")
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showSuggestionAfterError(true)
    .addHelpText("after", "\nExit codes: 0 ok, 1 invalid input or failed operation, 2 changes (plan --detailed-exitcode), 64 usage, 70 internal error.");

  program
    .command("validate")
    .description("check customer files against the schemas and rules (offline)")
    .argument("[paths...]", "files or folders (default: customers/)")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "github"]).default(io.settings.githubActions ? "github" : "text"))
    .option("--strict", "warnings fail too", false)
    .action(async (paths: string[], opts: { format: "text" | "json" | "github"; strict: boolean }) => {
      const { validateCommand } = await import("./commands/validate.ts");
      setResult(validateCommand({ paths, format: opts.format, strict: opts.strict }, io));
    });

  program
    .command("plan")
    .description("show each customer's effective settings and next sends; with --base, what a change does (offline)")
    .option("--repo <dir>", "repository holding customers/", ".")
    .option("--base <rev>", "compare the customers at this git revision with the working tree")
    .option("--at <iso>", "act as if the clock read this instant")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "markdown"]).default("text"))
    .option("--detailed-exitcode", "exit 2 when the change (with --base) changes anything; exit 1 wins over it", false)
    .option("--online", "also check companies, agreements and catalogue items in ConnectWise, and preview each customer's next billing (the additions now → the LMP seats now; read-only); a failed check (✖) exits 1", false)
    .option("--sandbox", "with --online: use the embedded fake ConnectWise seeded from customers/", false)
    .addHelpText("after", "\nExit codes (the whole plan is printed first):\n  0  nothing wrong\n  1  an invalid customer file or _global.yaml; with --online, a failed ConnectWise check (✖): a missing or\n     inactive company, a missing, cancelled or ambiguous agreement, a missing or inactive catalogue item\n  2  with --detailed-exitcode: the change changes something, and nothing of 1")
    .action(async (opts: { repo: string; base?: string; at?: string; format: "text" | "json" | "markdown"; detailedExitcode: boolean; online: boolean; sandbox: boolean }) => {
      const { planCommand } = await import("./commands/plan.ts");
      setResult(planCommand({ ...opts, at: parseInstant(opts.at) }, io));
    });

  program
    .command("verify")
    .description("look up a customer's ConnectWise company (the Verify button); exit 0 only when found and active")
    .argument("[customer]", "customer name (its file in customers/)")
    .option("--company <id>", "a ConnectWise company ID instead of a customer")
    .option("--repo <dir>", "repository holding customers/", ".")
    .option("--sandbox", "use the embedded fake ConnectWise seeded from customers/", false)
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (customer: string | undefined, opts: { company?: string; repo: string; sandbox: boolean; format: "text" | "json" }) => {
      const { verifyCommand } = await import("./commands/verify.ts");
      setResult(verifyCommand({ customer, ...opts }, io));
    });

  program
    .command("import")
    .description("draft customer files (suspended until reviewed) from ConnectWise's active companies and the LMP report; never overwrites a file (read-only against every remote)")
    .option("--out <dir>", "where the drafts go (default: the repository's customers/)")
    .option("--month <YYYY-MM>", "the LMP report month (default: the current month, UTC)")
    .option("--at <iso>", "act as if the clock read this instant")
    .option("--repo <dir>", "repository holding customers/ and _global.yaml", ".")
    .option("--sandbox", "use the embedded fake ConnectWise and Licensing Management Platform seeded from customers/", false)
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (opts: { out?: string; month?: string; at?: string; repo: string; sandbox: boolean; format: "text" | "json" }) => {
      const { importCommand } = await import("./commands/import.ts");
      setResult(importCommand({ ...opts, at: parseInstant(opts.at) }, io));
    });

  program
    .command("reconcile")
    .description("one reconcile: load the committed revision, verify in ConnectWise, send what is due (exactly once)")
    .option("--repo <dir|url>", "repository holding customers/ (a folder, or a git URL cloned into the state directory)", ".")
    .option("--branch <branch>", "branch or commit to reconcile (default: HEAD)")
    .option("--at <iso>", "act as if the clock read this instant")
    .option("--dry-run", "print the plan; write nothing", false)
    .option("--allow-mass-removal", "apply a revision that removes more than a quarter of the customers", false)
    .option("--strict", "also exit 1 when a customer is invalid or degraded", false)
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--sandbox", "use the embedded fake ConnectWise and Licensing Management Platform", false)
    .option("--url <url>", "ask the running daemon (cwsync run) at this address to reconcile now, wait for it and print it (default: CWSYNC_URL)")
    .option("--accept-new-state", "start a new history where the state vanished (state.db missing or empty where the state directory shows one existed); refused without it", false)
    .action(async (opts: { repo: string; branch?: string; at?: string; dryRun: boolean; allowMassRemoval: boolean; strict: boolean; format: "text" | "json"; sandbox: boolean; url?: string; acceptNewState: boolean }, cmd: Command) => {
      const { reconcileCommand } = await import("./commands/reconcile.ts");
      setResult(reconcileCommand({ ...opts, at: parseInstant(opts.at), connectwise: io.settings.connectwiseTuning, given: givenFlags(cmd) }, io));
    });

  program
    .command("send-now")
    .description("send a customer's report now, from the applied revision (refuses when its file has unsaved changes)")
    .argument("<customer>", "customer name")
    .addArgument(new Argument("[report]", "which report (default: every report of the customer)").choices(["billing", "hostedEmailSecurity", "emailSecurity"]))
    .option("--repo <dir>", "working copy to compare with the applied revision", ".")
    .option("--at <iso>", "act as if the clock read this instant")
    .option("--sandbox", "use the embedded fake ConnectWise and Licensing Management Platform", false)
    .addOption(new Option("--format <format>", "output format (json: one object with every send's result)").choices(["text", "json"]).default("text"))
    .option("--url <url>", "ask the running daemon (cwsync run) at this address to send, under its lease (default: CWSYNC_URL)")
    .option("--idempotency-key <key>", "with --url: the daemon sends once per key (default: a new key per run); a script retrying a run whose answer it lost passes the same key")
    .option("--accept-new-state", "start a new history where the state vanished (state.db missing or empty where the state directory shows one existed); refused without it", false)
    .action(async (customer: string, report: string | undefined, opts: { repo: string; at?: string; sandbox: boolean; format: "text" | "json"; url?: string; idempotencyKey?: string; acceptNewState: boolean }, cmd: Command) => {
      const { sendNowCommand } = await import("./commands/send-now.ts");
      setResult(sendNowCommand({ customer, report: report as "billing" | undefined, ...opts, at: parseInstant(opts.at), given: givenFlags(cmd) }, io));
    });

  program
    .command("release")
    .description("apply the seat decreases held under `decreases: hold` (default: every one of the customer's latest billing), journaled with who ran it")
    .argument("<customer>", "customer name")
    .argument("[product]", "one product (its key in _global.yaml, e.g. hes)")
    .option("--month <YYYY-MM>", "the billing of this month (default: the latest)")
    .option("--by <name>", "who releases it, for the journal (default: the OS user)")
    .option("--repo <dir>", "repository holding customers/ (seeds --sandbox)", ".")
    .option("--sandbox", "use the embedded fake ConnectWise", false)
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .option("--url <url>", "ask the running daemon (cwsync run) at this address to release, under its lease (default: CWSYNC_URL)")
    .action(async (customer: string, product: string | undefined, opts: { month?: string; by?: string; repo: string; sandbox: boolean; format: "text" | "json"; url?: string }, cmd: Command) => {
      const { releaseCommand } = await import("./commands/release.ts");
      setResult(releaseCommand({ customer, product, ...opts, given: givenFlags(cmd) }, io));
    });

  program
    .command("audit")
    .description("what is billed and what is not, read-only: unbilled seats, additions changed by hand (drift), additions on unmapped agreements (unmanaged), held decreases; with seats, quantities, unit prices and monthly value")
    .option("--repo <dir>", "repository holding customers/", ".")
    .option("--month <YYYY-MM>", "the LMP report month (default: the current month at --at or the clock, UTC)")
    .option("--at <iso>", "act as if the clock read this instant")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json", "csv", "markdown"]).default("text"))
    .option("--fail-on <categories>", "exit 1 when one of these categories is not empty: a comma-separated list of unbilled, drift, unmanaged, held")
    .option("--sandbox", "use the embedded fake ConnectWise and Licensing Management Platform seeded from customers/", false)
    .addHelpText("after", "\nExit codes (the whole audit is printed first): 0 ok; 1 a category named in --fail-on is not empty, or a read failed; 64 a bad flag.")
    .action(async (opts: { repo: string; month?: string; at?: string; format: "text" | "json" | "csv" | "markdown"; failOn?: string; sandbox: boolean }) => {
      const { auditCommand } = await import("./commands/audit.ts");
      setResult(auditCommand({ ...opts, at: parseInstant(opts.at) }, io));
    });

  program
    .command("run")
    .description("the reconciler daemon: sync the repository, reconcile on an interval, a webhook or a new commit; serve /healthz /readyz /metrics /api")
    .option("--repo <dir|url>", "repository holding customers/ (a folder, a local git repository or a git URL; git sources are cloned into the state directory)", ".")
    .option("--branch <branch>", "branch or tag to follow (default: the remote's HEAD)")
    .option("--interval <duration>", "time between reconciles, ±10 % jitter (30s, 5m, 1h)", "60s")
    .option("--poll-interval <duration>", "time between polls of the email-security sources", "15m")
    .option("--listen <host:port>", "address of the HTTP server; beyond loopback CWSYNC_API_TOKEN is required and every route but /healthz needs it", "127.0.0.1:9464")
    .option("--metrics-public", "beyond loopback, serve /metrics without the token (for a Prometheus without credentials)", false)
    .option("--no-tui", "no dashboard even on a terminal: JSON logs on stderr, as without a terminal or under CI (with the dashboard they go to <state dir>/cwsync.log)")
    .option("--sandbox", "start the embedded fakes of ConnectWise, LMPI and TMES/HES for the daemon's lifetime", false)
    .option("--allow-mass-removal", "apply revisions that remove more than a quarter of the customers", false)
    .option("--require-signed <file>", "apply only commits signed (ssh) by a key in this allowed-signers file; others are refused")
    .option("--accept-new-state", "start a new history where the state vanished (state.db missing or empty where the state directory shows one existed); refused without it", false)
    .addOption(new Option("--at <iso>", "act as if the clock read this instant at start (demos and tests)").hideHelp())
    .addHelpText("after", "\nEnvironment: CWSYNC_WEBHOOK_SECRET (POST /hooks/github), CWSYNC_API_TOKEN (bearer token for /api), CWSYNC_LOG_LEVEL, CWSYNC_FULL_VERIFY_INTERVALS (every customer verified in full at least once in this many intervals; default 60).\nGit credentials: an ssh agent (SSH_AUTH_SOCK), a credential helper or GIT_ASKPASS; a password in an https URL is sent as a header, never stored or logged.")
    .action(async (opts: { repo: string; branch?: string; interval: string; pollInterval: string; listen: string; metricsPublic: boolean; tui: boolean; sandbox: boolean; allowMassRemoval: boolean; requireSigned?: string; at?: string; acceptNewState: boolean }) => {
      const { runCommand } = await import("./commands/run.ts");
      setResult(runCommand({ ...opts, at: parseInstant(opts.at), connectwise: io.settings.connectwiseTuning }, io));
    });

  program
    .command("status")
    .description("each customer's state, reason, company, agreements, next due report, last send and last error (from the state directory)")
    .argument("[customer]", "one customer, in detail")
    .option("--at <iso>", "compute next due sends as if the clock read this instant")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (customer: string | undefined, opts: { at?: string; format: "text" | "json" }) => {
      const { statusCommand } = await import("./commands/status.ts");
      setResult(statusCommand({ customer, format: opts.format, at: parseInstant(opts.at) }, io));
    });

  program
    .command("history")
    .description("a customer's sends (the ledger) and journal, newest first")
    .argument("<customer>", "customer name")
    .option("--limit <n>", "entries of each kind", "50")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (customer: string, opts: { limit: string; format: "text" | "json" }) => {
      const { historyCommand } = await import("./commands/history.ts");
      setResult(historyCommand({ customer, format: opts.format, limit: Number(opts.limit) || 50 }, io));
    });

  const state = program
    .command("state")
    .description("the state directory (CWSYNC_STATE_DIR): backup FILE")
    .action(() => {
      throw new UsageError("cwsync state needs a subcommand: cwsync state backup FILE");
    });
  state
    .command("backup")
    .description("copy the state to FILE, consistently, even while the daemon runs (it only reads); refuses an existing FILE")
    .argument("<file>", "where to write the copy (must not exist)")
    .addHelpText("after", "\nRestoring: stop the daemon, copy FILE to <state dir>/state.db, delete state.db-wal and state.db-shm, start again (see the README).")
    .action(async (file: string) => {
      const { stateBackupCommand } = await import("./commands/state-backup.ts");
      setResult(stateBackupCommand({ file }, io));
    });

  program
    .command("dashboard")
    .description("attach the live terminal dashboard to a running daemon (cwsync run) over its HTTP API; needs a terminal")
    .option("--url <url>", "the daemon's address (its --listen)", "http://127.0.0.1:9464")
    .action(async (opts: { url: string }) => {
      const { dashboardCommand } = await import("./commands/dashboard.ts");
      setResult(dashboardCommand({ url: opts.url }, io));
    });

  program
    .command("sandbox")
    .description("run the embedded fakes of ConnectWise, LMPI, Trend Micro Email Security and Hosted Email Security on loopback, seeded from customers/, until interrupted; prints the CW_*, LMPI_*, TMES_* and HES_* variables that point cwsync at them")
    .option("--listen <host:port>", "address of the fake ConnectWise; with a fixed port, the fake LMPI, TMES and HES take the next three", "127.0.0.1:0")
    .option("--repo <dir>", "repository holding customers/", ".")
    .option("--fault <name>", "switch on a fault preset for the fakes' lifetime (repeatable; adds to CWSYNC_SANDBOX_FAULTS); `--fault list` describes them", (v: string, all: string[] = []) => [...all, v])
    .action(async (opts: { listen: string; repo: string; fault?: string[] }) => {
      const { sandboxCommand } = await import("./commands/sandbox.ts");
      setResult(sandboxCommand(opts, io));
    });

  return program;
}

/** The long flags given on the command line (not defaults), in the order the command declares them. */
function givenFlags(cmd: Command): string[] {
  return cmd.options.filter((o) => o.long && cmd.getOptionValueSource(o.attributeName()) === "cli").map((o) => o.long!);
}

export function parseInstant(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2}))?$/.test(value) || Number.isNaN(d.getTime())) {
    throw new UsageError(`--at: \`${value}\` is not an ISO instant; use e.g. 2027-01-31T07:00:00Z`);
  }
  return d;
}

/** Runs argv (without `node` and the script) and resolves to the exit code; commander's own exits become codes. */
export async function runProgram(argv: readonly string[], io: Deps): Promise<number> {
  let result: Promise<number> | undefined;
  const program = buildProgram(io, (p) => (result = p));
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.code === "commander.help") return 0;
      return 64;
    }
    throw e;
  }
  if (!result) {
    io.stderr(program.helpInformation());
    return 64;
  }
  return result;
}
