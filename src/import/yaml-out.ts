import { Document, isNode } from "yaml";

/** A comment to put beside one value of a written file. */
export interface ValueComment {
  path: ReadonlyArray<string | number>;
  text: string;
}

/**
 * Writes an imported file: the header says where it came from, and each placeholder carries its
 * comment on its own line, so that an editor's search for "CHANGE ME" finds every one.
 */
export function yamlWithComments(
  value: object,
  header: readonly string[],
  comments: readonly ValueComment[],
): string {
  const document = new Document(value);
  document.commentBefore = header.map((line) => ` ${line}`).join("\n");
  for (const { path, text } of comments) {
    const node = document.getIn(path, true);
    if (!isNode(node)) throw new Error(`no value at ${path.join(".")} to comment on`);
    node.comment = node.comment ? `${node.comment}; ${text}` : ` ${text}`;
  }
  return document.toString({ lineWidth: 0 });
}
