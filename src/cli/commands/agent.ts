import { hostname } from "node:os";
import { Agent } from "../../agent/agent.js";
import { loadConfigFile } from "../../config/load.js";
import { findLocalNode } from "../../config/resolve.js";
import { createLogger, type Logger, type LogLevel } from "../../log/logger.js";
import { raiseAgentPriority } from "../../scheduling/priority.js";
import { tuneV8ForDaemon } from "../daemon-v8.js";
import { configPath } from "../paths.js";
import { containUncaught } from "./contain-uncaught.js";

export interface AgentCommandOptions {
  config?: string;
  node?: string;
  socket?: string;
  stateDir?: string;
  logLevel?: LogLevel;
}

/** Runs the agent in the foreground until SIGTERM/SIGINT, then says goodbye to the peers. */
export async function runAgent(options: AgentCommandOptions): Promise<void> {
  tuneV8ForDaemon();
  const config = await loadConfigFile(configPath(options.config));
  const localNode = findLocalNode(config, options.node, hostname());
  const logger = createLogger({
    level: options.logLevel ?? config.log.level,
    node: localNode.name,
  });
  const notRaised = raiseAgentPriority(config.scheduling.nice);
  if (notRaised !== null) logger.warn(notRaised);
  const agent = await Agent.start({
    config,
    localNode,
    logger,
    socketPath: options.socket ?? config.control.socket,
    stateDir: options.stateDir ?? config.state_dir,
  });

  containUncaught(agent.guard);

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    agent.stop(`received ${signal}`).then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error }, "clean shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // One reload at a time, in the order the signals came: a slow read must not put an older
  // file in force after a newer one.
  let reloads = Promise.resolve();
  process.on("SIGHUP", () => {
    reloads = reloads.then(() => reload(agent, options, logger));
  });
  await new Promise<never>(() => {});
}

/**
 * SIGHUP: the key file and the API's tokens file, each on its own, so that a mistake in one
 * keeps only that one as it was. Neither can stop the agent.
 */
async function reload(agent: Agent, options: AgentCommandOptions, logger: Logger): Promise<void> {
  // The config is read again for keys.sign_key_id only: pinning the signing key and moving
  // the pin is how a key is rotated without any node going unheard.
  await loadConfigFile(configPath(options.config))
    .then((fresh) => agent.reloadKeys(fresh.keys.sign_key_id))
    .catch((error: Error) =>
      logger.error({ err: error.message }, "key reload failed; keeping the old keys"),
    );
  await agent
    .reloadApiTokens()
    .catch((error: Error) =>
      logger.error({ err: error.message }, "API tokens reload failed; keeping the old tokens"),
    );
}
