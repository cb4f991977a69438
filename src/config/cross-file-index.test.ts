import { describe, expect, it } from "vitest";
import { CrossFileIndex } from "./cross-file-index.ts";

const data = (companyId: unknown, enabled: unknown = true) => ({ connectwise: { enabled, companyId } });

describe("CrossFileIndex", () => {
  it("finds two enabled company IDs that differ only in case, among thousands, as a set of lower-cased strings does", () => {
    // IDs whose lower-case forms are longer (İ), non-ASCII, astral and lone surrogates, and many of them (the table grows)
    const pick = ["C", "c", "İ", "i̇", "é", "É", "ß", "\u{1F600}", "\uD800", "-", "0", "Z"];
    let seed = 7;
    const random = () => ((seed = Math.imul(seed, 48271) % 2147483647) & 0xffff) / 0x10000;
    for (let round = 0; round < 40; round++) {
      const count = round < 30 ? 20 : 3000;
      const ids = Array.from({ length: count }, (_, i) => {
        const id = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick[Math.floor(random() * pick.length)]).join("");
        // thousands of distinct IDs (the table grows), and in every other round one in another case
        return round < 30 ? id : `${id}#${i}`;
      });
      if (round >= 30 && round % 2 === 1) ids.push(ids[1234].toUpperCase());
      const names = ids.map((_, i) => `c-${String(i).padStart(5, "0")}.yaml`);
      const index = new CrossFileIndex(names);
      ids.forEach((id, i) => index.add(i, data(id)));
      const shared = new Set(ids.map((id) => id.toLowerCase())).size < ids.length;
      if (round >= 30) expect(shared).toBe(round % 2 === 1);
      expect(index.mayConflict(new Map())).toBe(shared);
      ids.forEach((id, i) => expect(index.factsOf(i, "n").connectwise).toEqual({ enabled: true, companyId: id }));
    }
  });

  it("leaves out disabled integrations and IDs that are not strings", () => {
    const index = new CrossFileIndex(["a.yaml", "b.yaml", "c.yaml", "d.yaml"]);
    index.add(0, data("X1", false));
    index.add(1, data("x1"));
    index.add(2, data(42));
    index.add(3, undefined);
    expect(index.mayConflict(new Map())).toBe(false);
    expect([0, 1, 2, 3].map((i) => index.factsOf(i, "n").connectwise)).toEqual([{ enabled: false }, { enabled: true, companyId: "x1" }, { enabled: false }, { enabled: false }]);
  });
});
