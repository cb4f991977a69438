import { countReply, listReply, serve } from "./list-query.ts";
import { nextId, type SandboxNote, type SandboxState, type SandboxStatus, type SandboxTicket } from "./model.ts";
import { replies, type ValidationError } from "./replies.ts";
import type { Handler, RequestContext, Resource, Route } from "./route.ts";

export const TICKETS: Resource<SandboxTicket> = {
  fields: ["id", "summary", "company/id", "company/identifier", "company/name", "board/name", "board/id", "status/name", "status/id", "closedFlag", "recordType", "externalXRef", "lastUpdated"],
};

export const NOTES: Resource<SandboxNote> = {
  fields: ["id", "ticketId", "text", "detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag", "lastUpdated"],
};

export const MAX_SUMMARY = 100;
const RECORD_TYPES: readonly SandboxTicket["recordType"][] = ["ServiceTicket", "ProjectTicket", "ProjectIssue"];
const NOTE_PLACE = "Please choose where to display the notes in order to save this record.";

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
const missing = (field: string): ValidationError => ({ code: "MissingRequiredField", message: `${field} is required.`, field });
const invalid = (field: string, message: string): ValidationError => ({ code: "InvalidField", message, field });
const sameName = (a: string, b: unknown) => typeof b === "string" && a.toLowerCase() === b.toLowerCase();

function stamp(ctx: RequestContext) {
  const at = ctx.now().toISOString().replace(/\.\d{3}Z$/, "Z");
  return { at, info: { lastUpdated: at, updatedBy: ctx.member, dateEntered: at, enteredBy: ctx.member } };
}

/** A reference written `{id}` or `{<key>}` (name or identifier), resolved case-insensitively like SQL Server. */
function byRef<T extends { id: number }>(rows: readonly T[], ref: Record<string, unknown>, key: keyof T & string): T | undefined {
  if (typeof ref.id === "number") return rows.find((r) => r.id === ref.id);
  return rows.find((r) => sameName(String(r[key]), ref[key]));
}

function defaultStatus(state: SandboxState, boardId: number): SandboxStatus | undefined {
  const own = state.statuses.filter((s) => s.board.id === boardId).sort((a, b) => a.sort - b.sort);
  return own.find((s) => s.name.toLowerCase() === "new") ?? own[0];
}

type NoteFlags = Pick<SandboxNote, "detailDescriptionFlag" | "internalAnalysisFlag" | "resolutionFlag">;
const only = (flag: keyof NoteFlags): NoteFlags => ({ detailDescriptionFlag: false, internalAnalysisFlag: false, resolutionFlag: false, [flag]: true });

function addNote(ctx: RequestContext, ticketId: number, text: string, flags: NoteFlags): SandboxNote {
  const { at, info } = stamp(ctx);
  const note: SandboxNote = { id: nextId(ctx.state, "notes"), ticketId, text, ...flags, dateCreated: at, createdBy: ctx.member, _info: info };
  ctx.state.notes.push(note);
  return note;
}

const createTicket: Handler = (ctx) => {
  const b = isObject(ctx.body) ? ctx.body : {};
  const { state } = ctx;
  const errors: ValidationError[] = [];
  if (b.summary === undefined || b.summary === null || b.summary === "") errors.push(missing("summary"));
  else if (typeof b.summary !== "string") errors.push(invalid("summary", "summary must be a string"));
  else if (b.summary.length > MAX_SUMMARY) errors.push(invalid("summary", `summary cannot be longer than ${MAX_SUMMARY} characters`));
  const company = isObject(b.company) ? byRef(state.companies, b.company, "identifier") : undefined;
  if (!isObject(b.company)) errors.push(missing("company"));
  else if (!company) errors.push(invalid("company", `Company ${JSON.stringify(b.company.id ?? b.company.identifier)} was not found.`));
  // no board: the member's default board, here the first one
  const board = isObject(b.board) ? byRef(state.boards, b.board, "name") : [...state.boards].sort((x, y) => x.id - y.id)[0];
  if (!board) errors.push(invalid("board", `Board ${JSON.stringify(isObject(b.board) ? (b.board.id ?? b.board.name) : null)} was not found.`));
  const statuses = board ? state.statuses.filter((s) => s.board.id === board.id) : [];
  const status = isObject(b.status) ? byRef(statuses, b.status, "name") : board ? defaultStatus(state, board.id) : undefined;
  if (board && !status) errors.push(invalid("status", `Status ${JSON.stringify(isObject(b.status) ? (b.status.id ?? b.status.name) : null)} is not a status of board ${board.name}.`));
  const recordType = b.recordType ?? "ServiceTicket";
  if (!RECORD_TYPES.includes(recordType as SandboxTicket["recordType"])) errors.push(invalid("recordType", `recordType must be one of ${RECORD_TYPES.join(", ")}`));
  if (b.externalXRef !== undefined && (typeof b.externalXRef !== "string" || b.externalXRef.length > 100)) {
    errors.push(invalid("externalXRef", "externalXRef cannot be longer than 100 characters"));
  }
  if (errors.length || !company || !board || !status) return replies.invalidObject("ticket", errors);
  const ticket: SandboxTicket = {
    id: nextId(state, "tickets"),
    summary: b.summary as string,
    recordType: recordType as SandboxTicket["recordType"],
    board: { id: board.id, name: board.name },
    status: { id: status.id, name: status.name, sort: status.sort },
    company: { id: company.id, identifier: company.identifier, name: company.name },
    closedFlag: status.closedStatus,
    ...(typeof b.externalXRef === "string" ? { externalXRef: b.externalXRef } : {}),
    _info: stamp(ctx).info,
  };
  state.tickets.push(ticket);
  // the initial texts are POST-only: they become notes and are never returned on the ticket
  if (typeof b.initialDescription === "string" && b.initialDescription !== "") addNote(ctx, ticket.id, b.initialDescription, only("detailDescriptionFlag"));
  if (typeof b.initialInternalAnalysis === "string" && b.initialInternalAnalysis !== "") addNote(ctx, ticket.id, b.initialInternalAnalysis, only("internalAnalysisFlag"));
  if (typeof b.initialResolution === "string" && b.initialResolution !== "") addNote(ctx, ticket.id, b.initialResolution, only("resolutionFlag"));
  return replies.created(serve(ctx, ticket, TICKETS));
};

const ticketOf = (ctx: RequestContext, id: string) => ctx.state.tickets.find((t) => t.id === Number(id));

const oneTicket: Handler = (ctx, [id]) => {
  const t = ticketOf(ctx, id);
  return t ? replies.ok(serve(ctx, t, TICKETS)) : replies.notFound("Ticket", Number(id));
};

const notesOf = (ctx: RequestContext, id: string) => ctx.state.notes.filter((n) => n.ticketId === Number(id));

const listNotes: Handler = (ctx, [id]) => (ticketOf(ctx, id) ? listReply(ctx, notesOf(ctx, id), NOTES) : replies.notFound("Ticket", Number(id)));
const countNotes: Handler = (ctx, [id]) => (ticketOf(ctx, id) ? countReply(ctx, notesOf(ctx, id), NOTES) : replies.notFound("Ticket", Number(id)));

const oneNote: Handler = (ctx, [id, nid]) => {
  if (!ticketOf(ctx, id)) return replies.notFound("Ticket", Number(id));
  const n = notesOf(ctx, id).find((x) => x.id === Number(nid));
  return n ? replies.ok(serve(ctx, n, NOTES)) : replies.notFound("ServiceNote", Number(nid));
};

const createNote: Handler = (ctx, [id]) => {
  const ticket = ticketOf(ctx, id);
  if (!ticket) return replies.notFound("Ticket", Number(id));
  const b = isObject(ctx.body) ? ctx.body : {};
  const errors: ValidationError[] = [];
  if (typeof b.text !== "string" || b.text === "") errors.push(missing("text"));
  const flags = ["detailDescriptionFlag", "internalAnalysisFlag", "resolutionFlag"] as const;
  if (!flags.some((f) => b[f] === true)) errors.push({ code: "MissingRequiredField", message: NOTE_PLACE, field: "detailDescriptionFlag" });
  if (errors.length) return replies.invalidObject("serviceNote", errors);
  const note = addNote(ctx, ticket.id, b.text as string, {
    detailDescriptionFlag: b.detailDescriptionFlag === true,
    internalAnalysisFlag: b.internalAnalysisFlag === true,
    resolutionFlag: b.resolutionFlag === true,
  });
  return replies.created(serve(ctx, note, NOTES));
};

export const ticketRoutes: Route[] = [
  { pattern: /^\/service\/tickets$/i, methods: { GET: (ctx) => listReply(ctx, ctx.state.tickets, TICKETS), POST: createTicket } },
  { pattern: /^\/service\/tickets\/count$/i, methods: { GET: (ctx) => countReply(ctx, ctx.state.tickets, TICKETS) } },
  { pattern: /^\/service\/tickets\/(\d+)$/i, methods: { GET: oneTicket } },
  { pattern: /^\/service\/tickets\/(\d+)\/notes$/i, methods: { GET: listNotes, POST: createNote } },
  { pattern: /^\/service\/tickets\/(\d+)\/notes\/count$/i, methods: { GET: countNotes } },
  { pattern: /^\/service\/tickets\/(\d+)\/notes\/(\d+)$/i, methods: { GET: oneNote } },
];
