import { type ClusterKey, MAX_KEY_ID, MIN_SECRET_BYTES } from "../wire/keyring.js";
import { KeyFileError } from "./errors.js";

/**
 * The key file is text: one key per line as `ID SECRET_BASE64`, `#` comments and blank lines
 * ignored. Errors name the line but never echo it: the line holds a secret.
 */
export function parseKeyFileText(text: string, path: string): ClusterKey[] {
  const keys = parseKeyLines(text, path);
  if (keys.length === 0)
    throw new KeyFileError(
      `key file ${path} holds no keys; add one with: vigil keygen --file ${path}`,
    );
  return keys;
}

/** The keys in the text, which may be none (a file of comments only). */
export function parseKeyLines(text: string, path: string): ClusterKey[] {
  const keys: ClusterKey[] = [];
  const lineOfId = new Map<number, number>();
  text.split("\n").forEach((rawLine, index) => {
    const lineNumber = index + 1;
    const line = rawLine.replace(/#.*$/, "").trim();
    if (line === "") return;
    const where = `key file ${path} line ${lineNumber}`;
    const fields = line.split(/\s+/);
    if (fields.length !== 2)
      throw new KeyFileError(
        `${where}: expected "ID SECRET_BASE64" (a key id, a space, a base64 secret), got ${fields.length} field${fields.length === 1 ? "" : "s"}`,
      );
    const [idText, secretText] = fields as [string, string];
    if (!/^\d{1,3}$/.test(idText) || Number(idText) < 1 || Number(idText) > MAX_KEY_ID)
      throw new KeyFileError(`${where}: the key id must be a number from 1 to ${MAX_KEY_ID}`);
    const id = Number(idText);
    const earlier = lineOfId.get(id);
    if (earlier !== undefined)
      throw new KeyFileError(
        `${where}: key id ${id} is already used on line ${earlier}; each key needs its own id`,
      );
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(secretText) || secretText.length % 4 !== 0)
      throw new KeyFileError(`${where}: the secret of key ${id} is not valid base64`);
    const secret = Buffer.from(secretText, "base64");
    if (secret.length < MIN_SECRET_BYTES)
      throw new KeyFileError(
        `${where}: the secret of key ${id} is ${secret.length} bytes; at least ${MIN_SECRET_BYTES} random bytes are required (vigil keygen makes one)`,
      );
    lineOfId.set(id, lineNumber);
    keys.push({ id, secret });
  });
  return keys;
}

export function formatKeyLine(key: ClusterKey): string {
  return `${key.id} ${key.secret.toString("base64")}`;
}

export const KEY_FILE_HEADER = [
  "# Vigil cluster keys, one per line: ID SECRET_BASE64 (id 1-255, secret >= 32 random bytes).",
  "# Identical on every node, mode 0600. Agents accept every key here and sign with the",
  "# highest id unless keys.sign_key_id pins one. Written by vigil keygen.",
].join("\n");
