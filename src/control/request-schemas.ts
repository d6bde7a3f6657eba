import { z } from "zod";
import {
  clusterPropertyCommand,
  configApplyCommand,
  describeIssues,
  failCountResetCommand,
  maintenanceCommand,
  nodeFencedCommand,
  nodeStandbyCommand,
  nodeTransientAttributeCommand,
  resourceBanCommand,
  resourceClearCommand,
  resourceMoveCommand,
  resourceRoleCommand,
} from "../state/commands.js";
import { nodeNameSchema } from "../state/names.js";
import { RequestError } from "./route.js";

/*
 * Request bodies are the state's commands minus what the agent fills in itself, so every bound
 * (names, lengths, numbers) has one source: a request the state would refuse is refused here, by
 * field, and one it accepts is never refused here.
 */

/** The proposer's clock is the agent's to read; runtime switches are not compare-and-set. */
const filledByAgent = { atMs: true, expectedVersion: true } as const;

const runtimeRequests = [
  nodeStandbyCommand.omit(filledByAgent),
  maintenanceCommand.omit(filledByAgent),
  resourceMoveCommand.omit(filledByAgent),
  resourceBanCommand.omit(filledByAgent),
  resourceClearCommand.omit(filledByAgent),
  resourceRoleCommand.omit(filledByAgent),
  failCountResetCommand.omit(filledByAgent),
] as const;
const runtimeTypes = runtimeRequests.map((request) => request.shape.type.value);

/** POST /v1/runtime: the switches an operator flips (standby, maintenance, moves, bans, roles). */
export const runtimeRequestSchema = z.discriminatedUnion("type", runtimeRequests, {
  error: () => `expected "type" to be one of ${runtimeTypes.join(", ")}`,
});
export type RuntimeRequest = z.output<typeof runtimeRequestSchema>;

/** POST /v1/config: the whole configuration, applied against the version it was edited from. */
export const configApplyRequestSchema = configApplyCommand.omit({ type: true, atMs: true });

/** POST /v1/fence: fence a node now, or confirm an operator made sure it is down. */
export const fenceRequestSchema = nodeFencedCommand
  .pick({ node: true, by: true })
  .extend({ confirm: z.boolean() });

/** POST /v1/membership: a Raft membership change, not a state command; its node is one still. */
export const membershipRequestSchema = z.strictObject({
  action: z.enum(["add", "remove"]),
  node: nodeNameSchema,
});

/** The body as `schema` reads it, or a 400 naming each field that does not fit. */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  body: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  throw new RequestError(400, `bad ${what} request: ${describeIssues(parsed.error.issues)}`);
}

/**
 * POST /v1/attributes: one node attribute set (value) or removed (null), by Pacemaker's
 * commands an agent runs. reboot: the node's run holds it (node_transient_attribute); forever:
 * the node's configured attributes (node_attribute_set / _unset).
 */
export const attributeRequestSchema = nodeTransientAttributeCommand
  .pick({ node: true, key: true, value: true })
  .extend({ lifetime: z.enum(["reboot", "forever"]) });
export type AttributeRequest = z.output<typeof attributeRequestSchema>;

/** POST /v1/pacemaker/properties: a cluster property set (value) or removed (null) by an agent. */
export const propertyRequestSchema = clusterPropertyCommand.pick({ name: true, value: true });

/** POST /v1/pacemaker/ban: crm_resource --ban from an agent's operation. */
export const banRequestSchema = resourceBanCommand.pick({ resource: true, node: true });
