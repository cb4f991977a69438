import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** What Node answers a client that was too slow, before it closes the connection. */
const TIMED_OUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";

export interface SlowClientLimits {
  /** From the connection (or the previous answer) to a request's complete headers. */
  headersTimeoutMs: number;
  /** From the same start to the request's complete body. */
  requestTimeoutMs: number;
  /** How long a kept-alive connection may wait before it starts its next request (Node closes it then). */
  keepAliveTimeoutMs: number;
}

interface Watch {
  timer?: NodeJS.Timeout;
  /** When the request being read started (the connection, or the end of the previous answer). */
  since: number;
  /** Requests read and not yet answered. */
  open: number;
}

/**
 * Node's header and request timeouts, kept with a timer per connection instead of Node's check of
 * every connection (`connectionsCheckingInterval`), which wakes the daemon also when no connection
 * is open. A client that trickles its headers or its body is answered 408 and cut off, as Node
 * does; a request that waits for its answer (a send-now) is not a slow client.
 */
export function guardSlowClients(server: Server, limits: SlowClientLimits, now: () => number = Date.now): void {
  const watched = new WeakMap<Socket, Watch>();
  const arm = (socket: Socket, w: Watch, ms: number, late: () => boolean) => {
    clearTimeout(w.timer);
    w.timer = setTimeout(() => {
      if (!late() || socket.destroyed) return;
      if (socket.writable) socket.write(TIMED_OUT);
      socket.destroy();
    }, Math.max(0, ms));
    w.timer.unref();
  };
  // the headers are late while no request of the connection is being answered
  const awaitHeaders = (socket: Socket, w: Watch, ms: number) => arm(socket, w, ms, () => w.open === 0);

  server.on("connection", (socket: Socket) => {
    const w: Watch = { since: now(), open: 0 };
    watched.set(socket, w);
    awaitHeaders(socket, w, limits.headersTimeoutMs);
    socket.once("close", () => clearTimeout(w.timer));
  });
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const w = watched.get(socket);
    if (!w) return;
    w.open++;
    clearTimeout(w.timer);
    if (!req.complete) arm(socket, w, limits.requestTimeoutMs - (now() - w.since), () => !req.complete && !res.headersSent);
    res.once("close", () => {
      w.open--;
      if (w.open > 0 || socket.destroyed) return;
      // the next request may start up to keepAliveTimeoutMs later, and then has headersTimeoutMs
      w.since = now();
      awaitHeaders(socket, w, limits.keepAliveTimeoutMs + limits.headersTimeoutMs);
    });
  });
}
