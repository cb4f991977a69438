/**
 * The common schedules whose verdict is known without loading cron-parser (issue 16: `validate`
 * starts without it for the usual shapes). cron.ts asks this first; cron-plain.test.ts proves the
 * verdict on every shape it generates equals cron-parser's.
 */

const SINGLE_SECOND_OR_MINUTE = /^(?:[0-9]|[1-5][0-9])$/;
/** A number without a leading zero, or an ascending range of two. */
const ITEM = /^([1-9]?[0-9])(?:-([1-9]?[0-9]))?$/;

/**
 * A `*`, or a list of numbers and ascending ranges (`1,15`, `1-5`) within `lo`–`hi` where no value
 * comes twice (cron-parser refuses `1-5,3`).
 */
function plainList(text: string, lo: number, hi: number): boolean {
  if (text === "*") return true;
  const seen = new Set<number>();
  for (const part of text.split(",")) {
    const m = ITEM.exec(part);
    if (!m) return false;
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (from < lo || to > hi || from > to) return false;
    for (let v = from; v <= to; v++) {
      if (seen.has(v)) return false;
      seen.add(v);
    }
  }
  return true;
}

/**
 * True for the common shapes that are usable without asking cron-parser: one second, one minute,
 * hours, weekdays (0–6) and days of the month as `*` or lists of in-range numbers and ascending
 * ranges with no value twice, every month (`*`, so day 31 exists). Each parses, fires at most
 * hourly (one second, one minute) and has no `#`, so cron-parser's verdict (`checkFields`) on it
 * is "usable": cron-plain.test.ts checks that on every such shape it generates.
 */
export function isPlainSchedule(fields: readonly { text: string }[]): boolean {
  return (
    fields.length === 6 &&
    SINGLE_SECOND_OR_MINUTE.test(fields[0].text) &&
    SINGLE_SECOND_OR_MINUTE.test(fields[1].text) &&
    plainList(fields[2].text, 0, 23) &&
    plainList(fields[3].text, 1, 31) &&
    fields[4].text === "*" &&
    // 0–6 only: 7 is Sunday again, and cron-parser's duplicate check treats it apart
    plainList(fields[5].text, 0, 6)
  );
}
