/**
 * Placement keys of clone instances. A clone of a primitive has one key per instance,
 * "<clone>:<n>"; a clone of a group has one key per member per instance, "<clone>:<n>/<member>".
 */
export function cloneInstanceKey(cloneId: string, index: number, member?: string): string {
  return member === undefined ? `${cloneId}:${index}` : `${cloneId}:${index}/${member}`;
}

/** The instance part of a clone key ("db:1/ip" → { index: 1, member: "ip" }), if `key` belongs to `cloneId`. */
export function parseCloneInstanceKey(
  cloneId: string,
  key: string,
): { index: number; member: string | undefined } | undefined {
  const prefix = `${cloneId}:`;
  if (!key.startsWith(prefix)) return undefined;
  const match = /^(\d+)(?:\/(.+))?$/.exec(key.slice(prefix.length));
  if (match === null) return undefined;
  return { index: Number(match[1]), member: match[2] };
}
