import type { ClusterState } from "../state/types.js";
import {
  type AnsweringNode,
  type ClusterEvent,
  clusterEvents,
  eventsAfter,
  type SeenMembershipEvent,
} from "./cluster-events.js";
import { queryParameters, RequestError, type Route } from "./route.js";

export interface EventRouteDeps {
  node: AnsweringNode;
  /** The replicated state as this node applied it; null before coordination has started. */
  state(): ClusterState | null;
  seen(): readonly SeenMembershipEvent[];
}

/** GET /v1/events's reply (docs/api.md). */
export interface EventsReply {
  answeredBy: string;
  /** The event named by `after` is no longer kept: every kept event is in `events`. */
  gap: boolean;
  events: ClusterEvent[];
}

/** Longer than any id this agent makes (a fence's: node, clock, proposer). */
const MAX_ID_CHARS = 512;

/** GET /v1/events[?after=ID]: the cluster's events in order, those after ID when it is given. */
export function eventRoutes(deps: EventRouteDeps): Record<string, Route> {
  return {
    "GET /v1/events": (_body, query): EventsReply => {
      const { after } = queryParameters(query, ["after"]);
      if (after !== undefined && (after === "" || after.length > MAX_ID_CHARS)) {
        throw new RequestError(
          400,
          `query parameter after takes an event id (1 to ${MAX_ID_CHARS} characters)`,
        );
      }
      const all = clusterEvents(deps.state(), deps.node, deps.seen());
      return { answeredBy: deps.node.name, ...eventsAfter(all, after) };
    },
  };
}
