import { generateKey } from "../../keys/keyfile.js";
import { UsageError } from "../errors.js";
import { DEFAULT_KEY_FILE } from "../paths.js";

export async function runKeygen(options: { file?: string; id?: string }): Promise<void> {
  const path = options.file ?? DEFAULT_KEY_FILE;
  let id: number | undefined;
  if (options.id !== undefined) {
    id = Number(options.id);
    if (!Number.isInteger(id) || id < 1 || id > 255)
      throw new UsageError(`--id takes a key id from 1 to 255, got "${options.id}"`);
  }
  const result = await generateKey(path, id === undefined ? {} : { id });
  process.stdout.write(
    result.created
      ? `created ${path} (mode 0600) with key ${result.id}; copy it to every node of the cluster\n`
      : `added key ${result.id} to ${path}; copy it to every node and reload the agents (SIGHUP); see docs/configuration.md, "Rotating the key", to switch signing keys without a node going unheard\n`,
  );
}
