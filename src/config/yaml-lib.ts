import { createRequire } from "node:module";

type YamlLib = typeof import("yaml");

let lib: YamlLib | undefined;

/**
 * The `yaml` package (positions, CST; ~25 ms to load), loaded on first use: a clean file is read
 * by the fast path (js-yaml) and never needs it, so a `validate` of clean files never loads it.
 * Loaded synchronously (the loader is synchronous) through its CommonJS build; its nodes are
 * recognised across builds (`isScalar` and the others test a `Symbol.for` key).
 */
export function yamlLib(): YamlLib {
  return (lib ??= createRequire(import.meta.url)("yaml") as YamlLib);
}
