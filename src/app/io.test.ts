import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { whenDrained } from "./io.ts";

/** A stream that takes each write only when `take()` is called, as a pipe read slowly does. */
function slowStream() {
  const pending: (() => void)[] = [];
  const stream = new Writable({ highWaterMark: 4, write: (_chunk, _enc, cb) => void pending.push(cb) });
  return { stream, take: () => pending.shift()?.() };
}

describe("whenDrained", () => {
  it("resolves at once when nothing waits to be written", async () => {
    const { stream } = slowStream();
    await expect(whenDrained(stream)).resolves.toBeUndefined();
  });

  it("resolves only once the stream took what waited", async () => {
    const { stream, take } = slowStream();
    stream.write("more than four bytes");
    let done = false;
    const p = whenDrained(stream).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    take();
    await p;
    expect(done).toBe(true);
    expect(stream.listenerCount("drain")).toBe(0);
  });

  it("resolves when the stream fails instead of hanging (a reader that went away)", async () => {
    const { stream } = slowStream();
    stream.on("error", () => undefined);
    stream.write("more than four bytes");
    const p = whenDrained(stream);
    stream.destroy(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
    await expect(p).resolves.toBeUndefined();
    expect(stream.listenerCount("error")).toBe(1);
  });
});
