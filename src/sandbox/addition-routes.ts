import { countReply, listReply, serve } from "./list-query.ts";
import { nextId, type BillCustomer, type SandboxAddition, type SandboxState } from "./model.ts";
import { replies, type ValidationError } from "./replies.ts";
import type { Handler, RequestContext, Resource, Route } from "./route.ts";

const round2 = (n: number) => Math.round(n * 100) / 100;

export const ADDITIONS: Resource<SandboxAddition> = {
  fields: ["id", "product/identifier", "product/id", "agreementStatus", "quantity", "billCustomer", "effectiveDate", "cancelledDate", "agreementId", "lastUpdated"],
  // billedQuantity is derived, as in ConnectWise: what is invoiced beyond the included units
  wire: (a) => {
    const billedQuantity = a.quantity - a.lessIncluded;
    return { ...a, billedQuantity, extPrice: round2(billedQuantity * a.unitPrice), extCost: round2(billedQuantity * a.unitCost) };
  },
};

type Rule = (value: unknown, state: SandboxState, field: string) => { value: unknown } | ValidationError;

const invalid = (field: string, message: string): ValidationError => ({ code: "InvalidField", message, field });

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

const num: Rule = (v, _s, f) => (typeof v === "number" && Number.isFinite(v) ? { value: v } : invalid(f, `${f} must be a number`));

const text = (max: number): Rule => (v, _s, f) => {
  if (v === null) return { value: undefined };
  if (typeof v !== "string") return invalid(f, `${f} must be a string`);
  return v.length > max ? invalid(f, `${f} cannot be longer than ${max} characters`) : { value: v };
};

/** Dates of agreement lines are dates: stored at midnight UTC whatever time was sent. */
const date = (nullable: boolean): Rule => (v, _s, f) => {
  if (v === null && nullable) return { value: null };
  const ok = typeof v === "string" && /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})?)?$/.test(v) && !Number.isNaN(Date.parse(v));
  return ok ? { value: `${(v as string).slice(0, 10)}T00:00:00Z` } : { code: "UnsupportedFormat", message: `Unsupported format applied to ${f}`, field: f };
};

const BILL_CUSTOMER: readonly BillCustomer[] = ["Billable", "DoNotBill", "NoCharge"];

const product: Rule = (v, state, f) => {
  if (!isObject(v) || (v.id === undefined && v.identifier === undefined)) {
    return { code: "MissingRequiredField", message: "product is required.", field: f };
  }
  const item = typeof v.id === "number"
    ? state.catalog.find((c) => c.id === v.id)
    : typeof v.identifier === "string" ? state.catalog.find((c) => c.identifier.toLowerCase() === (v.identifier as string).toLowerCase()) : undefined;
  if (!item) return invalid(f, `Product ${JSON.stringify(v.id ?? v.identifier)} was not found in the product catalog.`);
  // as in ConnectWise: a bundle cannot be an agreement addition
  if (item.productClass === "Bundle") return invalid(f, "Bundle products cannot be added to an agreement.");
  return { value: { id: item.id, identifier: item.identifier } };
};

/** What a POST may set and a PATCH may replace, by case-sensitive name. */
const RULES: Record<string, Rule> = {
  product,
  quantity: num,
  lessIncluded: num,
  unitPrice: num,
  unitCost: num,
  billCustomer: (v, _s, f) => (BILL_CUSTOMER.includes(v as BillCustomer) ? { value: v } : invalid(f, `${f} must be one of ${BILL_CUSTOMER.join(", ")}`)),
  effectiveDate: date(false),
  cancelledDate: date(true),
  description: text(60),
  invoiceDescription: text(6000),
  serialNumber: text(50),
  taxableFlag: (v, _s, f) => (typeof v === "boolean" ? { value: v } : invalid(f, `${f} must be true or false`)),
};

const NULLABLE = new Set(["cancelledDate", "description", "invoiceDescription", "serialNumber"]);

function statusOf(a: SandboxAddition, now: Date): SandboxAddition["agreementStatus"] {
  return a.cancelledDate !== null && Date.parse(a.cancelledDate) <= now.getTime() ? "Cancelled" : "Active";
}

function info(ctx: RequestContext, created: boolean): NonNullable<SandboxAddition["_info"]> {
  const at = ctx.now().toISOString().replace(/\.\d{3}Z$/, "Z");
  return { lastUpdated: at, updatedBy: ctx.member, ...(created ? { dateEntered: at, enteredBy: ctx.member } : {}) };
}

const agreementOf = (ctx: RequestContext, id: string) => ctx.state.agreements.find((a) => a.id === Number(id));

const list: Handler = (ctx, [id]) => {
  if (!agreementOf(ctx, id)) return replies.notFound("Agreement", Number(id));
  return listReply(ctx, ctx.state.additions.filter((a) => a.agreementId === Number(id)), ADDITIONS);
};

const count: Handler = (ctx, [id]) => {
  if (!agreementOf(ctx, id)) return replies.notFound("Agreement", Number(id));
  return countReply(ctx, ctx.state.additions.filter((a) => a.agreementId === Number(id)), ADDITIONS);
};

const one: Handler = (ctx, [id, aid]) => {
  if (!agreementOf(ctx, id)) return replies.notFound("Agreement", Number(id));
  const a = ctx.state.additions.find((x) => x.id === Number(aid) && x.agreementId === Number(id));
  return a ? replies.ok(serve(ctx, a, ADDITIONS)) : replies.notFound("Addition", Number(aid));
};

const create: Handler = (ctx, [id]) => {
  const agreement = agreementOf(ctx, id);
  if (!agreement) return replies.notFound("Agreement", Number(id));
  const body = isObject(ctx.body) ? ctx.body : {};
  const errors: ValidationError[] = [];
  const set: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(RULES)) {
    if (body[field] === undefined) {
      if (field === "product" || field === "billCustomer") errors.push({ code: "MissingRequiredField", message: `${field} is required.`, field });
      continue;
    }
    const r = rule(body[field], ctx.state, field);
    if ("code" in r) errors.push(r);
    else set[field] = r.value;
  }
  if (errors.length) return replies.invalidObject("addition", errors);
  const item = ctx.state.catalog.find((c) => c.id === (set.product as { id: number }).id);
  const now = ctx.now();
  const addition: SandboxAddition = {
    id: nextId(ctx.state, "additions"),
    agreementId: agreement.id,
    product: set.product as SandboxAddition["product"],
    quantity: (set.quantity as number | undefined) ?? 1,
    lessIncluded: (set.lessIncluded as number | undefined) ?? 0,
    unitPrice: (set.unitPrice as number | undefined) ?? item?.price ?? 0,
    unitCost: (set.unitCost as number | undefined) ?? item?.cost ?? 0,
    billCustomer: set.billCustomer as BillCustomer,
    effectiveDate: (set.effectiveDate as string | undefined) ?? `${now.toISOString().slice(0, 10)}T00:00:00Z`,
    cancelledDate: (set.cancelledDate as string | null | undefined) ?? null,
    agreementStatus: "Active",
    ...(set.description !== undefined ? { description: set.description as string } : { description: item?.description }),
    ...(set.invoiceDescription !== undefined ? { invoiceDescription: set.invoiceDescription as string } : {}),
    ...(set.serialNumber !== undefined ? { serialNumber: set.serialNumber as string } : {}),
    ...(set.taxableFlag !== undefined ? { taxableFlag: set.taxableFlag as boolean } : {}),
    _info: info(ctx, true),
  };
  addition.agreementStatus = statusOf(addition, now);
  ctx.state.additions.push(addition);
  return replies.created(serve(ctx, addition, ADDITIONS));
};

/**
 * JSON Patch, ConnectWise dialect: bare or `/`-prefixed case-sensitive paths. A sub-path of a
 * reference (`product/identifier`) answers 200 without changing anything, as ConnectWise does.
 */
const patch: Handler = (ctx, [id, aid]) => {
  if (!agreementOf(ctx, id)) return replies.notFound("Agreement", Number(id));
  const a = ctx.state.additions.find((x) => x.id === Number(aid) && x.agreementId === Number(id));
  if (!a) return replies.notFound("Addition", Number(aid));
  if (!Array.isArray(ctx.body)) {
    return replies.invalidObject("addition", [invalid("body", "The request body must be an array of patch operations ({op, path, value}).")]);
  }
  const errors: ValidationError[] = [];
  const changes: [string, unknown][] = [];
  for (const op of ctx.body) {
    const verb = isObject(op) && typeof op.op === "string" ? op.op.toLowerCase() : "";
    const path = isObject(op) && typeof op.path === "string" ? op.path.replace(/^\//, "") : "";
    if (!["add", "replace", "remove"].includes(verb)) {
      errors.push(invalid("op", `Unsupported patch operation ${JSON.stringify(isObject(op) ? op.op : op)}.`));
    } else if (path.includes("/") && path.split("/")[0] in RULES) {
      continue;
    } else if (!(path in RULES)) {
      errors.push(invalid(path, `${path} is not a valid field name for addition.`));
    } else if (verb === "remove") {
      if (NULLABLE.has(path)) changes.push([path, path === "cancelledDate" ? null : undefined]);
      else errors.push(invalid(path, `${path} cannot be removed.`));
    } else {
      const r = RULES[path]((op as Record<string, unknown>).value, ctx.state, path);
      if ("code" in r) errors.push(r);
      else changes.push([path, r.value]);
    }
  }
  if (errors.length) return replies.invalidObject("addition", errors);
  const record = a as unknown as Record<string, unknown>;
  for (const [field, value] of changes) {
    if (value === undefined) delete record[field];
    else record[field] = value;
  }
  a.agreementStatus = statusOf(a, ctx.now());
  a._info = { ...a._info, ...info(ctx, false) };
  return replies.ok(serve(ctx, a, ADDITIONS));
};

export const additionRoutes: Route[] = [
  { pattern: /^\/finance\/agreements\/(\d+)\/additions$/i, methods: { GET: list, POST: create } },
  { pattern: /^\/finance\/agreements\/(\d+)\/additions\/count$/i, methods: { GET: count } },
  { pattern: /^\/finance\/agreements\/(\d+)\/additions\/(\d+)$/i, methods: { GET: one, PATCH: patch } },
];
