// The parse floor of `cwsync validate`: reads every `*.yaml` directly inside a folder the way the
// loader does (readdir, then per file lstat, open with O_NOFOLLOW|O_NONBLOCK, fstat, read, close)
// and parses each with js-yaml (the loader's fast parser, same schema and call), nothing else.
// Run as a whole process: `node bench/parse-floor.mjs bench/out/customers`; prints the file count.
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from "node:fs";
import { join, resolve } from "node:path";
import jsyaml from "js-yaml";

const dir = resolve(process.argv[2] ?? "customers");
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function read(abs) {
  if (!lstatSync(abs).isFile()) return undefined;
  const fd = openSync(abs, OPEN_FLAGS);
  try {
    const st = fstatSync(fd);
    const buf = Buffer.allocUnsafe(st.size + 1);
    let size = 0;
    for (;;) {
      const n = readSync(fd, buf, size, buf.length - size, null);
      if (n === 0 || size + n === buf.length) { size += n; break; }
      size += n;
    }
    return buf.toString("utf8", 0, size);
  } finally {
    closeSync(fd);
  }
}

let files = 0;
for (const name of readdirSync(dir).filter((n) => n.endsWith(".yaml")).sort()) {
  const text = read(join(dir, name));
  if (text === undefined) continue;
  jsyaml.loadAll(text, undefined, { schema: jsyaml.CORE_SCHEMA, json: false });
  files++;
}
process.stdout.write(`${files}\n`);
