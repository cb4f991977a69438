export interface IdempotencyOptions<T> {
  /** Keys remembered at most; the oldest is forgotten first, but none younger than `keepMs`. */
  max: number;
  /** How long a key is remembered after its first use. */
  ttlMs: number;
  /** A key is kept this long at least: a new key that would push out a younger one is answered `whenFull()`, unrun and unremembered. */
  keepMs?: number;
  whenFull?: () => T;
  now: () => number;
  /** Whether a result is remembered: a request that did nothing (refused as busy) is not, so that a retry with its key runs. */
  keep?: (result: T) => boolean;
}

interface Entry<T> {
  /** What the key was first used for: the same key for another request is a client's mistake. */
  fingerprint: string;
  at: number;
  result: Promise<T>;
}

/**
 * Remembers the result of each request made with an idempotency key (the `Idempotency-Key`
 * header), so that a client may repeat a request whose answer it lost without its effect
 * happening twice: a repeat gets the first request's result, or waits for it while it runs.
 * Bounded in count and age, and in memory: a restarted daemon has forgotten every key.
 */
export class IdempotencyCache<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly opts: IdempotencyOptions<T>) {}

  use(key: string, fingerprint: string, start: () => Promise<T>): { replayed: boolean; result: Promise<T> } | { conflict: string } {
    this.forgetOld();
    const known = this.entries.get(key);
    if (known) return known.fingerprint === fingerprint ? { replayed: true, result: known.result } : { conflict: known.fingerprint };
    while (this.entries.size >= this.opts.max) {
      const [oldest, e] = this.entries.entries().next().value!;
      if (this.opts.whenFull && e.at > this.opts.now() - (this.opts.keepMs ?? 0)) return { replayed: false, result: Promise.resolve(this.opts.whenFull()) };
      this.entries.delete(oldest);
    }
    // a synchronous throw becomes a rejection like any other failure
    const entry: Entry<T> = { fingerprint, at: this.opts.now(), result: (async () => start())() };
    this.entries.set(key, entry);
    const forget = () => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    };
    entry.result.then((r) => (this.opts.keep && !this.opts.keep(r) ? forget() : undefined), forget);
    return { replayed: false, result: entry.result };
  }

  /** Keys are kept in the order of their first use, so the expired ones are at the front. */
  private forgetOld(): void {
    const oldest = this.opts.now() - this.opts.ttlMs;
    for (const [key, e] of this.entries) {
      if (e.at > oldest) break;
      this.entries.delete(key);
    }
  }
}
