import {
  type Document,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
} from "yaml";
import type { ConfigPath } from "./errors.js";

export interface SourcePosition {
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
}

const START_OF_FILE: SourcePosition = { line: 1, column: 1 };

/**
 * Maps a path into the parsed configuration back to where it was written, so that problems
 * found after parsing (by zod or by cross-field checks) still point at a line and column.
 */
export class YamlLocator {
  constructor(
    private readonly document: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /**
   * The position of the value at `path`; when part of the path is absent (a missing required
   * key), the position of the deepest node that does exist, which is the mapping that lacks it.
   */
  valueAt(path: ConfigPath): SourcePosition {
    let node = this.resolve(this.document.contents);
    let position = this.positionOf(node) ?? START_OF_FILE;
    for (const segment of path) {
      const child = this.child(node, segment);
      if (child === undefined) break;
      node = this.resolve(child.value);
      position = this.positionOf(node) ?? this.positionOf(child.key) ?? position;
    }
    return position;
  }

  /** The position of `key` itself inside the mapping at `path` (for unknown keys). */
  keyAt(path: ConfigPath, key: string): SourcePosition {
    const mapping = this.nodeAt(path);
    const pair = mapping === undefined ? undefined : this.child(mapping, key);
    return this.positionOf(pair?.key) ?? this.valueAt(path);
  }

  private nodeAt(path: ConfigPath): unknown {
    let node = this.resolve(this.document.contents);
    for (const segment of path) {
      const child = this.child(node, segment);
      if (child === undefined) return undefined;
      node = this.resolve(child.value);
    }
    return node;
  }

  private child(
    node: unknown,
    segment: string | number,
  ): { key: unknown; value: unknown } | undefined {
    if (isSeq(node) && typeof segment === "number") {
      const item = node.items[segment];
      return item === undefined ? undefined : { key: undefined, value: item };
    }
    if (isMap(node)) {
      // Compared as text: `1: ...` in YAML is the number 1, but the parsed object's key is "1".
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
      );
      return pair === undefined ? undefined : { key: pair.key, value: pair.value };
    }
    return undefined;
  }

  private resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.document) : node;
  }

  private positionOf(node: unknown): SourcePosition | undefined {
    const range = (node as Node | null | undefined)?.range;
    if (range === undefined || range === null) return undefined;
    const { line, col } = this.lineCounter.linePos(range[0]);
    return { line, column: col };
  }
}
