import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { splitCommandLine } from "../../src/config/command-line.js";

describe("splitting a command line into argv", () => {
  test("blanks separate words; quotes and backslashes as in a POSIX shell", () => {
    assert.deepEqual(splitCommandLine("systemctl reboot --force --force"), {
      ok: true,
      argv: ["systemctl", "reboot", "--force", "--force"],
    });
    assert.deepEqual(splitCommandLine(`sh -c 'echo fenced > /tmp/x'`), {
      ok: true,
      argv: ["sh", "-c", "echo fenced > /tmp/x"],
    });
    assert.deepEqual(splitCommandLine(`  a   "b c"\t'd'"e"  f\\ g "h\\"i\\\\" 'j\\k' `), {
      ok: true,
      argv: ["a", "b c", "de", "f g", 'h"i\\', "j\\k"],
    });
    assert.deepEqual(splitCommandLine(`"" ''`), { ok: true, argv: ["", ""] });
    assert.deepEqual(splitCommandLine(""), { ok: true, argv: [] });
  });

  test("unterminated quotes and a trailing backslash are errors", () => {
    for (const text of [`sh -c 'echo`, `a "b`, "a\\"]) {
      const split = splitCommandLine(text);
      assert.equal(split.ok, false, text);
    }
  });
});
