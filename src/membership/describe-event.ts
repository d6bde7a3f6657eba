import type { MembershipEvent } from "./types.js";

/**
 * One line for an event, from the point of view of the node that saw it: "beta DEAD (...)".
 * The demo's view and `vigil events` say it alike.
 */
export function describeMembershipEvent(event: MembershipEvent): string {
  switch (event.type) {
    case "node_up":
      return `${event.name} up (incarnation ${event.incarnation})`;
    case "node_dead":
      return `${event.name} DEAD (${event.reason}, silent ${Math.round(event.silentMs)} ms)`;
    case "node_left":
      return `${event.name} left`;
    case "link_up":
      return `${event.name} link ${event.link} up`;
    case "link_down":
      return `${event.name} link ${event.link} down`;
    case "heartbeat_late":
      return `${event.name} late on ${event.link} (${Math.round(event.silentMs)} ms)`;
    case "local_stall":
      return `stalled ${Math.round(event.stalledMs)} ms`;
  }
}
