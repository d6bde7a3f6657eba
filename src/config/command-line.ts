/**
 * Splits a command line given as one string (`vigil guard --action "CMD ARG..."`) into argv, the
 * way a POSIX shell splits words, without running a shell: blanks separate words; '...' keeps
 * everything literally; "..." keeps everything but `\"`, `\\`, `\$` and `` \` ``, which lose
 * their backslash; a backslash outside quotes keeps the next character. No variables, globs,
 * redirections or operators: for those, run a shell explicitly (`sh -c '...'`). Pure.
 */
export function splitCommandLine(
  text: string,
): { ok: true; argv: string[] } | { ok: false; error: string } {
  const argv: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) argv.push(word);
      word = "";
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, error: `unterminated ' in ${JSON.stringify(text)}` };
      word += text.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= text.length)
          return { ok: false, error: `unterminated " in ${JSON.stringify(text)}` };
        const d = text[i]!;
        if (d === '"') break;
        const next = text[i + 1];
        if (d === "\\" && next !== undefined && '"\\$`'.includes(next)) {
          word += next;
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === "\\") {
      const next = text[i + 1];
      if (next === undefined) return { ok: false, error: `trailing \\ in ${JSON.stringify(text)}` };
      word += next;
      i += 2;
    } else {
      word += c;
      i++;
    }
  }
  if (inWord) argv.push(word);
  return { ok: true, argv };
}

/**
 * The self-fence action as the guard will run it: its argv, or why it cannot be one. Pure, for
 * the configuration's schema: a quote left open or nothing but blanks is refused where it is
 * written, not found by a guard that must fence.
 */
export function selfFenceArgv(
  action: string,
): { ok: true; argv: string[] } | { ok: false; error: string } {
  const split = splitCommandLine(action);
  if (!split.ok) return split;
  if (split.argv.length === 0) return { ok: false, error: "no command in it, only blanks" };
  return split;
}
