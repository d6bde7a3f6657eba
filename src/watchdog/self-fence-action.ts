import { selfFenceArgv } from "../config/command-line.js";
import { ConfigError } from "../config/errors.js";
import type { WatchdogConfig } from "../config/safety-schema.js";
import { findProgram } from "../resources/executor/program-path.js";

/**
 * At agent start, with the node guard on: the action's program exists here and may be run.
 * Like the watchdog device, checked on the node, not by `vigil config validate` (which may run
 * elsewhere): a node whose guard could not fence it refuses to start rather than find out when
 * the fence is needed.
 */
export async function checkSelfFenceAction(
  config: WatchdogConfig,
  searchPath: string = process.env.PATH ?? "",
): Promise<void> {
  if (!config.lease_guard) return;
  const parsed = selfFenceArgv(config.action);
  if (!parsed.ok) throw new ConfigError(`watchdog.action: ${parsed.error}`);
  const program = parsed.argv[0]!;
  if ((await findProgram(program, searchPath)) !== undefined) return;
  const where = program.includes("/") ? "" : ` (searched PATH: ${searchPath || "empty"})`;
  throw new ConfigError(
    `watchdog.action: ${program} is not an executable program on this host${where}: the node guard could not fence this node when it must; install it or change watchdog.action`,
  );
}
