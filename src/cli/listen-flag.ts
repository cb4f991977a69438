import { UsageError } from "../errors.ts";

/** `--listen` text: `HOST:PORT` (`127.0.0.1:9464`, `[::1]:9464`, `0.0.0.0:9464`); port 0 picks a free one. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/.exec(text.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new UsageError(
      `--listen "${text}" is not HOST:PORT; expected e.g. 127.0.0.1:9464 or [::1]:9464 (the host is required; listening beyond loopback also needs CWSYNC_API_TOKEN for the API)`,
    );
  }
  return { host: m[1] ?? m[2], port };
}
