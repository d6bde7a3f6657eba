import { randomBytes } from "node:crypto";
import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { writeFileAtomic } from "../storage/atomic-file.js";
import { type ClusterKey, MAX_KEY_ID } from "../wire/keyring.js";
import { KeyFileError } from "./errors.js";
import {
  formatKeyLine,
  KEY_FILE_HEADER,
  parseKeyFileText,
  parseKeyLines,
} from "./keyfile-format.js";

export { KeyFileError } from "./errors.js";

const NEW_SECRET_BYTES = 32;
/** Group and other permission bits: anyone but the owner who can read a key can forge frames. */
const GROUP_OTHER_BITS = 0o077;
const GROUP_OTHER_READ_BITS = 0o044;

/**
 * Reads every key from the key file, refusing a file that anyone but its owner may access.
 * The mode is checked on the opened file, so it is the same file that is then read.
 */
export async function readKeyFile(path: string): Promise<ClusterKey[]> {
  return parseKeyFileText(await readGuarded(path), path);
}

/**
 * Creates the key file (mode 0600, parent directory 0700 when missing) with key 1, or, when it
 * exists, appends a new key for rotation: `options.id`, else one more than the highest id.
 * Existing keys and comments are kept; the file is replaced atomically.
 */
export async function generateKey(
  path: string,
  options: { id?: number },
): Promise<{ id: number; created: boolean }> {
  const existing = await readIfExists(path);
  if (existing === undefined) {
    const id = options.id ?? 1;
    requireKeyId(id);
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFileAtomic(path, `${KEY_FILE_HEADER}\n${newKeyLine(id)}\n`, 0o600);
    return { id, created: true };
  }
  // A file of comments only is not an error here: this is how it gets its first key.
  const keys = parseKeyLines(existing, path);
  const highestId = Math.max(0, ...keys.map((key) => key.id));
  if (options.id === undefined && highestId === MAX_KEY_ID)
    throw new KeyFileError(
      `key file ${path} already holds key ${MAX_KEY_ID}, the highest id; remove retired keys and pass --id with a free id`,
    );
  const id = options.id ?? highestId + 1;
  requireKeyId(id);
  if (keys.some((key) => key.id === id))
    throw new KeyFileError(
      `key file ${path} already holds key ${id}; pick another id (highest in use: ${highestId})`,
    );
  const separator = existing === "" || existing.endsWith("\n") ? "" : "\n";
  await writeFileAtomic(path, `${existing}${separator}${newKeyLine(id)}\n`, 0o600);
  return { id, created: false };
}

function newKeyLine(id: number): string {
  return formatKeyLine({ id, secret: randomBytes(NEW_SECRET_BYTES) });
}

function requireKeyId(id: number): void {
  if (!Number.isInteger(id) || id < 1 || id > MAX_KEY_ID)
    throw new KeyFileError(`key id ${id} is out of range; key ids go from 1 to ${MAX_KEY_ID}`);
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readGuarded(path);
  } catch (error) {
    if (error instanceof KeyFileError && (error.cause as NodeJS.ErrnoException)?.code === "ENOENT")
      return undefined;
    throw error;
  }
}

async function readGuarded(path: string): Promise<string> {
  let file: Awaited<ReturnType<typeof open>>;
  try {
    file = await open(path, "r");
  } catch (error) {
    throw new KeyFileError(describeOpenError(path, error), { cause: error });
  }
  try {
    const stats = await file.stat();
    if (!stats.isFile()) throw new KeyFileError(`key file ${path} is not a regular file`);
    const mode = stats.mode & 0o777;
    if ((mode & GROUP_OTHER_BITS) !== 0) {
      const what = (mode & GROUP_OTHER_READ_BITS) !== 0 ? "readable" : "writable or executable";
      throw new KeyFileError(
        `key file ${path} has mode ${mode.toString(8).padStart(4, "0")}; it must not be ${what} by group or others: chmod 600 ${path}`,
      );
    }
    return await file.readFile("utf8");
  } finally {
    await file.close();
  }
}

function describeOpenError(path: string, error: unknown): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return `key file ${path} does not exist; create it with: vigil keygen --file ${path}, then copy it to every node`;
    case "EACCES":
    case "EPERM":
      return `key file ${path} is not readable by this user; run the agent as the key file's owner (usually root)`;
    case "EISDIR":
      return `key file ${path} is a directory, not a key file`;
    default:
      return `cannot read key file ${path}: ${(error as Error).message}`;
  }
}
