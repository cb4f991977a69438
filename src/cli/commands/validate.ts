import { listConfigFiles } from "../../adapters/config-files.ts";
import { checkFolder } from "../../adapters/load-folder.ts";
import type { Diagnostic } from "../../config/diagnostic.ts";
import { formatDiagnosticsText, summaryLine } from "../format-diagnostics.ts";
import type { Deps } from "../../app/deps.ts";

export interface ValidateOptions {
  paths: string[];
  format: "text" | "json" | "github";
  strict: boolean;
}

/** `cwsync validate`: every problem of every file; exit 1 on errors (or warnings with --strict). */
export async function validateCommand(opts: ValidateOptions, io: Deps): Promise<number> {
  const { groups, diagnostics: fileDiags } = listConfigFiles(opts.paths.length ? opts.paths : ["customers"], io.cwd);
  const diagnostics: Diagnostic[] = [...fileDiags];
  const texts = new Map<string, string>();
  let filesChecked = 0;
  for (const g of groups) {
    // only the diagnostics and the texts (for code frames) are kept, not the parsed documents
    const result = checkFolder(g);
    for (const d of result.diagnostics) diagnostics.push(d);
    filesChecked += result.filesChecked;
    for (const f of result.sources) if (f.text !== undefined) texts.set(f.path, f.text);
  }
  const failed = diagnostics.some((d) => d.severity === "error" || opts.strict);
  if (opts.format === "json") {
    io.stdout(JSON.stringify(diagnostics.map(toJson), null, 2) + "\n");
  } else if (opts.format === "github") {
    // the CI formats, loaded for them only: a cold `validate` (text) does without
    const [{ formatAnnotations }, { appendStepSummary, renderStepSummary }] = await Promise.all([import("../../ci/annotations.ts"), import("../../ci/step-summary.ts")]);
    io.stdout(formatAnnotations(diagnostics));
    io.stdout(summaryLine(diagnostics, filesChecked) + "\n");
    await appendStepSummary(renderStepSummary(diagnostics, { title: "cwsync validate", filesChecked }), io.settings.env);
  } else {
    io.stdout(formatDiagnosticsText(diagnostics, texts));
    io.stdout(summaryLine(diagnostics, filesChecked) + "\n");
  }
  return failed ? 1 : 0;
}

/** The JSON shape of DESIGN §8: `{severity, code, file, line, col, path, message, hint}`. */
function toJson(d: Diagnostic) {
  return { severity: d.severity, code: d.code, file: d.file, line: d.line ?? null, col: d.col ?? null, path: d.path, message: d.message, hint: d.hint ?? null };
}
