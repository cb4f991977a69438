import { cleanup, render } from "ink-testing-library";
import { afterEach, describe, expect, it } from "vitest";
import { Header, type HeaderInfo } from "./header.tsx";

const APPLIED = "c0ffee0000000000000000000000000000000001";
const BEFORE = "bead000000000000000000000000000000000002";

function info(repo: Partial<HeaderInfo["repo"]> = {}): HeaderInfo {
  return {
    at: "2026-01-05T06:00:00.000Z",
    repo: { source: "example/customers", branch: "main", applied: APPLIED, attempted: APPLIED, lastSync: "2026-01-05T05:59:00.000Z", ...repo },
    connectwise: { target: "cw.example", healthy: true, requests: {}, rateLimitWaits: 0 },
    states: { ready: 1 },
    total: 1,
  };
}

afterEach(cleanup);

describe("the dashboard header", () => {
  it("warns on the repository line when the daemon applied a rewound branch, and stays quiet otherwise", () => {
    const rewound = render(<Header snapshot={info({ rewound: { from: BEFORE, to: APPLIED, at: "2026-01-05T05:58:00.000Z" } })} />);
    const line = rewound.lastFrame()!.split("\n")[0];
    expect(line).toContain("cwsync applied c0ffee000000 · history rewound from bead00000000 at 01-05 05:58Z · synced");

    const plain = render(<Header snapshot={info()} />);
    expect(plain.lastFrame()).not.toContain("rewound");
    expect(plain.lastFrame()!.split("\n")[0]).toContain("cwsync applied c0ffee000000 · synced");
  });
});
