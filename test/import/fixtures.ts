import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { InputFile } from "../../src/import/result.js";

export const ROOT = join(import.meta.dirname, "..", "..");
export const FIXTURES = "test/fixtures/import";

/** A fixture as the importer reads it, named by its path from the repository's root. */
export function fixture(path: string): InputFile {
  const file = `${FIXTURES}/${path}`;
  return { file, text: readFileSync(join(ROOT, file), "utf8") };
}
