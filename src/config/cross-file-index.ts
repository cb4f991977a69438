import { asRecord } from "./notification-rules.ts";

/** What the cross-file rules read of a file (`checkCrossFile` reads nothing else of `LoadedFile.data`). */
export interface CrossFileFacts {
  name?: string;
  connectwise: { enabled: boolean; companyId?: string };
}

export function crossFileFacts(data: unknown): CrossFileFacts {
  const d = asRecord(data);
  const cw = asRecord(d?.connectwise);
  return {
    name: typeof d?.name === "string" ? d.name : undefined,
    connectwise: { enabled: cw?.enabled === true, companyId: typeof cw?.companyId === "string" ? cw.companyId : undefined },
  };
}

/**
 * `validate`'s view of a folder for the cross-file rules, without anything per file on the
 * JavaScript heap: the enabled company ID of each file, and whether two files may share a name or a
 * company. Records kept to the end were copied and promoted by the young-generation collections
 * (~5 % of a 10,000-file run), and even one string per file kept made the young generation grow
 * (its collections then cost several times as much each, ~4 %): the IDs are written as UTF-16 code
 * units into one buffer, outside the heap, and the lower-cased ones (ConnectWise IDs compare
 * case-insensitively) are found again through an open-addressing table of 32-bit hashes.
 * A file without a record (`kept`) is one the loader found nothing wrong with, so its `name` is its
 * file name without `.yaml` (rule.name-mismatch): names are compared for the files with a record only.
 */
export class CrossFileIndex {
  private pool = Buffer.allocUnsafe(16 * 1024);
  private used = 0;
  /** Per file: where its company ID is in `pool` (start, then length in bytes; -1: none). */
  private readonly ids: Int32Array;
  /** The lower-cased IDs: per slot the start of one in `pool` (-1: empty), its length and its hash. */
  private slotStart = new Int32Array(1024).fill(-1);
  private slotLength = new Int32Array(1024);
  private slotHash = new Int32Array(1024);
  private keys = 0;
  private sharedCompany = false;

  /** `names`: the group's file names, in code-unit order, each once. */
  constructor(private readonly names: readonly string[]) {
    this.ids = new Int32Array(2 * names.length).fill(-1);
  }

  /** Records file `i`'s enabled company ID, from its parsed data (undefined when the YAML is broken). */
  add(i: number, data: unknown): void {
    const cw = asRecord(asRecord(data)?.connectwise);
    if (cw?.enabled !== true || typeof cw.companyId !== "string") return;
    const id = cw.companyId;
    const start = this.store(id);
    this.ids[2 * i] = start;
    this.ids[2 * i + 1] = 2 * id.length;
    const lower = id.toLowerCase();
    if (!this.insert(lower === id ? start : this.store(lower), 2 * lower.length)) this.sharedCompany = true;
  }

  /**
   * False when no two files share a name or an enabled company ID (then `checkCrossFile` has nothing to
   * say); true when they may (then the caller asks `hasCrossFileConflicts` of every file's facts).
   * `kept`: the files with a record, by their place in `names`, with their facts.
   */
  mayConflict(kept: ReadonlyMap<number, { data: CrossFileFacts }>): boolean {
    if (this.sharedCompany) return true;
    // names without `.yaml` (files given one by one) could give two files the same name
    if (!this.names.every((n) => n.endsWith(".yaml"))) return true;
    const keptNames = new Set<string>();
    for (const [i, c] of kept) {
      const name = c.data.name;
      if (name === undefined) continue;
      if (keptNames.has(name)) return true;
      keptNames.add(name);
      const other = indexOfSorted(this.names, `${name}.yaml`);
      if (other >= 0 && other !== i && !kept.has(other)) return true;
    }
    return false;
  }

  /** The facts of file `i`, one without a record: named `name` (its file's name without `.yaml`). */
  factsOf(i: number, name: string): CrossFileFacts {
    const start = this.ids[2 * i];
    if (start < 0) return { name, connectwise: { enabled: false } };
    return { name, connectwise: { enabled: true, companyId: this.pool.toString("utf16le", start, start + this.ids[2 * i + 1]) } };
  }

  /** Writes `s` at the end of the pool; returns where it starts (it takes `2 * s.length` bytes). */
  private store(s: string): number {
    const need = this.used + 2 * s.length;
    if (need > this.pool.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, 2 * this.pool.length));
      this.pool.copy(bigger, 0, 0, this.used);
      this.pool = bigger;
    }
    const start = this.used;
    this.used += this.pool.write(s, start, "utf16le");
    return start;
  }

  /** Adds the key at `start` (`length` bytes) to the table; false when an equal key is there already. */
  private insert(start: number, length: number): boolean {
    const pool = this.pool;
    // FNV-1a
    let hash = 0x811c9dc5;
    for (let k = start; k < start + length; k++) hash = Math.imul(hash ^ pool[k], 0x01000193);
    const mask = this.slotStart.length - 1;
    let slot = hash & mask;
    for (let other = this.slotStart[slot]; other >= 0; other = this.slotStart[slot]) {
      if (this.slotHash[slot] === hash && this.slotLength[slot] === length && pool.compare(pool, other, other + length, start, start + length) === 0) return false;
      slot = (slot + 1) & mask;
    }
    this.slotStart[slot] = start;
    this.slotLength[slot] = length;
    this.slotHash[slot] = hash;
    if (++this.keys * 2 > this.slotStart.length) this.grow();
    return true;
  }

  private grow(): void {
    const [starts, lengths, hashes] = [this.slotStart, this.slotLength, this.slotHash];
    this.slotStart = new Int32Array(2 * starts.length).fill(-1);
    this.slotLength = new Int32Array(2 * starts.length);
    this.slotHash = new Int32Array(2 * starts.length);
    const mask = this.slotStart.length - 1;
    for (let s = 0; s < starts.length; s++) {
      if (starts[s] < 0) continue;
      let slot = hashes[s] & mask;
      while (this.slotStart[slot] >= 0) slot = (slot + 1) & mask;
      this.slotStart[slot] = starts[s];
      this.slotLength[slot] = lengths[s];
      this.slotHash[slot] = hashes[s];
    }
  }
}

/** Where `value` is in `sorted` (code-unit order), or -1. */
function indexOfSorted(sorted: readonly string[], value: string): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = sorted[mid];
    if (v === value) return mid;
    if (v < value) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
