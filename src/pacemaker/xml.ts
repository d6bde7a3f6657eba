/** XML as Pacemaker's tools print it: one element a line, attributes double-quoted and escaped. */

export function xmlEscape(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/** `name="value" …` in the order given (agents grep the lines, so the order is kept). */
export function xmlAttributes(attributes: ReadonlyArray<readonly [string, string]>): string {
  return attributes.map(([name, value]) => `${name}="${xmlEscape(value)}"`).join(" ");
}

/** An element's line: `<tag a="b"/>`, or its opening `<tag a="b">` when it has children. */
export function xmlLine(
  depth: number,
  tag: string,
  attributes: ReadonlyArray<readonly [string, string]>,
  children: readonly string[] = [],
): string[] {
  const indent = "  ".repeat(depth);
  const open = attributes.length === 0 ? `<${tag}` : `<${tag} ${xmlAttributes(attributes)}`;
  if (children.length === 0) return [`${indent}${open}/>`];
  return [`${indent}${open}>`, ...children, `${indent}</${tag}>`];
}
