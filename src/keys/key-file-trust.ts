import type { Stats } from "node:fs";
import { KeyFileError } from "./errors.js";

/**
 * Who may have touched the key file before the agent trusts it. Anyone but root and the agent's
 * own user who can read it can forge frames; anyone who can write it, or replace it through its
 * directory, can hand the cluster a key of their choosing. Checked with lstat before the file is
 * opened, and again on the opened file (same inode, still a regular file), like OpenSSH does
 * for its keys.
 */

/** How the messages name the file, its directory and what its writer could forge. */
export interface TrustedFileKind {
  file: string;
  directory: string;
  /** Which config key points at it. */
  configKey: string;
  /** What whoever could replace it would hand the cluster. */
  forged: string;
}

export const KEY_FILE: TrustedFileKind = {
  file: "key file",
  directory: "key directory",
  configKey: "keys.file",
  forged: "the cluster key",
};

const GROUP_OTHER_BITS = 0o077;
const GROUP_OTHER_READ_BITS = 0o044;
const GROUP_OTHER_WRITE_BITS = 0o022;

/** The file's own type, owner and mode (from lstat: a symbolic link is refused, not followed). */
export function requireTrustedKeyFile(
  path: string,
  stats: Stats,
  kind: TrustedFileKind = KEY_FILE,
): void {
  if (stats.isSymbolicLink())
    throw new KeyFileError(
      `${kind.file} ${path} is a symbolic link; set ${kind.configKey} to the file it points to`,
    );
  if (!stats.isFile())
    throw new KeyFileError(`${kind.file} ${path} is not a regular file (it is ${kindOf(stats)})`);
  requireTrustedOwner(`${kind.file} ${path}`, stats, `chown root ${path}`, kind);
  const mode = stats.mode & 0o777;
  if ((mode & GROUP_OTHER_BITS) !== 0) {
    const what = (mode & GROUP_OTHER_READ_BITS) !== 0 ? "readable" : "writable or executable";
    throw new KeyFileError(
      `${kind.file} ${path} has mode ${octal(mode)}; it must not be ${what} by group or others: chmod 600 ${path}`,
    );
  }
}

/** The directory holding the key file: whoever may write it may replace the file. */
export function requireTrustedKeyDirectory(
  directory: string,
  stats: Stats,
  kind: TrustedFileKind = KEY_FILE,
): void {
  if (!stats.isDirectory())
    throw new KeyFileError(
      `${kind.directory} ${directory} is not a directory (it is ${kindOf(stats)})`,
    );
  requireTrustedOwner(`${kind.directory} ${directory}`, stats, `chown root ${directory}`, kind);
  const mode = stats.mode & 0o7777;
  if ((mode & GROUP_OTHER_WRITE_BITS) !== 0)
    throw new KeyFileError(
      `${kind.directory} ${directory} has mode ${octal(mode)}; it must not be writable by group or others, who could replace the ${kind.file}: chmod go-w ${directory}`,
    );
}

/** Between the checks and the open, the name may have been pointed at another file. */
export function requireSameFile(
  path: string,
  checked: Stats,
  opened: Stats,
  kind: TrustedFileKind = KEY_FILE,
): void {
  if (checked.dev !== opened.dev || checked.ino !== opened.ino || !opened.isFile())
    throw new KeyFileError(`${kind.file} ${path} was replaced while it was being read; try again`);
}

function requireTrustedOwner(what: string, stats: Stats, fix: string, kind: TrustedFileKind): void {
  const euid = process.geteuid?.() ?? 0;
  if (stats.uid === 0 || stats.uid === euid) return;
  throw new KeyFileError(
    `${what} is owned by uid ${stats.uid}; it must be owned by root or by the user running vigil (uid ${euid}), or that user could replace ${kind.forged}: ${fix}`,
  );
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return "a FIFO";
  if (stats.isDirectory()) return "a directory";
  if (stats.isSocket()) return "a socket";
  if (stats.isCharacterDevice()) return "a character device";
  if (stats.isBlockDevice()) return "a block device";
  if (stats.isSymbolicLink()) return "a symbolic link";
  return "a regular file";
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, "0");
}
