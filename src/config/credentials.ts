import type { FileContext } from "./file-context.ts";
import { displayPath } from "./hints.ts";
import type { PathSegment } from "./locate.ts";

/** A key ending in one of these words (any case, `-`/`_`/space between parts) names a secret. */
const SECRET_KEY = /(pass(word|wd)|pwd|secret|token|api[-_ ]?key|private[-_ ]?key|public[-_ ]?key|credentials?|authorization)$/i;
const PEM_PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/;
/** ConnectWise API credentials written as `company+publicKey:privateKey`. */
const CW_CREDENTIAL = /^[A-Za-z0-9_.-]+\+[A-Za-z0-9]{10,}:[A-Za-z0-9]{10,}$/;

/** Keys repeat across files (`name`, `connectwise` …): each is tested once (a bounded cache). */
const keyVerdicts = new Map<string, boolean>();

export function isCredentialKey(key: string): boolean {
  let verdict = keyVerdicts.get(key);
  if (verdict === undefined) {
    verdict = SECRET_KEY.test(key);
    if (keyVerdicts.size < 4096) keyVerdicts.set(key, verdict);
  }
  return verdict;
}

export function isCredentialValue(value: string): boolean {
  return (value.includes("-----BEGIN") && PEM_PRIVATE_KEY.test(value)) || (value.includes("+") && CW_CREDENTIAL.test(value.trim()));
}

const HINT = "credentials come only from the environment (CW_PRIVATE_KEY, LMPI_SECRET_KEY, …): remove it, and rotate it if it was ever committed";

/** Reports every credential-like key or value anywhere in the document. */
export function findCredentials(ctx: FileContext, data: unknown): void {
  // one path, extended and shortened as the walk goes, and no closure or set per file: every file is walked
  walk(ctx, data, []);
}

function walk(ctx: FileContext, value: unknown, path: PathSegment[]): void {
  if (typeof value === "string") {
    if (isCredentialValue(value)) {
      ctx.report({ code: "rule.credential", message: `\`${displayPath(path)}\` holds what looks like a credential`, hint: HINT }, [...path]);
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      walk(ctx, value[i], path);
      path.pop();
    }
  } else if (value !== null && typeof value === "object") {
    for (const k in value) {
      if (!Object.hasOwn(value, k)) continue;
      path.push(k);
      if (isCredentialKey(k)) {
        ctx.report({ code: "rule.credential", message: `\`${displayPath(path)}\` looks like a credential key`, hint: HINT }, [...path], { atKey: true });
      } else {
        walk(ctx, (value as Record<string, unknown>)[k], path);
      }
      path.pop();
    }
  }
}
