import { ImportError, type ImportReport } from "../report.js";
import type { WordLine } from "../source-lines.js";

const METHODS = new Set(["sha1", "md5", "crc"]);

/**
 * authkeys: `auth N` and `N METHOD [SECRET]` lines. None is used: Vigil signs every frame with
 * HMAC-SHA256 under keys derived from a 32-byte random secret, and an old sha1/md5 secret (often
 * a short word) would carry over its weakness. The operator makes a new key.
 */
export function translateAuthkeys(lines: readonly WordLine[], report: ImportReport): void {
  for (const line of lines) {
    const [first, method] = line.words as [string, string | undefined];
    if (first === "auth") {
      if (!/^\d+$/.test(method ?? ""))
        throw new ImportError(line, "auth: expected the key number to use, e.g. auth 1");
      report.untranslated(
        line,
        "Vigil signs with the newest key of its own key file (or keys.sign_key_id)",
      );
      continue;
    }
    if (!/^\d+$/.test(first) || method === undefined || !METHODS.has(method))
      throw new ImportError(
        line,
        "expected `auth N` or `N sha1|md5|crc SECRET` (the secret is not shown here)",
      );
    report.untranslated(
      { ...line, text: `${first} ${method} (secret not shown)` },
      method === "crc"
        ? "crc authenticates nothing; Vigil keys are new: run `vigil keygen` on one node and copy /etc/vigil/authkeys (mode 0600) to every node"
        : `${method} keys are not used: Vigil keys are new (HMAC-SHA256, 32 random bytes): run \`vigil keygen\` on one node and copy /etc/vigil/authkeys (mode 0600) to every node`,
    );
  }
}
