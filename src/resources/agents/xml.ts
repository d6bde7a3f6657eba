/**
 * A small XML reader for agent meta-data: elements, attributes, text, comments, CDATA, the XML
 * declaration and a DOCTYPE without an internal subset. No namespaces, no DTD processing, no
 * external entities (nothing is ever fetched). Enough for the OCF meta-data format; errors name
 * the offset where the document went wrong.
 */

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text directly inside this element (not its children's). */
  text: string;
}

export class XmlParseError extends Error {
  constructor(message: string, offset: number) {
    super(`invalid XML at offset ${offset}: ${message}`);
    this.name = "XmlParseError";
  }
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const ATTRIBUTE = /\s+([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/y;

export function parseXml(source: string): XmlElement {
  let position = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;

  const fail = (message: string): never => {
    throw new XmlParseError(message, position);
  };
  const skipPast = (terminator: string, what: string) => {
    const end = source.indexOf(terminator, position);
    if (end < 0) fail(`unterminated ${what}`);
    const body = source.slice(position, end);
    position = end + terminator.length;
    return body;
  };

  while (position < source.length) {
    const lt = source.indexOf("<", position);
    const textEnd = lt < 0 ? source.length : lt;
    if (textEnd > position) {
      const text = source.slice(position, textEnd);
      const parent = stack.at(-1);
      if (parent) parent.text += decodeEntities(text, position);
      else if (text.trim() !== "") fail("text outside the root element");
      position = textEnd;
      continue;
    }
    if (source.startsWith("<?", position)) {
      position += 2;
      skipPast("?>", "processing instruction");
    } else if (source.startsWith("<!--", position)) {
      position += 4;
      skipPast("-->", "comment");
    } else if (source.startsWith("<![CDATA[", position)) {
      position += 9;
      const text = skipPast("]]>", "CDATA section");
      const parent = stack.at(-1) ?? fail("CDATA outside the root element");
      parent.text += text;
    } else if (source.startsWith("<!DOCTYPE", position)) {
      position += 9;
      const body = skipPast(">", "DOCTYPE");
      if (body.includes("[")) fail("DOCTYPE internal subsets are not supported");
    } else if (source.startsWith("</", position)) {
      position += 2;
      const name = readName();
      skipWhitespace();
      if (source[position] !== ">") fail(`expected ">" to close </${name}`);
      position += 1;
      const open = stack.pop();
      if (!open || open.name !== name) {
        fail(`</${name}> does not match <${open?.name ?? "nothing"}>`);
      }
    } else {
      position += 1;
      const element: XmlElement = { name: readName(), attributes: {}, children: [], text: "" };
      for (;;) {
        ATTRIBUTE.lastIndex = position;
        const match = ATTRIBUTE.exec(source);
        if (!match) break;
        const [, key = "", doubleQuoted, singleQuoted] = match;
        element.attributes[key] = decodeEntities(doubleQuoted ?? singleQuoted ?? "", position);
        position = ATTRIBUTE.lastIndex;
      }
      skipWhitespace();
      const selfClosing = source.startsWith("/>", position);
      if (!selfClosing && source[position] !== ">") {
        fail(`malformed tag <${element.name}>`);
      }
      position += selfClosing ? 2 : 1;
      const parent = stack.at(-1);
      if (parent) parent.children.push(element);
      else if (root) fail("more than one root element");
      else root = element;
      if (!selfClosing) stack.push(element);
    }
  }
  if (stack.length > 0) fail(`<${stack.at(-1)?.name}> is never closed`);
  return root ?? fail("no root element");

  function readName(): string {
    NAME.lastIndex = position;
    const match = NAME.exec(source);
    if (!match) fail("expected an element name");
    position = NAME.lastIndex;
    return match?.[0] ?? "";
  }
  function skipWhitespace(): void {
    while (position < source.length && /\s/.test(source[position] ?? "")) position += 1;
  }
}

const NAMED_ENTITIES: Record<string, string> = {
  lt: "<",
  gt: ">",
  amp: "&",
  quot: '"',
  apos: "'",
};

function decodeEntities(text: string, offset: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith("#x")) return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
    if (entity.startsWith("#")) return String.fromCodePoint(Number.parseInt(entity.slice(1), 10));
    const named = NAMED_ENTITIES[entity];
    if (named === undefined) throw new XmlParseError(`unknown entity ${whole}`, offset);
    return named;
  });
}

export function childElements(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((child) => child.name === name);
}

export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((child) => child.name === name);
}
