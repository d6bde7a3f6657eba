import { access, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { ConfigError, parseConfigText } from "../../config/load.js";
import { generateKey, readKeyFile } from "../../keys/keyfile.js";
import { writeFileAtomic } from "../../storage/atomic-file.js";
import { CommandError, UsageError } from "../errors.js";
import { composeInitFile } from "../init-file.js";
import { DEFAULT_CONFIG_PATH, DEFAULT_KEY_FILE } from "../paths.js";
import { runConfigValidate } from "./config-validate.js";

export interface InitOptions {
  cluster: string;
  node: string[];
  witness?: string;
  profile: string;
  out?: string;
  key?: string;
  force?: boolean;
}

/**
 * `vigil init`: a cluster file and key for a new cluster, from its name and its machines. The
 * file is checked by the loader before it is written, an existing one is kept unless --force,
 * and an existing key file is used as it is (the cluster may already run on it).
 */
export async function runInit(options: InitOptions): Promise<void> {
  if (options.profile !== "default" && options.profile !== "fast")
    throw new UsageError(`--profile takes default or fast, got "${options.profile}"`);
  const out = options.out ?? DEFAULT_CONFIG_PATH;
  const keyFile = options.key ?? DEFAULT_KEY_FILE;
  const file = composeInitFile({
    cluster: options.cluster,
    nodes: options.node,
    ...(options.witness === undefined ? {} : { witness: options.witness }),
    profile: options.profile,
    keyFile,
  });
  try {
    parseConfigText(file.text, out);
  } catch (error) {
    if (error instanceof ConfigError)
      throw new UsageError(`the file these flags describe is not valid:\n${error.message}`);
    throw error;
  }
  if (!options.force && (await exists(out)))
    throw new CommandError(`${out} exists; pass --force to replace it`);

  const key = (await exists(keyFile))
    ? { created: false, id: (await readKeyFile(keyFile)).at(-1)?.id }
    : await generateKey(keyFile, {});
  await mkdir(dirname(out), { recursive: true });
  await writeFileAtomic(out, file.text, 0o644);
  process.stdout.write(
    [
      `wrote ${out}`,
      key.created
        ? `created ${keyFile} (mode 0600) with key ${key.id}`
        : `kept the existing key file ${keyFile}`,
      "chosen:",
      ...file.choices.map((choice) => `  - ${choice}`),
      `next: copy ${out} and ${keyFile} to every node, start the agent there (systemctl enable --now vigil), then: vigil status`,
      "",
    ].join("\n"),
  );
  await runConfigValidate(out);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
