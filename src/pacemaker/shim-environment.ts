/**
 * The environment that puts Vigil's Pacemaker commands in front of an operation: the shims
 * directory first on PATH and as HA_SBIN_DIR (ocf-shellfuncs' default is /usr/sbin, and agents
 * call "${HA_SBIN_DIR}/crm_master"), and what the shims need to reach this node's agent.
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { pacemakerdVersionText } from "./crm-feature-set.js";

/** shims/pacemaker/ of the installation: src/pacemaker/ and dist/pacemaker/ are both two down. */
export const PACEMAKER_SHIMS_DIR = fileURLToPath(new URL("../../shims/pacemaker", import.meta.url));
/** The compiled command module the shims run (cli/pacemaker-shim.ts), the same from src/ as from dist/. */
const SHIM_MAIN = fileURLToPath(new URL("../../dist/cli/pacemaker-shim.js", import.meta.url));

/**
 * ocf-shellfuncs' crm_mon_no_validation runs `"$SHELL" -c "CIB_file=<(cibadmin -Q …) crm_mon …"`:
 * without SHELL it runs nothing (and redis, galera and rabbitmq then never see a promoted copy),
 * and the process substitution needs bash, which /bin/sh often is not.
 */
const OPERATION_SHELL = existsSync("/bin/bash") ? "/bin/bash" : "/bin/sh";

export interface PacemakerShimOptions {
  /** The agent's control socket, which the commands ask. */
  socketPath: string;
  nodeName: string;
  /** The PATH of the operation without the shims (the agents' base PATH). */
  basePath: string;
  /** Where a refused command leaves its words, for the operation to fail with them. */
  refusalsFile: string;
}

export function pacemakerShimEnvironment(options: PacemakerShimOptions): Record<string, string> {
  return {
    PATH: `${PACEMAKER_SHIMS_DIR}:${options.basePath}`,
    HA_SBIN_DIR: PACEMAKER_SHIMS_DIR,
    SHELL: OPERATION_SHELL,
    VIGIL_NODE_BIN: process.execPath,
    VIGIL_PACEMAKER_SHIM: SHIM_MAIN,
    VIGIL_CONTROL_SOCKET: options.socketPath,
    VIGIL_NODE: options.nodeName,
    VIGIL_PACEMAKER_REFUSALS: options.refusalsFile,
    // The shims answer `pacemakerd -$` (and `crm_node -n`) themselves, without starting Node.js.
    VIGIL_PACEMAKERD_VERSION: pacemakerdVersionText(),
  };
}
