import { loadConfigFile } from "../../config/load.js";
import { checkFenceDevices } from "../../fencing/check-devices.js";
import { FenceRunner } from "../../fencing/fence-runner.js";
import { systemClock } from "../../time/clock.js";
import { configPath } from "../paths.js";

/**
 * `vigil config validate`: the file on its own, then its fence devices against the fence agents
 * installed on this machine (their meta-data and `validate-all`; no device is contacted).
 */
export async function runConfigValidate(path: string | undefined): Promise<void> {
  const file = configPath(path);
  const config = await loadConfigFile(file, (loaded) =>
    checkFenceDevices(new FenceRunner({ fencing: loaded.fencing, clock: systemClock })),
  );
  const { timing } = config;
  const devices = Object.entries(config.fencing.devices);
  process.stdout.write(
    `${[
      `${file}: valid`,
      `  cluster ${config.cluster.name} (id ${config.clusterId})`,
      `  nodes: ${config.nodes.map((node) => `${node.name} (${node.id})`).join(", ")}`,
      `  links: ${config.links.map((link) => `${link.name} (${link.type})`).join(", ")}`,
      `  timing: profile ${timing.profile}, keepalive ${timing.keepalive_ms} ms, warntime ${timing.warntime_ms} ms, deadtime ${timing.deadtime_ms} ms, initdead ${timing.initdead_ms} ms`,
      `  detector: ${config.detector.type}`,
      ...(devices.length === 0
        ? []
        : [
            `  fence devices: ${devices.map(([name, device]) => `${name} (${device.agent})`).join(", ")}, checked against the agents installed here`,
          ]),
    ].join("\n")}\n`,
  );
}
