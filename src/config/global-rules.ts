import type { FileContext } from "./file-context.ts";
import { didYouMean } from "./hints.ts";
import { asRecord, checkNotificationBlock } from "./notification-rules.ts";

/** The semantic rules of `_global.yaml`. */
export function checkGlobal(ctx: FileContext, data: unknown): void {
  const g = asRecord(data);
  const block = asRecord(g?.notifications);
  if (!g || !block) return;
  checkNotificationBlock(ctx, block, ["notifications"]);
  const catalogue = Object.keys(asRecord(g.products) ?? {});
  const billed = asRecord(block.billing)?.products;
  if (!Array.isArray(billed)) return;
  billed.forEach((p, i) => {
    if (typeof p === "string" && !catalogue.includes(p)) {
      ctx.report(
        { code: "rule.unknown-product", message: `billed product \`${p}\` is not in \`products\``, hint: didYouMean(p, catalogue) ?? "add it to `products` or remove it" },
        ["notifications", "billing", "products", i],
      );
    }
  });
}
