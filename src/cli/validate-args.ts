import type { ValidateOptions } from "./commands/validate.ts";

const FORMATS: readonly string[] = ["text", "json", "github"];

/**
 * The options of `cwsync validate [paths...] [--format F] [--strict]` (argv after `validate`) when it
 * is written in the plain forms that commander reads the same way: paths that do not start with
 * `-`, `--format F` or `--format=F` at most once with a known format, `--strict` at most once.
 * Anything else (help, `--`, an unknown or misspelt option, a bad format, a repeat) is undefined and
 * goes to commander, which says what is wrong. Commander and its dependencies are ~25 ms of every
 * start-up: the CI step, started cold on every push, does without them.
 */
export function plainValidateOptions(args: readonly string[], githubActions: boolean): ValidateOptions | undefined {
  const paths: string[] = [];
  let format: string | undefined;
  let strict = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("-")) paths.push(a);
    else if (a === "--strict" && !strict) strict = true;
    else if (format !== undefined) return undefined;
    else if (a === "--format" && i + 1 < args.length) format = args[++i];
    else if (a.startsWith("--format=")) format = a.slice("--format=".length);
    else return undefined;
    if (format !== undefined && !FORMATS.includes(format)) return undefined;
  }
  return { paths, format: (format ?? (githubActions ? "github" : "text")) as ValidateOptions["format"], strict };
}
