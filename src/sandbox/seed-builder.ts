import type { AgreementStatus } from "../ports/connectwise.ts";
import {
  createSandboxState, nextId, SEED_INFO, type Collection, type ConnectWiseSeed, type SandboxAddition, type SandboxAgreement,
  type SandboxBoard, type SandboxCatalogItem, type SandboxCompany, type SandboxState,
} from "./model.ts";

export const COMPANY_ACTIVE = { id: 1, name: "Active" } as const;
export const COMPANY_INACTIVE = { id: 2, name: "Inactive" } as const;

/** FNV-1a: a stable number from a string, for quantities and prices that look real and never change between runs. */
export function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const round2 = (n: number) => Math.round(n * 100) / 100;
const key = (...parts: (string | number)[]) => parts.map((p) => String(p).toLowerCase()).join("\u0000");

/** Builds seed records with ids in each collection's range and de-duplicated names (as ConnectWise's collation sees them). */
export class SeedBuilder {
  private readonly state: SandboxState;
  private readonly ids = new Map<Collection, number>();
  private readonly types = new Map<string, { id: number; name: string }>();
  private readonly agreementsByKey = new Map<string, SandboxAgreement>();
  private readonly catalogByIdentifier = new Map<string, SandboxCatalogItem>();

  constructor(base: ConnectWiseSeed = {}) {
    this.state = createSandboxState(base);
    for (const t of this.state.agreementTypes) this.types.set(key(t.name), { id: t.id, name: t.name });
    for (const a of this.state.agreements) this.agreementsByKey.set(key(a.company.id, a.type.name, a.name, a.agreementStatus), a);
    for (const c of this.state.catalog) this.catalogByIdentifier.set(key(c.identifier), c);
  }

  private id(collection: Collection): number {
    const id = this.ids.get(collection) ?? nextId(this.state, collection);
    this.ids.set(collection, id + 1);
    return id;
  }

  agreementType(name: string): { id: number; name: string } {
    const found = this.types.get(key(name));
    if (found) return found;
    const t = { id: this.id("agreementTypes"), name };
    this.state.agreementTypes.push({ ...t, inactiveFlag: false, _info: { ...SEED_INFO } });
    this.types.set(key(name), t);
    return t;
  }

  company(identifier: string, name: string, opts: { inactive?: boolean; deleted?: boolean } = {}): SandboxCompany {
    const c: SandboxCompany = {
      id: this.id("companies"),
      identifier,
      name,
      status: { ...(opts.inactive ? COMPANY_INACTIVE : COMPANY_ACTIVE) },
      deletedFlag: opts.deleted ?? false,
      _info: { ...SEED_INFO },
    };
    this.state.companies.push(c);
    return c;
  }

  /** The company's agreement of this type, name and status; created on first use. */
  agreement(company: SandboxCompany, typeName: string, name: string, status: AgreementStatus = "Active"): SandboxAgreement {
    const k = key(company.id, typeName, name, status);
    const found = this.agreementsByKey.get(k);
    if (found) return found;
    const cancelled = status === "Cancelled";
    const a: SandboxAgreement = {
      id: this.id("agreements"),
      name,
      type: { ...this.agreementType(typeName) },
      company: { id: company.id, identifier: company.identifier, name: company.name },
      agreementStatus: status,
      cancelledFlag: cancelled,
      startDate: cancelled ? "2023-01-01T00:00:00Z" : "2024-01-01T00:00:00Z",
      dateCancelled: cancelled ? "2024-12-31T00:00:00Z" : null,
      noEndingDateFlag: !cancelled,
      _info: { ...SEED_INFO },
    };
    this.state.agreements.push(a);
    this.agreementsByKey.set(k, a);
    return a;
  }

  catalogItem(identifier: string, description: string): SandboxCatalogItem {
    const found = this.catalogByIdentifier.get(key(identifier));
    if (found) return found;
    const price = round2(2 + (stableHash(identifier) % 800) / 100);
    const item: SandboxCatalogItem = {
      id: this.id("catalog"),
      identifier,
      description: description.slice(0, 60),
      inactiveFlag: false,
      productClass: "Agreement",
      price,
      cost: round2(price * 0.7),
      _info: { ...SEED_INFO },
    };
    this.state.catalog.push(item);
    this.catalogByIdentifier.set(key(identifier), item);
    return item;
  }

  addition(agreement: SandboxAgreement, item: SandboxCatalogItem, quantity: number, opts: { cancelled?: boolean } = {}): SandboxAddition {
    const a: SandboxAddition = {
      id: this.id("additions"),
      agreementId: agreement.id,
      product: { id: item.id, identifier: item.identifier },
      quantity,
      lessIncluded: 0,
      unitPrice: item.price ?? 0,
      unitCost: item.cost ?? 0,
      billCustomer: "Billable",
      effectiveDate: "2024-01-01T00:00:00Z",
      cancelledDate: opts.cancelled ? "2024-12-31T00:00:00Z" : null,
      agreementStatus: opts.cancelled ? "Cancelled" : "Active",
      description: item.description,
      _info: { ...SEED_INFO },
    };
    this.state.additions.push(a);
    return a;
  }

  /** A service board with its statuses (New first: the default of new tickets); reused when it exists. */
  board(name: string, statuses: readonly string[]): SandboxBoard {
    let board = this.state.boards.find((b) => b.name.toLowerCase() === name.toLowerCase());
    if (!board) {
      board = { id: this.id("boards"), name, inactiveFlag: false, _info: { ...SEED_INFO } };
      this.state.boards.push(board);
    }
    const own = this.state.statuses.filter((s) => s.board.id === board.id);
    for (const status of statuses) {
      if (own.some((s) => s.name.toLowerCase() === status.toLowerCase())) continue;
      const s = { id: this.id("statuses"), board: { id: board.id, name: board.name }, name: status, sort: own.length, closedStatus: /^closed$/i.test(status), _info: { ...SEED_INFO } };
      this.state.statuses.push(s);
      own.push(s);
    }
    return board;
  }

  hasBoards(): boolean {
    return this.state.boards.length > 0;
  }

  build(): ConnectWiseSeed {
    return this.state;
  }
}
