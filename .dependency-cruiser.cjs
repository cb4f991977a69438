// The rings of ARCHITECTURE.md, checked in CI by `npm run lint:boundaries`.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "core-is-pure",
      comment: "core/ decides; it reads no files, spawns nothing, opens no sockets and knows no adapter, command or daemon",
      severity: "error",
      from: { path: "^src/core/", pathNot: "\\.test\\.tsx?$" },
      to: { path: ["^src/(adapters|sandbox|cli|app|daemon|apply|observe|ui|ci)/", "^(node:)?(fs|child_process|net|http|https|os|worker_threads|dgram|tls)$"] },
    },
    {
      name: "core-uses-config-model-only",
      comment: "core/ sees the config model (model, resolve, diagnostics) and the loader's result type, never the loader itself",
      severity: "error",
      from: { path: "^src/core/", pathNot: "\\.test\\.tsx?$" },
      to: { path: "^src/config/", pathNot: ["^src/config/(model|resolve|diagnostic|generated/.*)\\.ts$"], dependencyTypesNot: ["type-only"] },
    },
    {
      name: "no-cli-below-the-edge",
      comment: "the daemon, the use cases and the rings below them never import the command line",
      severity: "error",
      from: { path: "^src/(daemon|app|apply|observe|core|config|ports|adapters|status|ui|sandbox)/", pathNot: "\\.test\\.tsx?$" },
      to: { path: "^src/cli/" },
    },
    {
      name: "apply-through-ports",
      comment: "apply/ works through ports; the adapters are wired in the composition root",
      severity: "error",
      from: { path: "^src/apply/", pathNot: "\\.test\\.tsx?$" },
      to: { path: "^src/(adapters|sandbox)/" },
    },
    {
      name: "sandbox-only-from-wiring",
      comment: "the embedded fakes are started by the composition root (src/app/) or a command, and by tests",
      severity: "error",
      from: { path: "^src/", pathNot: ["^src/(sandbox|app|cli)/", "\\.test\\.tsx?$"] },
      to: { path: "^src/sandbox/" },
    },
    {
      name: "ports-are-interfaces",
      comment: "ports/ declare what the rings need; they import no implementation",
      severity: "error",
      from: { path: "^src/ports/" },
      to: { path: "^src/(adapters|sandbox|cli|app|daemon|apply|observe|ui|core)/" },
    },
    {
      name: "no-circular",
      severity: "error",
      from: { path: "^src/" },
      to: { circular: true, viaOnly: { dependencyTypesNot: ["type-only"] } },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".js", ".mjs"] },
  },
};
