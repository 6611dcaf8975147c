// Checks Flux scripts with InfluxData's own parser and semantic analyser: flux-lsp compiled to
// WebAssembly (@influxdata/flux-lsp-browser), the engine behind InfluxDB's and Grafana's editors.
//
//   node --experimental-wasm-modules check.mjs NODE_MODULES_DIR < {"scripts": [{"id", "text"}]}
//
// Prints {"id": {"ast": ..., "diagnostics": [{"line", "character", "message"}]}}: the AST from the
// parser, and every error the language server reports (syntax, unknown identifiers, wrong or
// missing arguments, type errors).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const TIMEOUT_MS = 20000;
// The language server logs through console.log: keep stdout for the results alone.
for (const level of ["log", "info", "debug", "warn"]) {
  console[level] = (...parts) => process.stderr.write(`${parts.join(" ")}\n`);
}
const modules = process.argv[2];
// Importing the glue first lets Node link the module cycle between it and the WebAssembly.
const flux = await import(
  pathToFileURL(join(modules, "@influxdata/flux-lsp-browser/flux-lsp-browser_bg.js")).href
);
const { scripts } = JSON.parse(readFileSync(0, "utf8"));

const pending = new Map();
const results = {};
const server = new flux.Lsp();
server.onMessage((raw) => {
  const message = JSON.parse(raw);
  if (message.method !== "textDocument/publishDiagnostics") return;
  const id = pending.get(message.params.uri);
  if (id === undefined) return;
  pending.delete(message.params.uri);
  results[id].diagnostics = message.params.diagnostics
    .filter((diagnostic) => diagnostic.severity === 1)
    .map((diagnostic) => ({
      line: diagnostic.range.start.line + 1,
      character: diagnostic.range.start.character + 1,
      message: diagnostic.message,
    }));
});
server.run();

const send = (message) => server.send(JSON.stringify({ jsonrpc: "2.0", ...message }));
await send({ id: 1, method: "initialize", params: { capabilities: {} } });
await send({ method: "initialized", params: {} });
for (const [index, script] of scripts.entries()) {
  // One folder per script: flux-lsp analyses the files of a folder together, as one package.
  const uri = `file:///energy-edge/${index}/query.flux`;
  results[script.id] = { ast: flux.parse(script.text), diagnostics: null };
  pending.set(uri, script.id);
  await send({
    method: "textDocument/didOpen",
    params: { textDocument: { uri, languageId: "flux", version: 1, text: script.text } },
  });
}

const deadline = Date.now() + TIMEOUT_MS;
while (pending.size > 0 && Date.now() < deadline) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}
if (pending.size > 0) {
  process.stderr.write(`flux-lsp published no diagnostics for ${[...pending.values()].join(", ")}\n`);
  process.exit(1);
}
// Exit once the pipe has taken everything: results are larger than its buffer.
process.stdout.write(JSON.stringify(results), () => process.exit(0));
