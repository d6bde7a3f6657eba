import { readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { WitnessOption } from "../../import/cluster-file.js";
import { importHeartbeat } from "../../import/heartbeat/index.js";
import { importKeepalived } from "../../import/keepalived/index.js";
import { type ImportReport, type SourceLine, where } from "../../import/report.js";
import type { ImportResult, InputFile } from "../../import/result.js";
import { CommandError, UsageError } from "../errors.js";

/** What both `vigil import` commands take besides their input files. */
export interface ImportOptions {
  outDir: string;
  force?: boolean;
  cluster?: string;
  witness?: string;
}

export const CLUSTER_FILE = "vigil.yaml";
export const RESOURCES_FILE = "resources.yaml";

export async function runImportHeartbeat(
  options: ImportOptions & {
    haCf: string;
    haresources: string;
    authkeys?: string;
    address?: string[];
  },
): Promise<void> {
  const addresses = new Map<string, string>();
  for (const pair of options.address ?? []) {
    const [node, address] = splitPair(pair, "--address", "NODE=IP");
    addresses.set(node, address);
  }
  const result = importHeartbeat({
    haCf: await readInput(options.haCf),
    haresources: await readInput(options.haresources),
    ...(options.authkeys !== undefined ? { authkeys: await readInput(options.authkeys) } : {}),
    addresses,
    ...common(options),
  });
  await writeOutputs(result, options);
}

export async function runImportKeepalived(
  file: string | undefined,
  options: ImportOptions & { node?: string[] },
): Promise<void> {
  const files: { node?: string; input: InputFile }[] = [];
  if (file !== undefined) files.push({ input: await readInput(file) });
  for (const pair of options.node ?? []) {
    const [node, path] = splitPair(pair, "--node", "NAME=FILE");
    files.push({ node, input: await readInput(path) });
  }
  if (files.length === 0)
    throw new UsageError("give a keepalived.conf, or one --node NAME=FILE for each node");
  const result = importKeepalived({ files, ...common(options) });
  await writeOutputs(result, options);
}

function common(options: ImportOptions): { clusterName: string; witness?: WitnessOption } {
  const witness =
    options.witness === undefined
      ? undefined
      : options.witness.includes("=")
        ? (([name, address]) => ({ name, address }))(
            splitPair(options.witness, "--witness", "NAME=ADDRESS"),
          )
        : { name: options.witness };
  return { clusterName: options.cluster ?? "migrated", ...(witness ? { witness } : {}) };
}

function splitPair(text: string, option: string, shape: string): [string, string] {
  const at = text.indexOf("=");
  if (at <= 0 || at === text.length - 1)
    throw new UsageError(`${option} takes ${shape}, got "${text}"`);
  return [text.slice(0, at), text.slice(at + 1)];
}

async function readInput(file: string): Promise<InputFile> {
  try {
    return { file, text: await readFile(file, "utf8") };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CommandError(
      `${file}: cannot read it (${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : code === "EISDIR" ? "a directory" : (error as Error).message})`,
    );
  }
}

/** Both files or neither: an existing one is kept unless --force, and then nothing is written. */
async function writeOutputs(result: ImportResult, options: ImportOptions): Promise<void> {
  const outputs: [string, string][] = [
    [join(options.outDir, CLUSTER_FILE), result.clusterText],
    [join(options.outDir, RESOURCES_FILE), result.resourcesText],
  ];
  const outDir = await stat(options.outDir).catch(() => undefined);
  if (!outDir?.isDirectory())
    throw new CommandError(`--out-dir ${options.outDir}: no such directory`);
  if (!options.force) {
    const existing = [];
    for (const [path] of outputs) if (await stat(path).catch(() => undefined)) existing.push(path);
    if (existing.length > 0)
      throw new CommandError(
        `${existing.join(" and ")} already exist${existing.length === 1 ? "s" : ""}: nothing written (--force replaces them)`,
      );
  }
  for (const [path, text] of outputs) await writeFile(path, text, { mode: 0o644 });
  process.stdout.write(
    formatReport(
      result.report,
      outputs.map(([path]) => path),
    ),
  );
}

/** Files in the order first met, lines in file order; one line's entries as they were made. */
function inInputOrder<T extends { at: SourceLine }>(entries: readonly T[]): T[] {
  const files = [...new Set(entries.map(({ at }) => at.file))];
  return [...entries].sort(
    (a, b) => files.indexOf(a.at.file) - files.indexOf(b.at.file) || a.at.line - b.at.line,
  );
}

export function formatReport(report: ImportReport, written: readonly string[]): string {
  const lines = [`wrote ${written.join(" and ")}`, ""];
  lines.push(`Translated (${report.translated.length}):`);
  for (const { at, into } of inInputOrder(report.translated))
    lines.push(`  ${where(at)}: ${at.text}\n      -> ${into}`);
  lines.push("", `Not translated (${report.notTranslated.length}):`);
  for (const { at, why } of inInputOrder(report.notTranslated))
    lines.push(`  ${where(at)}: ${at.text}\n      -- ${why}`);
  if (report.placeholders.length > 0) {
    lines.push(
      "",
      `To replace or check (${report.placeholders.length}, marked CHANGE ME or CHECK in the files):`,
    );
    for (const { document, path, message } of report.placeholders)
      lines.push(
        `  ${document === "cluster" ? CLUSTER_FILE : RESOURCES_FILE}: ${path.join(".")}: ${message}`,
      );
  }
  if (report.notes.length > 0) {
    lines.push("", "Notes:");
    for (const note of report.notes) lines.push(`  - ${note}`);
  }
  const [cluster, resources] = written;
  lines.push(
    "",
    `Next: ${report.placeholders.length > 0 ? "replace the placeholders; " : ""}\`vigil config validate ${cluster}\`; \`vigil keygen\` and copy the key to every node; start the agents; \`vigil config apply ${resources}\` on one node.`,
    "",
  );
  return lines.join("\n");
}
