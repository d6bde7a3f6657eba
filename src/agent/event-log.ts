import type { Logger } from "../log/logger.js";
import type { MembershipEvent } from "../membership/types.js";

/** Every membership event becomes one structured log line; losses are warnings. */
export function logMembershipEvent(logger: Logger, event: MembershipEvent): void {
  const { type, atMs: _atMs, ...fields } = event;
  switch (type) {
    case "node_dead":
    case "link_down":
    case "heartbeat_late":
    case "local_stall":
      logger.warn({ event: type, ...fields }, describe(event));
      return;
    default:
      logger.info({ event: type, ...fields }, describe(event));
  }
}

function describe(event: MembershipEvent): string {
  switch (event.type) {
    case "node_up":
      return event.previousIncarnation === null
        ? `node ${event.name} is up`
        : `node ${event.name} is up (incarnation ${event.incarnation}, was ${event.previousIncarnation})`;
    case "node_dead":
      return `node ${event.name} is dead (${event.reason}, silent ${Math.round(event.silentMs)} ms)`;
    case "node_left":
      return `node ${event.name} left the cluster`;
    case "link_up":
      return `link ${event.link} to ${event.name} is up`;
    case "link_down":
      return `link ${event.link} to ${event.name} is down (silent ${Math.round(event.silentMs)} ms)`;
    case "heartbeat_late":
      return `late heartbeat from ${event.name} on ${event.link} (silent ${Math.round(event.silentMs)} ms)`;
    case "local_stall":
      return `this agent was stalled for ${Math.round(event.stalledMs)} ms; peers get a fresh deadtime`;
  }
}
