import { cleanup, render } from "ink-testing-library";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { DaemonSnapshot } from "../daemon/snapshot.ts";
import type { CustomerView } from "../status/customer-view.ts";
import { Dashboard, type DashboardActions } from "./dashboard.tsx";
import { createStatusStore } from "./status-store.ts";

/** vi.waitFor gives up after 1 s by default: too short on a loaded machine (a timeout rethrows the last failed expectation). */
const POLL = { timeout: 20_000 };

function customer(name: string, over: Partial<CustomerView> = {}): CustomerView {
  return {
    name,
    file: `customers/${name}.yaml`,
    status: { state: "ready", reason: "ok", message: "in sync with ConnectWise", since: "2026-01-02T08:00:00.000Z" },
    company: { identifier: name.toUpperCase().slice(0, 12), state: "active", id: 17, name: `${name} Ltd` },
    agreements: [{ product: "Apex One", state: "resolved", agreement: "TMRM", message: "TMRM Management Solution #5" }],
    nextDue: [
      { report: "hostedEmailSecurity", periodKey: "2026-01-06", due: "2026-01-06T07:00:00.000Z", overdue: false },
      { report: "billing", periodKey: "2026-01", due: "2026-01-05T07:00:00.000Z", overdue: false },
    ],
    lastSend: { report: "billing", periodKey: "2025-12", key: "cws-0123456789", at: "2026-01-01T07:00:05.000Z", ticketId: 4711 },
    unfinished: [],
    missed: [],
    heldDecreases: [],
    ...over,
  };
}

function snapshot(customers: CustomerView[]): DaemonSnapshot {
  const states: Record<string, number> = {};
  for (const c of customers) states[c.status.state] = (states[c.status.state] ?? 0) + 1;
  return {
    at: "2026-01-05T06:00:00.000Z",
    repo: { source: "example/customers", branch: "main", applied: "abc123def4567890", attempted: "abc123def4567890", lastSync: "2026-01-05T05:59:00.000Z" },
    connectwise: { target: "cw.example", healthy: true, requests: { "2xx": 120, "429": 3 }, rateLimitWaits: 4 },
    lastReconcile: { at: "2026-01-05T05:59:30.000Z", durationMs: 1200, ok: true, reason: "interval" },
    nextReconcile: "2026-01-05T06:00:30.000Z",
    states,
    customers,
  };
}

const three = () =>
  snapshot([
    customer("acme-corp"),
    customer("broken", {
      status: {
        state: "invalid",
        reason: "config.invalid",
        message: "reports.billing.day: must be ≤ 28",
        location: "customers/broken.yaml:12:3",
        since: "2026-01-04T10:00:00.000Z",
      },
    }),
    Object.assign(customer("globex", { company: { identifier: "GLOBEX", state: "active", id: 9, name: "Globex Corporation" } }), { owner: "team-emea" }),
  ]);

function fakeActions(): DashboardActions & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    reconcile: vi.fn(async (c?: string) => (calls.push(`reconcile ${c ?? "*"}`), "queued")),
    sendNow: vi.fn(async (c: string, r?: string) => (calls.push(`send ${c} ${r ?? "*"}`), "ticket #4712 created")),
    release: vi.fn(async (c: string) => (calls.push(`release ${c}`), "hes released: 61 → 54 seats")),
    quit: vi.fn(() => void calls.push("quit")),
  };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const ESC = "\u001B";
const DOWN = "\u001B[B";
const UP = "\u001B[A";
const PAGE_DOWN = "\u001B[6~";

/** Each key on its own, with the tick yields Ink needs (ecosystem §12). */
async function press(stdin: { write(s: string): void }, ...keys: string[]) {
  for (const key of keys) {
    await tick();
    stdin.write(key);
    await tick();
    await tick();
  }
}

function mount(snap: DaemonSnapshot, height = 24, width?: number) {
  const store = createStatusStore(snap);
  const actions = fakeActions();
  const ui = render(<Dashboard store={store} actions={actions} height={height} width={width} />);
  const frame = () => ui.lastFrame() ?? "";
  const selectedLine = () =>
    frame()
      .split("\n")
      .find((l) => l.startsWith("› ")) ?? "";
  return { ui, store, actions, frame, selectedLine };
}

afterEach(cleanup);

describe("Dashboard", () => {
  it("shows the header (revision, git sync, ConnectWise budget, reconcile timing, states) and a row per customer", () => {
    const { frame, ui } = mount(three());
    const f = frame();
    expect(f).toContain("applied abc123def456");
    expect(f).toContain("synced 01-05 05:59Z");
    expect(f).toContain("ConnectWise healthy · requests 2xx 120 · 429 3 · rate-limit waits 4 · cw.example");
    expect(f).toContain("reconcile last 01-05 05:59Z ok (interval, 1.2 s) · next 01-05 06:00Z");
    expect(f).toContain("customers 3 · invalid 1 · ready 2");
    const acme = f.split("\n").find((l) => l.includes("acme-corp"));
    expect(acme).toMatch(/acme-corp\s+ready\s+ACME-CORP\s+billing 01-05 07:00Z\s+billing 2025-12/);
    expect(f.split("\n").find((l) => l.includes("broken"))).toMatch(/invalid .* customers\/broken\.yaml:12:3/);
    ui.unmount();
  });

  it("shows a failing git sync and an unsigned head that was refused", () => {
    const s = three();
    const { frame, ui } = mount({ ...s, repo: { ...s.repo, syncError: "fatal: unreachable remote" } });
    expect(frame()).toContain("git sync failing: fatal: unreachable remote (last good 01-05 05:59Z)");
    ui.rerender(
      <Dashboard store={createStatusStore({ ...s, repo: { ...s.repo, refused: { revision: "fedcba9876543210", reason: "unsigned" } } })} actions={fakeActions()} height={24} />,
    );
    expect(frame()).toContain("refused unsigned head fedcba987654: unsigned");
    ui.unmount();
  });

  it("narrows the rows with / and a filter that matches the name, state, reason, company or owner", async () => {
    const { frame, ui } = mount(three());
    await press(ui.stdin, "/", "inv", "\r");
    expect(frame()).toContain("broken");
    expect(frame()).not.toContain("acme-corp");
    expect(frame()).toContain('filter "inv": 1 of 3 customers');
    await press(ui.stdin, ESC);
    expect(frame()).toContain("acme-corp");
    await press(ui.stdin, "/", "Globex Corp", "\r");
    expect(frame()).toMatch(/› globex/);
    expect(frame()).not.toContain("acme-corp");
    await press(ui.stdin, "/", ESC, "/", "team-emea", "\r");
    expect(frame()).toContain("globex");
    expect(frame()).not.toContain("broken");
    ui.unmount();
  });

  it("moves the selection with the arrows and j/k, and Enter opens that customer's detail; Esc goes back", async () => {
    const { frame, selectedLine, ui } = mount(three());
    expect(selectedLine()).toContain("acme-corp");
    await press(ui.stdin, DOWN, DOWN);
    expect(selectedLine()).toContain("globex");
    await press(ui.stdin, "k");
    expect(selectedLine()).toContain("broken");
    await press(ui.stdin, "\r");
    const f = frame();
    expect(f).toContain("broken (customers/broken.yaml)");
    expect(f).toContain("state       invalid — config.invalid at customers/broken.yaml:12:3");
    expect(f).toContain("message     reports.billing.day: must be ≤ 28");
    expect(f).toContain("next due    billing 2026-01 due 01-05 07:00Z");
    expect(f).toContain("next due    HES 2026-01-06 due 01-06 07:00Z");
    expect(f).toContain("last send   billing 2025-12 at 01-01 07:00Z, ticket #4711");
    expect(f).not.toContain("acme-corp");
    await press(ui.stdin, ESC);
    expect(frame()).toContain("acme-corp");
    expect(selectedLine()).toContain("broken");
    ui.unmount();
  });

  it("shows unfinished sends, held decreases and missed periods in the detail", async () => {
    const s = snapshot([
      customer("acme-corp", {
        lastError: { at: "2026-01-05T05:00:00.000Z", message: "ConnectWise POST /service/tickets answered 500" },
        unfinished: [{ key: "cws-aaaaaaaaaa", report: "billing", periodKey: "2026-01", state: "unknown", error: "timed out" }],
        heldDecreases: [{ periodKey: "2025-12", product: "Apex One", previous: 40, quantity: 35 }],
        missed: [{ report: "emailSecurity", periodKey: "2025-11", reason: "older than the catch-up window" }],
      }),
    ]);
    const { frame, ui } = mount(s, 30);
    await press(ui.stdin, "\r");
    expect(frame()).toContain("last error  01-05 05:00Z ConnectWise POST /service/tickets answered 500");
    expect(frame()).toContain("unfinished  billing 2026-01 (unknown: timed out)");
    expect(frame()).toContain("held        Apex One 40 → 35 seats (2025-12)");
    expect(frame()).toContain("missed      TMES 2025-11 (older than the catch-up window)");
    ui.unmount();
  });

  it("r reconciles the selected customer, R all of them, and the status line shows the result", async () => {
    const { frame, actions, ui } = mount(three());
    await press(ui.stdin, DOWN, "r");
    expect(actions.reconcile).toHaveBeenCalledWith("broken");
    await vi.waitFor(() => expect(frame()).toContain("reconcile broken: queued"), POLL);
    await press(ui.stdin, "R");
    expect(actions.reconcile).toHaveBeenLastCalledWith(undefined);
    await vi.waitFor(() => expect(frame()).toContain("reconcile all: queued"), POLL);
  });

  it("shows a failed action's reason on the status line", async () => {
    const { frame, actions, ui } = mount(three());
    actions.reconcile = vi.fn(async () => Promise.reject(new Error("answered 503: shutting down")));
    ui.rerender(<Dashboard store={createStatusStore(three())} actions={actions} height={24} />);
    await press(ui.stdin, "r");
    await vi.waitFor(() => expect(frame()).toContain("reconcile acme-corp failed: answered 503: shutting down"), POLL);
  });

  it("s asks for confirmation and only y sends", async () => {
    const { frame, actions, ui } = mount(three());
    await press(ui.stdin, "s");
    expect(frame()).toContain("Send billing for acme-corp now? y/N");
    await press(ui.stdin, "n");
    expect(actions.sendNow).not.toHaveBeenCalled();
    expect(frame()).toContain("send for acme-corp cancelled");
    await press(ui.stdin, "s", "\r");
    expect(actions.sendNow).not.toHaveBeenCalled();
    await press(ui.stdin, "s", "\t");
    expect(frame()).toContain("Send hostedEmailSecurity for acme-corp now? y/N");
    await press(ui.stdin, "\t", "\t", "y");
    expect(actions.sendNow).toHaveBeenCalledExactlyOnceWith("acme-corp", "billing");
    await vi.waitFor(() => expect(frame()).toContain("send billing for acme-corp: ticket #4712 created"), POLL);
  });

  it("d asks for confirmation and only y releases the held decreases, from the list and from the detail", async () => {
    const { frame, actions, ui } = mount(three());
    await press(ui.stdin, "d");
    expect(frame()).toContain("Release the held decreases of acme-corp now (set the lower seat counts)? y/N");
    await press(ui.stdin, "n");
    expect(actions.release).not.toHaveBeenCalled();
    expect(frame()).toContain("release for acme-corp cancelled");
    await press(ui.stdin, "d", "\r");
    expect(actions.release).not.toHaveBeenCalled();
    await press(ui.stdin, "d", "y");
    expect(actions.release).toHaveBeenCalledExactlyOnceWith("acme-corp");
    await vi.waitFor(() => expect(frame()).toContain("release held decreases of acme-corp: hes released: 61 → 54 seats"), POLL);
    // from a customer's detail, the detail stays on screen under the prompt
    actions.release = vi.fn(async () => Promise.reject(new Error("addition #9903 is gone")));
    ui.rerender(<Dashboard store={createStatusStore(three())} actions={actions} height={24} />);
    await press(ui.stdin, DOWN, "\r", "d");
    expect(frame()).toContain("Release the held decreases of broken now");
    expect(frame()).toContain("customers/broken.yaml:12:3");
    await press(ui.stdin, "Y");
    expect(actions.release).toHaveBeenCalledExactlyOnceWith("broken");
    await vi.waitFor(() => expect(frame()).toContain("release held decreases of broken failed: addition #9903 is gone"), POLL);
  });

  it("shows every result of a send of all reports, one per line", async () => {
    const { frame, actions, ui } = mount(three());
    actions.sendNow = vi.fn(async () =>
      [
        "billing 2026-01: sent, ticket #4712 (key cws-0000000001)",
        "hostedEmailSecurity 2026-01-06: sent, ticket #4713 (key cws-0000000002)",
        "emailSecurity 2026-01-05: sent, ticket #4714 (key cws-0000000003)",
      ].join("\n"),
    );
    ui.rerender(<Dashboard store={createStatusStore(three())} actions={actions} height={24} />);
    await press(ui.stdin, "s", "\t", "\t");
    expect(frame()).toContain("Send all reports for acme-corp now? y/N");
    await press(ui.stdin, "y");
    expect(actions.sendNow).toHaveBeenCalledExactlyOnceWith("acme-corp", undefined);
    await vi.waitFor(() => expect(frame()).toContain("send all reports for acme-corp:"), POLL);
    const f = frame();
    expect(f).toContain("billing 2026-01: sent, ticket #4712");
    expect(f).toContain("hostedEmailSecurity 2026-01-06: sent, ticket #4713");
    expect(f).toContain("emailSecurity 2026-01-05: sent, ticket #4714");
    expect(f).toContain("q quit");
    expect(f.split("\n").length).toBeLessThanOrEqual(24);

    // some went out, some not (the daemon answers 409 with a line per report): each line still shows
    actions.sendNow = vi.fn(async () => Promise.reject(new Error("billing 2026-01: sent, ticket #4715 (key cws-0000000004)\nemailSecurity: not sent — acme-corp is suspended")));
    ui.rerender(<Dashboard store={createStatusStore(three())} actions={actions} height={24} />);
    await press(ui.stdin, "s", "\t", "\t", "y");
    await vi.waitFor(() => expect(frame()).toContain("emailSecurity: not sent — acme-corp is suspended"), POLL);
    expect(frame()).toContain("billing 2026-01: sent, ticket #4715");
    expect(frame()).not.toContain("ticket #4713");
  });

  it("at 80 columns keeps LAST ERROR readable, elides what does not fit with …, and always shows q quit", async () => {
    const ambiguous = "agreement.ambiguous: wfbs-svc: 2 active matches for an agreement of a default type (TMRM Management Solution, Managed Service)";
    const s = snapshot([
      customer("acme-corp"),
      customer("bluewater-dental", { company: { identifier: "BluewaterDental", state: "active", id: 2, name: "Bluewater Dental Group" } }),
      customer("fabrikam-retail", {
        status: { state: "degraded", reason: "agreement.ambiguous", message: ambiguous.slice(21), since: "2026-01-04T10:00:00.000Z" },
        lastError: { at: "2026-01-05T05:00:00.000Z", message: ambiguous },
      }),
      customer("northwind-logistics", { lastSend: { report: "emailSecurity", periodKey: "2026-01-04T23:00Z", key: "cws-1", at: "2026-01-05T07:00:05.000Z", ticketId: 7 } }),
    ]);
    const { frame, ui } = mount(s, 23, 80);
    const lines = frame().split("\n");
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80);
    expect(lines.find((l) => l.includes("CUSTOMER"))).toContain("LAST ERROR");
    const fabrikam = lines.find((l) => l.includes("fabrikam-retail")) ?? "";
    expect(fabrikam).toMatch(/fabrikam-retail +degraded +billing 01-05 07:00Z +agreement\.ambiguous: wfbs-.*…$/);
    expect(lines.find((l) => l.includes("northwind"))).toContain("northwind-logistics ");
    expect(lines.at(-1)).toContain("q quit");
    expect(lines.at(-1)).toContain("s send");
    // every key fits in 80 columns, quitting last as on a wider terminal
    expect(lines.at(-1)).toBe("↑↓ move · / filter · Enter detail · r/R reconcile · s send · d release · q quit");

    await press(ui.stdin, "\r");
    expect(frame()).toContain("acme-corp (customers/acme-corp.yaml)");
    expect(frame().split("\n").at(-1)).toContain("q quit");
    ui.unmount();

    const narrow = mount(s, 23, 50);
    for (const line of narrow.frame().split("\n")) expect([...line].length, line).toBeLessThanOrEqual(50);
    expect(narrow.frame().split("\n").at(-1)).toMatch(/^q quit · /);
    narrow.ui.unmount();
  });

  it("q quits; in the filter, q is text", async () => {
    const { actions, ui } = mount(three());
    await press(ui.stdin, "/", "q");
    expect(actions.quit).not.toHaveBeenCalled();
    await press(ui.stdin, "\r", "q");
    expect(actions.quit).toHaveBeenCalledTimes(1);
  });

  it("with 5,000 customers renders only the window around the selection, within the height", async () => {
    const many = Array.from({ length: 5000 }, (_, i) => customer(`customer-${String(i).padStart(5, "0")}`));
    const { frame, selectedLine, store, ui } = mount(snapshot(many), 20);
    const lines = () => frame().split("\n");
    expect(lines().length).toBeLessThanOrEqual(20);
    expect(frame()).toContain("customer-00000");
    expect(frame()).not.toContain("customer-00012"); // 20 rows - 8 of chrome = 12 customer rows
    await press(ui.stdin, PAGE_DOWN);
    expect(selectedLine()).toContain("customer-00012");
    expect(frame()).not.toContain("customer-00000");
    await press(ui.stdin, "G", UP);
    expect(selectedLine()).toContain("customer-04998");
    expect(frame()).toContain("5000 customers · 4999 of 5000");

    // an update with a new first customer: the selection stays on its name, the frame stays a window
    store.set(snapshot([customer("aaa-new"), ...many]));
    await vi.waitFor(() => expect(frame()).toContain("5001 customers · 5000 of 5001"), POLL);
    expect(selectedLine()).toContain("customer-04998");
    expect(lines().length).toBeLessThanOrEqual(20);
    expect(frame()).not.toContain("aaa-new");
    expect(frame()).not.toContain("customer-02500");
    expect(frame().length).toBeLessThan(20 * 200);
    ui.unmount();
  });

  it("applies keys typed faster than frames one after the other", async () => {
    const { selectedLine, actions, ui } = mount(three());
    await tick();
    ui.stdin.write("j");
    ui.stdin.write("j");
    ui.stdin.write("s");
    ui.stdin.write("y");
    await vi.waitFor(() => expect(actions.sendNow).toHaveBeenCalledWith("globex", "billing"), POLL);
    await vi.waitFor(() => expect(selectedLine()).toContain("globex"), POLL);
  });

  it("keeps the selection by name when a filter hides rows above it", async () => {
    const { selectedLine, ui } = mount(three());
    await press(ui.stdin, DOWN, DOWN);
    expect(selectedLine()).toContain("globex");
    await press(ui.stdin, "/", "e", "\r");
    expect(selectedLine()).toContain("globex");
    ui.unmount();
  });
});
