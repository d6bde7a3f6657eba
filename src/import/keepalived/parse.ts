import { ImportError, type SourceLine } from "../report.js";

/** One keepalived statement: its words on one line, and the block it opens, if any. */
export interface Statement extends SourceLine {
  words: string[];
  block?: Statement[];
}

interface Token {
  text: string;
  line: number;
  quoted: boolean;
}

/**
 * keepalived.conf: statements of words, one a line; a `{` at the end of a statement opens its
 * block, closed by `}`; `#` and `!` start comments; "double quotes" keep a word's blanks (a
 * script's command line). Unbalanced braces and quotes are errors at their line.
 */
export function parseKeepalived(file: string, text: string): Statement[] {
  const rawLines = text.split(/\r?\n/);
  const tokens: (Token | "newline")[] = [];
  rawLines.forEach((raw, index) => {
    const line = index + 1;
    let at = 0;
    while (at < raw.length) {
      const char = raw[at]!;
      if (/\s/.test(char)) {
        at++;
      } else if (char === "#" || char === "!") {
        break;
      } else if (char === '"') {
        const end = raw.indexOf('"', at + 1);
        if (end < 0) throw new ImportError({ file, line }, "a quote that is never closed");
        tokens.push({ text: raw.slice(at + 1, end), line, quoted: true });
        at = end + 1;
      } else if (char === "{" || char === "}") {
        tokens.push({ text: char, line, quoted: false });
        at++;
      } else {
        const match = /^[^\s{}"]+/.exec(raw.slice(at))!;
        tokens.push({ text: match[0], line, quoted: false });
        at += match[0].length;
      }
    }
    tokens.push("newline");
  });

  let position = 0;
  const textOf = (line: number) => rawLines[line - 1]!.trim();
  const parseBlock = (opener: Statement | undefined): Statement[] => {
    const statements: Statement[] = [];
    let current: Statement | undefined;
    while (position < tokens.length) {
      const token = tokens[position++]!;
      if (token === "newline") {
        current = undefined;
        continue;
      }
      if (!token.quoted && token.text === "}") {
        if (opener === undefined)
          throw new ImportError({ file, line: token.line }, "a } with no block to close");
        return statements;
      }
      if (!token.quoted && token.text === "{") {
        // A brace on a line of its own opens the block of the statement before it.
        const previous = statements.at(-1);
        const owner: Statement =
          current ??
          (previous !== undefined && previous.block === undefined
            ? previous
            : { file, line: token.line, text: textOf(token.line), words: [] });
        if (owner.words.length === 0)
          throw new ImportError({ file, line: token.line }, "a { that belongs to no statement");
        owner.block = parseBlock(owner);
        current = undefined;
        continue;
      }
      if (current === undefined) {
        current = { file, line: token.line, text: textOf(token.line), words: [] };
        statements.push(current);
      }
      current.words.push(token.text);
    }
    if (opener !== undefined)
      throw new ImportError(opener, `the block of "${opener.words.join(" ")}" is never closed`);
    return statements;
  };
  return parseBlock(undefined);
}
