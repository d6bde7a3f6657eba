/** A value that survives JSON text unchanged, which is all the replicated state may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * JSON text with every object's keys in UTF-16 code-unit order, so that equal values give equal text
 * on every node whatever order their keys were inserted in. Written as text rather than by
 * building sorted copies: assigning a "__proto__" key to a fresh object would change its
 * prototype instead of adding the key.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`cannot encode ${value} as JSON`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  }
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const members = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort(compareCodeUnits)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
    return `{${members.join(",")}}`;
  }
  throw new TypeError(`cannot encode a ${typeof value} as JSON`);
}

/** Locale-independent ordering, so that every node sorts keys the same way. */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * What JSON.parse(JSON.stringify(value)) gives, built directly: a fresh copy holding what the
 * text would (keys in the same order, -0 as 0, non-finite numbers as null, undefined and
 * functions dropped from objects and null in arrays, as are holes). Undefined for what this does not follow
 * JSON through (toJSON, class instances, a "__proto__" key, bigints): encode those as
 * text. A few times cheaper than the text for small messages (the simulator's network).
 */
export function copyAsJson(value: unknown): JsonValue | undefined {
  const copy = copyValue(value);
  return copy === NOT_COPIED || copy === SKIPPED ? undefined : copy;
}

const NOT_COPIED = Symbol("not copied");
const SKIPPED = Symbol("skipped");

function copyValue(value: unknown): JsonValue | typeof NOT_COPIED | typeof SKIPPED {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      return Number.isFinite(value) ? (value === 0 ? 0 : value) : null;
    case "undefined":
    case "function":
    case "symbol":
      return SKIPPED;
    case "object": {
      if (value === null) return null;
      const prototype = Object.getPrototypeOf(value);
      if (prototype === Array.prototype) return copyArray(value as unknown[]);
      if (prototype !== Object.prototype && prototype !== null) return NOT_COPIED;
      return copyObject(value as Record<string, unknown>);
    }
    default:
      return NOT_COPIED;
  }
}

function copyArray(array: readonly unknown[]): JsonValue[] | typeof NOT_COPIED {
  if (typeof (array as { toJSON?: unknown }).toJSON === "function") return NOT_COPIED;
  const copy: JsonValue[] = new Array(array.length);
  for (let i = 0; i < array.length; i++) {
    const item = copyValue(array[i]);
    if (item === NOT_COPIED) return NOT_COPIED;
    copy[i] = item === SKIPPED ? null : item;
  }
  return copy;
}

function copyObject(record: Record<string, unknown>): JsonObject | typeof NOT_COPIED {
  if (typeof record.toJSON === "function") return NOT_COPIED;
  const copy: JsonObject = {};
  for (const key of Object.keys(record)) {
    if (key === "__proto__") return NOT_COPIED;
    const item = copyValue(record[key]);
    if (item === NOT_COPIED) return NOT_COPIED;
    if (item !== SKIPPED) copy[key] = item;
  }
  return copy;
}
