import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

export const run = promisify(execFile);
export const REPO = join(import.meta.dirname, "..", "..");

/**
 * `npm pack` of the repository into `destination`, from the dist/ that scripts/run-tests.mjs has
 * just built (--ignore-scripts: the `prepare` build would compile everything a second time).
 */
export async function packVigil(destination: string): Promise<string> {
  if (!existsSync(join(REPO, "dist", "cli", "main.js"))) {
    throw new Error(
      "dist/ is not built: run the tests with scripts/run-tests.mjs or `npm run build`",
    );
  }
  const { stdout } = await run(
    "npm",
    ["pack", "--json", "--ignore-scripts", "--pack-destination", destination],
    { cwd: REPO, maxBuffer: 64 * 1024 * 1024 },
  );
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  return join(destination, packed!.filename);
}

/** Every relative import of the shipped JavaScript under `dir` that names a file not shipped. */
export async function unresolvedImports(dir: string): Promise<string[]> {
  const { readdir, readFile } = await import("node:fs/promises");
  const { dirname, resolve } = await import("node:path");
  const missing: string[] = [];
  for (const entry of await readdir(dir, { recursive: true })) {
    if (!entry.endsWith(".js")) continue;
    const file = join(dir, entry);
    const source = await readFile(file, "utf8");
    for (const [, specifier] of source.matchAll(/(?:from|import\()\s*"(\.{1,2}\/[^"]+)"/g)) {
      if (!existsSync(resolve(dirname(file), specifier!))) missing.push(`${entry}: ${specifier}`);
    }
  }
  return missing;
}
