import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

/** Starts `server` on host:port (0 = any free port) and returns its origin, `http://127.0.0.1:43123`. */
export async function listenOn(server: Server, host: string, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return `http://${address.family === "IPv6" ? `[${address.address}]` : address.address}:${address.port}`;
}
