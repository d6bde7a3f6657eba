import { loadConfigFile } from "../../config/load.js";
import { configPath } from "../paths.js";

export async function runConfigValidate(path: string | undefined): Promise<void> {
  const file = configPath(path);
  const config = await loadConfigFile(file);
  const { timing } = config;
  process.stdout.write(
    `${[
      `${file}: valid`,
      `  cluster ${config.cluster.name} (id ${config.clusterId})`,
      `  nodes: ${config.nodes.map((node) => `${node.name} (${node.id})`).join(", ")}`,
      `  links: ${config.links.map((link) => `${link.name} (${link.type})`).join(", ")}`,
      `  timing: profile ${timing.profile}, keepalive ${timing.keepalive_ms} ms, warntime ${timing.warntime_ms} ms, deadtime ${timing.deadtime_ms} ms, initdead ${timing.initdead_ms} ms`,
      `  detector: ${config.detector.type}`,
    ].join("\n")}\n`,
  );
}
