import type { DeviceHealthStatus } from "../fencing/device-health.js";
import type { FenceAttemptRecord } from "../state/types.js";
import { fenceRequestSchema, parseRequest } from "./request-schemas.js";
import { RequestError, type Route } from "./route.js";

/** What POST /v1/fence answers: the fence's outcome as committed (or why nothing was done). */
export type FenceReply =
  | {
      ok: true;
      version: number;
      detail: string;
      /** Every agent run of the operation (none for a confirmation). */
      attempts?: FenceAttemptRecord[];
      /** Set when the request joined a fence of the node that was running already. */
      joinedBy?: string;
    }
  | { ok: false; error: string; attempts?: FenceAttemptRecord[]; joinedBy?: string };

/** What POST /v1/fence/check answers, and what `vigil status` shows of the devices. */
export interface FenceDevicesReply {
  /** The devices this node may fence with, and their last monitor. */
  devices: DeviceHealthStatus[];
  /** Devices this node never fences with (those that fence only it): the nodes that use them check them. */
  checkedElsewhere: string[];
}

export interface FenceRouteDeps {
  localNodeName: string;
  /** Throws a RequestError unless `name` is a node that runs resources. */
  checkNodeName(name: string): void;
  /** Membership: `name` is heard now. */
  isUp(name: string): boolean;
  fence(node: string, by: string): Promise<FenceReply>;
  /** Records that an operator made sure `node` is off. */
  confirmDown(node: string, by: string): Promise<FenceReply>;
  /** Monitors every device this node may fence with now. */
  checkDevices(): Promise<FenceDevicesReply>;
}

/** The routes `vigil fence` uses. */
export function fenceRoutes(deps: FenceRouteDeps): Record<string, Route> {
  return {
    "POST /v1/fence": async (body): Promise<FenceReply> => {
      const { node, confirm, by } = parseRequest(fenceRequestSchema, body, "fence");
      deps.checkNodeName(node);
      if (node === deps.localNodeName) {
        throw new RequestError(
          409,
          `refusing to fence ${node} from itself: run it on another node`,
        );
      }
      if (!confirm) return deps.fence(node, by);
      if (deps.isUp(node)) {
        throw new RequestError(
          409,
          `node ${node} is up (its heartbeats arrive): it is not down, so refusing to confirm that it is`,
        );
      }
      return deps.confirmDown(node, by);
    },
    "POST /v1/fence/check": (): Promise<FenceDevicesReply> => deps.checkDevices(),
  };
}
