import type { NodeConfig, VigilConfig } from "../config/schema.js";
import {
  parseSentinelListen,
  type SentinelConfig,
  sentinelListenOf,
  serviceAddressOf,
} from "../config/sentinel-schema.js";
import type { Logger } from "../log/logger.js";
import { type SentinelPeer, type SentinelWorld, sentinelRunId } from "./sentinel-replies.js";
import { SentinelServer } from "./sentinel-server.js";
import {
  type ClusterLook,
  MasterTracker,
  type SentinelService,
  serviceView,
  switchMasterText,
} from "./sentinel-view.js";

export interface SentinelListenerOptions {
  config: VigilConfig;
  localNode: NodeConfig;
  logger: Logger;
  /** What this node knows now: the state it applied, membership, its lease. */
  look(): ClusterLook;
  /** Calls back after every state change this node applies. */
  onStateChange(callback: () => void): void;
  wrap<A extends unknown[]>(where: string, callback: (...args: A) => void): (...args: A) => void;
}

/** The channel Sentinel announces a new master on, which clients subscribe to. */
export const SWITCH_MASTER = "+switch-master";

/**
 * This agent's Sentinel-protocol listener (config `sentinel`): answers from what this node has
 * applied, and publishes `+switch-master` as the committed state moves a master, on every node.
 */
export class SentinelListener {
  private constructor(private readonly server: SentinelServer) {}

  /** Null when the configuration has no `sentinel` section. */
  static async start(options: SentinelListenerOptions): Promise<SentinelListener | null> {
    const { config, localNode, logger } = options;
    const listen = sentinelListenOf(config, localNode);
    if (config.sentinel === undefined || listen === null) return null;
    const services = sentinelServices(config, config.sentinel);
    const tracker = new MasterTracker();
    const views = () => {
      const look = options.look();
      return services.map((service) => serviceView(service, look));
    };
    const peers = otherSentinels(config, config.sentinel, localNode);
    const world: SentinelWorld = {
      runId: sentinelRunId(config.cluster.name, localNode.name),
      services: views,
      lastMaster: (name) => tracker.lastMaster(name),
      epoch: (name) => tracker.epoch(name),
      sentinels: () => {
        const look = options.look();
        return peers.map((peer) => ({ ...peer, down: !look.isUp(peer.node) }));
      },
      downAfterMs: config.timing.deadtime_ms,
    };
    const server = await SentinelServer.start({
      listen,
      world,
      logger,
      wrap: options.wrap,
    });
    tracker.observe(views());
    options.onStateChange(
      options.wrap("sentinel state change", () => {
        for (const change of tracker.observe(views())) {
          const text = switchMasterText(change);
          const subscribers = server.publish(SWITCH_MASTER, text);
          logger.info({ message: text, subscribers }, "+switch-master");
        }
      }),
    );
    const { host, port } = server.address();
    logger.info(
      { listen: `${host}:${port}`, services: services.map((service) => service.name) },
      "Sentinel protocol listening",
    );
    return new SentinelListener(server);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/** The configured services with each node's address resolved. */
export function sentinelServices(config: VigilConfig, sentinel: SentinelConfig): SentinelService[] {
  return Object.entries(sentinel.services).map(([name, service]) => ({
    name,
    resource: service.resource,
    port: service.port,
    addresses: Object.fromEntries(
      config.nodes.flatMap((node) => {
        const address = serviceAddressOf(config, service, node);
        return address === undefined ? [] : [[node.name, address]];
      }),
    ),
  }));
}

/**
 * The other agents' listeners as clients are to reach them: the address they listen on, or,
 * where that is a wildcard (0.0.0.0, ::), their address for the first service.
 */
function otherSentinels(
  config: VigilConfig,
  sentinel: SentinelConfig,
  localNode: NodeConfig,
): Array<Omit<SentinelPeer, "down">> {
  const [first] = Object.values(sentinel.services);
  return config.nodes.flatMap((node) => {
    if (node.name === localNode.name) return [];
    const listen = parseSentinelListen(node.sentinel_listen ?? sentinel.listen);
    if (listen === null) return [];
    const wildcard = listen.host === "0.0.0.0" || listen.host === "::";
    const ip = wildcard
      ? first === undefined
        ? undefined
        : serviceAddressOf(config, first, node)
      : listen.host;
    if (ip === undefined) return [];
    return [
      {
        node: node.name,
        ip,
        port: listen.port,
        runId: sentinelRunId(config.cluster.name, node.name),
      },
    ];
  });
}
