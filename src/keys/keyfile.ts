import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { writeFileAtomic } from "../storage/atomic-file.js";
import { type ClusterKey, MAX_KEY_ID } from "../wire/keyring.js";
import { KeyFileError } from "./errors.js";
import {
  KEY_FILE,
  requireSameFile,
  requireTrustedKeyDirectory,
  requireTrustedKeyFile,
  type TrustedFileKind,
} from "./key-file-trust.js";
import {
  formatKeyLine,
  KEY_FILE_HEADER,
  parseKeyFileText,
  parseKeyLines,
} from "./keyfile-format.js";

export { KeyFileError } from "./errors.js";

const NEW_SECRET_BYTES = 32;

/**
 * Reads every key from the key file, refusing a file that anyone but root or this user owns or
 * may access, or that sits in a directory others may write (key-file-trust.ts).
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
    // An existing directory keeps its mode: the new key must not land where others can swap it.
    await requireTrustedDirectoryOf(path);
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

/**
 * Type, owner and mode of the file and its directory are checked before the file is opened (a
 * FIFO would block the open forever); O_NOFOLLOW and O_NONBLOCK keep a name swapped in between
 * from being followed or from blocking, and the opened file must be the one checked.
 */
async function readGuarded(path: string): Promise<string> {
  return readTrustedFile(path, {
    ...KEY_FILE,
    createHint: `create it with: vigil keygen --file ${path}, then copy it to every node`,
  });
}

/**
 * A secret file (the cluster key, the API's tokens) read only once its type, owner and mode, and
 * its directory's, show that nobody but root or this user could have read or written it.
 */
export async function readTrustedFile(
  path: string,
  kind: TrustedFileKind & { createHint: string },
): Promise<string> {
  const checked = await describeErrors(path, kind, () => lstat(path));
  await requireTrustedDirectoryOf(path, kind);
  requireTrustedKeyFile(path, checked, kind);
  const file = await describeErrors(path, kind, () =>
    open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK),
  );
  try {
    requireSameFile(path, checked, await file.stat(), kind);
    return await file.readFile("utf8");
  } finally {
    await file.close();
  }
}

async function requireTrustedDirectoryOf(
  path: string,
  kind: TrustedFileKind = KEY_FILE,
): Promise<void> {
  const directory = dirname(resolve(path));
  const stats = await stat(directory).catch((error: Error) => {
    throw new KeyFileError(`cannot check ${kind.directory} ${directory}: ${error.message}`, {
      cause: error,
    });
  });
  requireTrustedKeyDirectory(directory, stats, kind);
}

async function describeErrors<T>(
  path: string,
  kind: TrustedFileKind & { createHint: string },
  operation: () => Promise<T>,
): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    throw new KeyFileError(describeOpenError(path, kind, error), { cause: error });
  }
}

function describeOpenError(
  path: string,
  kind: TrustedFileKind & { createHint: string },
  error: unknown,
): string {
  switch ((error as NodeJS.ErrnoException).code) {
    case "ENOENT":
      return `${kind.file} ${path} does not exist; ${kind.createHint}`;
    case "EACCES":
    case "EPERM":
      return `${kind.file} ${path} is not readable by this user; run the agent as the ${kind.file}'s owner (usually root)`;
    case "EISDIR":
      return `${kind.file} ${path} is a directory, not a ${kind.file}`;
    default:
      return `cannot read ${kind.file} ${path}: ${(error as Error).message}`;
  }
}
