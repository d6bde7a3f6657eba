/**
 * A run's transient attributes and the order the run wrote them in. A run's writes travel as
 * forwards that are resent until answered, and two of them can commit in the other order: the
 * monitor's offset read before its copy stopped, after the stop's withdrawal of it. Each write
 * the run makes carries its `seq`; the state keeps the newest applied per attribute, also once
 * the attribute is removed, and refuses an older one.
 */
import { ownValue, withEntry, withoutEntry } from "./records.js";
import type { AgentRecord } from "./types.js";

/** Why the run's write `seq` of `key` is older than one already applied, or null. */
export function staleAttributeWrite(
  agent: AgentRecord,
  key: string,
  seq: number | undefined,
): string | null {
  if (seq === undefined) return null;
  const last = agent.attributeSeqs === undefined ? undefined : ownValue(agent.attributeSeqs, key);
  if (last !== undefined && seq <= last)
    return `attribute ${key} write ${seq} is not newer than write ${last}`;
  return null;
}

/** `agent` with `key` set to `value` (null: removed), and `seq` recorded when the run wrote it. */
export function withTransientAttribute(
  agent: AgentRecord,
  key: string,
  value: string | null,
  seq: number | undefined,
): AgentRecord {
  const attributes =
    value === null
      ? withoutEntry(agent.attributes ?? {}, key)
      : withEntry(agent.attributes ?? {}, key, value);
  const { attributes: _, ...rest } = agent;
  const next: AgentRecord = Object.keys(attributes).length === 0 ? rest : { ...rest, attributes };
  if (seq === undefined) return next;
  return { ...next, attributeSeqs: withEntry(agent.attributeSeqs ?? {}, key, seq) };
}
