import { existsSync } from "node:fs";
import { loadConfigFile } from "../config/load.js";

export const DEFAULT_CONFIG_PATH = "/etc/vigil/vigil.yaml";
export const DEFAULT_SOCKET_PATH = "/run/vigil/vigil.sock";
export const DEFAULT_KEY_FILE = "/etc/vigil/authkeys";

export function configPath(explicit: string | undefined): string {
  return explicit ?? process.env.VIGIL_CONFIG ?? DEFAULT_CONFIG_PATH;
}

/** --socket wins; else the config's control.socket when a config exists; else the default. */
export async function controlSocketPath(options: {
  socket?: string;
  config?: string;
}): Promise<string> {
  if (options.socket !== undefined) return options.socket;
  const path = configPath(options.config);
  if (options.config !== undefined || existsSync(path))
    return (await loadConfigFile(path)).control.socket;
  return DEFAULT_SOCKET_PATH;
}
