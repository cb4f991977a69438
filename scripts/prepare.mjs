// `prepare`: builds dist/ after `npm ci` and for an install from git (`npm install -g
// github:<owner>/cwsync#<tag>`). npm installs a git dependency's devDependencies before its prepare
// script — except in a global install, where the nested install inherits `global` and installs
// nothing (npm/cli#8440): the compiler is then missing, and is installed here first. Runs on any Node.
import { execSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..");
const env = { ...process.env, npm_config_global: "false" };
if (!existsSync(join(root, "node_modules", "typescript", "bin", "tsc"))) {
  execSync("npm ci --include=dev --ignore-scripts --no-audit --no-fund --loglevel error", { cwd: root, env, stdio: "inherit" });
}
execSync("npm run build --silent", { cwd: root, env, stdio: "inherit" });
