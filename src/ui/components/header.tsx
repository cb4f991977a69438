import { Box, Text } from "ink";
import type { DaemonSnapshot } from "../../daemon/snapshot.ts";
import { STATE_COLOR } from "../customer-rows.ts";
import { durationText, shortRevision, shortTime } from "../format.ts";
import { Tone } from "./tone.tsx";

/** Lines the header always takes, so the table knows how many rows it has left. */
export const HEADER_LINES = 4;

const STATE_ORDER = ["invalid", "failing", "degraded", "pending", "suspended", "ready", "removed"];

function RepoLine({ repo }: { repo: DaemonSnapshot["repo"] }) {
  const sync = repo.refused ? (
    <Tone color="yellow">
      refused unsigned head {shortRevision(repo.refused.revision)}: {repo.refused.reason}
    </Tone>
  ) : repo.syncError ? (
    <Tone color="red">
      git sync failing: {repo.syncError}
      {repo.lastSync ? ` (last good ${shortTime(repo.lastSync)})` : ""}
    </Tone>
  ) : (
    <Text>synced {shortTime(repo.lastSync)}</Text>
  );
  const attempted = repo.attempted && repo.attempted !== repo.applied ? <Tone color="yellow"> attempted {shortRevision(repo.attempted)}</Tone> : null;
  // on this line, early, rather than a line of its own: the header's height is fixed (HEADER_LINES)
  const rewound = repo.rewound ? (
    <>
      {" · "}
      <Tone color="yellow">
        history rewound from {shortRevision(repo.rewound.from)} at {shortTime(repo.rewound.at)}
      </Tone>
    </>
  ) : null;
  return (
    <Text wrap="truncate">
      <Text bold>cwsync</Text> applied {shortRevision(repo.applied)}
      {attempted}
      {rewound} · {sync} · {repo.source}
      {repo.branch ? `@${repo.branch}` : ""}
    </Text>
  );
}

function ConnectWiseLine({ cw }: { cw: DaemonSnapshot["connectwise"] }) {
  const requests =
    Object.entries(cw.requests)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([status, n]) => `${status} ${n}`)
      .join(" · ") || "none yet";
  return (
    <Text wrap="truncate">
      ConnectWise {cw.healthy ? <Tone color="green">healthy</Tone> : <Tone color="red">unhealthy{cw.lastError ? `: ${cw.lastError}` : ""}</Tone>} · requests {requests} · rate-limit
      waits {cw.rateLimitWaits} · {cw.target}
    </Text>
  );
}

/** The snapshot without its customers: a prop that stays small (React's dev build diffs props). */
export type HeaderInfo = Omit<DaemonSnapshot, "customers"> & { total: number };

function ReconcileLine({ s }: { s: HeaderInfo }) {
  const last = s.lastReconcile;
  return (
    <Text wrap="truncate">
      reconcile{" "}
      {last ? (
        <>
          last {shortTime(last.at)} <Tone color={last.ok ? "green" : "red"}>{last.ok ? "ok" : "failed"}</Tone> ({last.reason}, {durationText(last.durationMs)})
        </>
      ) : (
        "not yet"
      )}{" "}
      · next {shortTime(s.nextReconcile)}
      {s.lastPoll ? (
        <>
          {" "}
          · poll {shortTime(s.lastPoll.at)} <Tone color={s.lastPoll.ok ? "green" : "red"}>{s.lastPoll.ok ? "ok" : "failed"}</Tone>
        </>
      ) : null}
    </Text>
  );
}

/** The last billing audit's counts, on the states line (the header's height is fixed). */
function AuditCountsText({ audit }: { audit: DaemonSnapshot["audit"] }) {
  if (!audit) return null;
  return (
    <Text>
      {" · audit "}
      <Tone color={audit.unbilledSeats > 0 ? "yellow" : "green"}>{audit.unbilledSeats} unbilled seats</Tone>
      {" · "}
      <Tone color={audit.drift > 0 ? "yellow" : "green"}>{audit.drift} drifted</Tone>
      {audit.error ? <Tone color="red"> (last audit failed)</Tone> : null}
    </Text>
  );
}

function StatesLine({ states, total, audit }: { states: Record<string, number>; total: number; audit?: DaemonSnapshot["audit"] }) {
  const names = [...STATE_ORDER.filter((s) => states[s]), ...Object.keys(states).filter((s) => !STATE_ORDER.includes(s) && states[s])];
  return (
    <Text wrap="truncate">
      customers {total}
      {names.map((name) => (
        <Text key={name}>
          {" · "}
          <Tone color={STATE_COLOR[name]}>{name}</Tone> {states[name]}
        </Text>
      ))}
      <AuditCountsText audit={audit} />
    </Text>
  );
}

/** Revision, git sync, ConnectWise health and budget, reconcile timing, customers by state and the billing audit's counts. */
export function Header({ snapshot }: { snapshot: HeaderInfo | undefined }) {
  if (!snapshot) {
    return (
      <Box flexDirection="column" height={HEADER_LINES}>
        <Text bold>cwsync</Text>
        <Text dimColor>waiting for the daemon's first status…</Text>
      </Box>
    );
  }
  return (
    <Box flexDirection="column" height={HEADER_LINES}>
      <RepoLine repo={snapshot.repo} />
      <ConnectWiseLine cw={snapshot.connectwise} />
      <ReconcileLine s={snapshot} />
      <StatesLine states={snapshot.states} total={snapshot.total} audit={snapshot.audit} />
    </Box>
  );
}
