/**
 * The layers of src/ (ARCHITECTURE.md, "Layers"), checked on every import of every module:
 * imports point down only, folders import each other in one direction only, and pure modules
 * (no I/O; time comes in as an argument or an injected Clock) import only pure modules.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const SRC = fileURLToPath(new URL("../../src/", import.meta.url));

/** Bottom first. A folder imports folders of its own layer or below, never above. */
const LAYERS: ReadonlyArray<{ name: string; folders: readonly string[] }> = [
  { name: "foundations", folders: ["time", "invariant", "wire", "events"] },
  { name: "definitions", folders: ["config", "resource-model"] },
  {
    name: "cores",
    folders: ["membership", "consensus", "state", "policy", "resource-check", "sim", "import"],
  },
  {
    name: "adapters",
    folders: [
      "log",
      "storage",
      "keys",
      "links",
      "transport",
      "scheduling",
      "pacemaker",
      "resources",
    ],
  },
  {
    name: "services",
    folders: [
      "coordination",
      "connectivity",
      "fencing",
      "watchdog",
      "takeover",
      "notify",
      "checks",
      "sessions",
      "control",
      "api",
      "sentinel",
      "whole-sim",
    ],
  },
  { name: "agent", folders: ["agent"] },
  { name: "commands", folders: ["cli", "demo", "client"] },
];

/** Pure modules: whole folders ("x/") and the pure files of edge folders. */
const PURE = [
  ...["time", "invariant", "wire", "events", "config", "resource-model"].map((f) => `${f}/`),
  ...["membership", "consensus", "state", "policy", "resource-check", "sim", "import"].map(
    (f) => `${f}/`,
  ),
  "transport/fragments.ts",
  "pacemaker/plans.ts",
  "pacemaker/getopt.ts",
  "pacemaker/nodes-output.ts",
  "pacemaker/clone-meta.ts",
  "pacemaker/crm-feature-set.ts",
  "pacemaker/cluster-view.ts",
  "pacemaker/crm-mon-output.ts",
  "pacemaker/cib-output.ts",
  "pacemaker/locate-output.ts",
  "pacemaker/xml.ts",
  "transport/delivered-messages.ts",
  "resources/agents/metadata.ts",
  "resources/agents/xml.ts",
  "resources/agents/director/director-rules.ts",
  "resources/agents/director/nft-script.ts",
  "resources/agents/director/ipvs-commands.ts",
  "resources/agents/director/check-verdicts.ts",
  "resources/agents/vip/address-events.ts",
  "coordination/cluster-message.ts",
  "connectivity/targets.ts",
  "fencing/levels.ts",
  "fencing/agent-input.ts",
  "fencing/agent-output.ts",
  "fencing/device-checks.ts",
  "fencing/device-health.ts",
  "watchdog/guard-protocol.ts",
  "watchdog/guard-feed.ts",
  "takeover/leader-step.ts",
  "takeover/notify-round.ts",
  "takeover/score-poll.ts",
  "takeover/placement-memo.ts",
  "takeover/node-step.ts",
  "takeover/cluster-view.ts",
  "takeover/resource-keys.ts",
  "takeover/client-links.ts",
  "control/route.ts",
  "control/request-schemas.ts",
  "control/known-names.ts",
  "api/heartbeat-history.ts",
  "notify/hook-queue.ts",
  "checks/rise-fall.ts",
  "sessions/protocol.ts",
  "sessions/primary.ts",
  "client/idle-state.ts",
  "notify/hook-target.ts",
  "notify/transition-scripts.ts",
  "sentinel/resp.ts",
  "sentinel/sentinel-view.ts",
  "sentinel/sentinel-replies.ts",
  "sentinel/sentinel-session.ts",
];
/** Edges inside pure folders: loading the configuration reads its file. */
const EDGES_IN_PURE_FOLDERS = ["config/load.ts", "config/yaml-file.ts"];
/** What pure modules may import besides pure modules: pure functions and parsers. */
const PURE_PACKAGES = ["node:crypto", "zod", "yaml"];

/** Pure modules that import something else anyway; keep this list short. */
const EXCEPTIONS: ReadonlyArray<{ file: string; imports: string; reason: string }> = [
  {
    file: "resource-model/vip-address.ts",
    imports: "node:net",
    reason: "isIPv4 and isIPv6 only: string checks, no socket",
  },
  {
    file: "resource-model/linear-pattern.ts",
    imports: "node:v8",
    reason: "turns on V8's linear-time RegExp engine, which its patterns are compiled for: no I/O",
  },
  {
    file: "config/api-schema.ts",
    imports: "node:net",
    reason: "isIP only: a string check, no socket",
  },
];

interface Import {
  /** Importing module, relative to src/. */
  from: string;
  line: number;
  specifier: string;
  /** The module imported, relative to src/; null for a package or a node: module. */
  target: string | null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return entry.endsWith(".ts") ? [path] : [];
  });
}

const FILES = sourceFiles(SRC).map((path) => relative(SRC, path));

/** Every import, export ... from and import() of every module of src/. */
const IMPORTS: Import[] = FILES.flatMap((from) => {
  const text = readFileSync(join(SRC, from), "utf8");
  return ts.preProcessFile(text, true, true).importedFiles.map(({ fileName, pos }) => ({
    from,
    line: text.slice(0, pos).split("\n").length,
    specifier: fileName,
    target: fileName.startsWith(".")
      ? relative(SRC, resolve(SRC, dirname(from), fileName.replace(/\.js$/, ".ts")))
      : null,
  }));
});

const folderOf = (file: string): string => file.split("/")[0] ?? file;
const layerOf = (folder: string): number => LAYERS.findIndex((l) => l.folders.includes(folder));
const isPure = (file: string): boolean =>
  !EDGES_IN_PURE_FOLDERS.includes(file) &&
  PURE.some((entry) => (entry.endsWith("/") ? file.startsWith(entry) : file === entry));
const where = (imp: Import): string => `src/${imp.from}:${imp.line} imports "${imp.specifier}"`;
const crossFolder = IMPORTS.filter(
  (imp): imp is Import & { target: string } =>
    imp.target !== null && folderOf(imp.target) !== folderOf(imp.from),
);

test("every module of src/ is in a folder, and every folder in exactly one layer", () => {
  assert.deepEqual(
    FILES.filter((file) => !file.includes("/")),
    [],
    "modules at the root of src/",
  );
  const folders = [...new Set(FILES.map(folderOf))].sort();
  const placed = LAYERS.flatMap((layer) => layer.folders);
  assert.deepEqual(
    folders.filter((folder) => !placed.includes(folder)),
    [],
    "folders in no layer: add each to LAYERS here and to ARCHITECTURE.md",
  );
  assert.deepEqual(
    placed.filter((folder, i) => !folders.includes(folder) || placed.indexOf(folder) !== i),
    [],
    "folders in LAYERS that do not exist or are listed twice",
  );
  const listed = [...PURE, ...EDGES_IN_PURE_FOLDERS].filter((entry) => !entry.endsWith("/"));
  assert.deepEqual(
    listed.filter((file) => !FILES.includes(file)),
    [],
    "files listed here that do not exist",
  );
});

test("imports point down: never to a folder of a higher layer", () => {
  const upward = crossFolder
    .filter((imp) => layerOf(folderOf(imp.target)) > layerOf(folderOf(imp.from)))
    .map((imp) => {
      const [from, to] = [folderOf(imp.from), folderOf(imp.target)];
      const [fromLayer, toLayer] = [LAYERS[layerOf(from)]?.name, LAYERS[layerOf(to)]?.name];
      return `${where(imp)}: ${from} (${fromLayer}) is below ${to} (${toLayer})`;
    });
  assert.deepEqual(upward, []);
});

test("no import cycles between the folders of src/", () => {
  const imports = new Map<string, Map<string, Import[]>>();
  for (const imp of crossFolder) {
    const [from, to] = [folderOf(imp.from), folderOf(imp.target)];
    const out = imports.get(from) ?? new Map<string, Import[]>();
    imports.set(from, out.set(to, [...(out.get(to) ?? []), imp]));
  }
  /** The shortest chain of folders from `from` to `to` along imports; null when there is none. */
  const path = (from: string, to: string): string[] | null => {
    const previous = new Map<string, string>([[from, from]]);
    for (const queue = [from]; queue.length > 0; ) {
      const folder = queue.shift()!;
      if (folder === to) {
        const chain = [to];
        while (chain[0] !== from) chain.unshift(previous.get(chain[0]!)!);
        return chain;
      }
      for (const next of imports.get(folder)?.keys() ?? []) {
        if (previous.has(next)) continue;
        previous.set(next, folder);
        queue.push(next);
      }
    }
    return null;
  };
  // Each cycle once, with one import per step: "a -> b -> a: src/a/x.ts:3 imports ...; ...".
  const cycles = new Map<string, string>();
  for (const [from, out] of imports) {
    for (const to of out.keys()) {
      const back = path(to, from);
      if (back === null) continue;
      const chain = [from, ...back];
      const key = [...new Set(chain)].sort().join(" ");
      const steps = chain.slice(1).map((folder, i) => {
        const all = imports.get(chain[i]!)?.get(folder) ?? [];
        return `${where(all[0]!)}${all.length > 1 ? ` (+${all.length - 1} more)` : ""}`;
      });
      if (!cycles.has(key)) cycles.set(key, `${chain.join(" -> ")}: ${steps.join("; ")}`);
    }
  }
  assert.deepEqual([...cycles.values()], [], "cycles between folders, one import per step");
});

test("pure modules import only pure modules, node:crypto, zod and yaml", () => {
  const unused = new Set(EXCEPTIONS);
  const impure = IMPORTS.filter((imp) => isPure(imp.from))
    .filter((imp) =>
      imp.target === null ? !PURE_PACKAGES.includes(imp.specifier) : !isPure(imp.target),
    )
    .filter((imp) => {
      const exception = EXCEPTIONS.find((e) => e.file === imp.from && e.imports === imp.specifier);
      if (exception !== undefined) unused.delete(exception);
      return exception === undefined;
    })
    .map((imp) => `${where(imp)} (${imp.target === null ? "not a pure package" : "an edge"})`);
  assert.deepEqual(impure, [], "pure modules with impure imports");
  assert.deepEqual([...unused], [], "exceptions no longer needed: remove them");
});
