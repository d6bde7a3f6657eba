/**
 * What an import did with each line of the files it read: translated into something (and what),
 * not translated (and why), and where the files it wrote hold a placeholder that the operator
 * must replace. Every directive of the input ends up in `translated` or `notTranslated`: an
 * importer that drops a line silently would leave the operator believing it was carried over.
 */

/** One line of an input file, as written. */
export interface SourceLine {
  file: string;
  /** 1-based. */
  line: number;
  text: string;
}

export interface TranslatedDirective {
  at: SourceLine;
  /** What it became, e.g. "timing.keepalive_ms: 2000". */
  into: string;
}

export interface SkippedDirective {
  at: SourceLine;
  /** Why Vigil has no counterpart, or what to do instead. */
  why: string;
}

/** Which of the two written files a path points into. */
export type OutputDocument = "cluster" | "resources";

/** A value in a written file that stands in for something the input did not say. */
export interface Placeholder {
  document: OutputDocument;
  /** Keys and list indexes down to the value, as the YAML has them. */
  path: ReadonlyArray<string | number>;
  message: string;
  at?: SourceLine;
}

export class ImportReport {
  readonly translated: TranslatedDirective[] = [];
  readonly notTranslated: SkippedDirective[] = [];
  readonly placeholders: Placeholder[] = [];
  /** Things the operator should know that are neither a line of input nor a placeholder. */
  readonly notes: string[] = [];

  translate(at: SourceLine, into: string): void {
    this.translated.push({ at, into });
  }

  untranslated(at: SourceLine, why: string): void {
    this.notTranslated.push({ at, why });
  }

  placeholder(entry: Placeholder): void {
    this.placeholders.push(entry);
  }

  note(text: string): void {
    this.notes.push(text);
  }

  /** Every input line the report accounts for, as "file:line". */
  accountedLines(): Set<string> {
    return new Set(
      [...this.translated, ...this.notTranslated].map(({ at }) => `${at.file}:${at.line}`),
    );
  }
}

/**
 * Input the importer cannot read: a malformed line, an unknown directive, a reference to
 * something the files never define. The message starts with file:line.
 */
export class ImportError extends Error {
  override readonly name = "ImportError";

  /** `at` is where in the input, when the problem is one place of it. */
  constructor(at: Pick<SourceLine, "file" | "line"> | undefined, message: string) {
    super(at === undefined ? message : `${at.file}:${at.line}: ${message}`);
  }
}

export function where(at: Pick<SourceLine, "file" | "line">): string {
  return `${at.file}:${at.line}`;
}
