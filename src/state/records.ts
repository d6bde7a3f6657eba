/**
 * Records in the state are keyed by names from commands. Reading through these keeps a name
 * such as "constructor" from finding something on Object.prototype.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A copy of `record` with `key` set; the original is left alone. */
export function withEntry<T>(
  record: Readonly<Record<string, T>>,
  key: string,
  value: T,
): Record<string, T> {
  return { ...record, [key]: value };
}

/** A copy of `record` without `key`; the original is left alone. */
export function withoutEntry<T>(
  record: Readonly<Record<string, T>>,
  key: string,
): Record<string, T> {
  const copy = { ...record };
  delete copy[key];
  return copy;
}
