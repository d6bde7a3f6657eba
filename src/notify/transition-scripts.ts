import type { TransitionScriptKind } from "../resource-model/hooks-schema.js";
import type { JsonObject } from "../state/json.js";
import type { EventDraft } from "../state/notification-events.js";
import type { HookTarget } from "./hook-target.js";

const TRANSITIONS: Partial<Record<EventDraft["kind"], TransitionScriptKind>> = {
  resource_started: "started",
  resource_stopped: "stopped",
  resource_promoted: "promoted",
  resource_demoted: "demoted",
};

/**
 * keepalived's notify_master/notify_backup for a resource: the script its definition names for
 * this transition (a clone's copies use the cloned resource's), run as `SCRIPT KEY TRANSITION`.
 */
export function transitionScript(document: JsonObject, event: EventDraft): HookTarget | null {
  const transition = TRANSITIONS[event.kind];
  if (transition === undefined || event.resource === undefined) return null;
  const base = event.resource.split(":")[0] ?? event.resource;
  const clone = recordOf(entryOf(document.clones, base));
  const primitiveId = clone !== undefined ? stringOf(clone.of) : base;
  if (primitiveId === undefined) return null;
  const primitive = recordOf(entryOf(document.resources, primitiveId));
  const script = stringOf(entryOf(primitive?.notify, transition));
  return script === undefined ? null : { run: script, args: [event.resource, transition] };
}

function entryOf(record: unknown, key: string): unknown {
  const object = recordOf(record);
  return object !== undefined && Object.hasOwn(object, key) ? object[key] : undefined;
}

function recordOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
