import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { ApiError } from "../../src/api/errors.js";
import { parseTokens, readTokensFile } from "../../src/api/tokens.js";
import { KeyFileError } from "../../src/keys/errors.js";

const READ = "r".repeat(40);
const OPERATE = "0123456789abcdef0123456789abcdef";

test("a tokens file: role, name and token a line, comments and blank lines ignored", () => {
  const tokens = parseTokens(
    `# role name token\n\nread grafana ${READ}  # dashboards\n  operate   alice@ops  ${OPERATE}\n`,
    "/etc/vigil/api-tokens",
  );
  assert.deepEqual(tokens, [
    { role: "read", name: "grafana", token: READ },
    { role: "operate", name: "alice@ops", token: OPERATE },
  ]);
});

test("each problem names the file and line", () => {
  const problem = (text: string) => {
    try {
      parseTokens(text, "/t");
    } catch (error) {
      assert.ok(error instanceof ApiError);
      return error.message;
    }
    assert.fail("expected the tokens to be refused");
  };
  assert.equal(
    problem(`read a ${READ}\nwrite b ${OPERATE}\n`),
    'tokens file /t:2: role "write" is neither read nor operate',
  );
  assert.equal(
    problem(`\nread a\n`),
    "tokens file /t:2: expected ROLE NAME TOKEN (3 fields), found 2",
  );
  assert.match(
    problem("read a short\n"),
    /^tokens file \/t:1: the token of a has 5 characters; at least 32/,
  );
  assert.match(problem(`read a ${READ}x"\n`), /^tokens file \/t:1: the token of a has characters/);
  assert.equal(
    problem(`read a ${READ}\noperate a ${OPERATE}\n`),
    "tokens file /t:2: name a is already used on line 1",
  );
  assert.equal(
    problem(`read a ${READ}\noperate b ${READ}\n`),
    "tokens file /t:2: the token of b is the same as line 1's",
  );
  assert.match(problem("# nothing\n"), /^tokens file \/t holds no token/);
});

test("the tokens file is refused when missing or readable by others, like the key file", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vigil-tokens-"));
  try {
    const file = join(dir, "api-tokens");
    await assert.rejects(readTokensFile(file), (error: Error) => {
      assert.ok(error instanceof KeyFileError);
      assert.match(error.message, new RegExp(`^tokens file ${file} does not exist; create it`));
      return true;
    });
    await writeFile(file, `read grafana ${READ}\n`, { mode: 0o644 });
    await chmod(file, 0o644);
    await assert.rejects(
      readTokensFile(file),
      /tokens file .* has mode 0644; it must not be readable by group or others: chmod 600/,
    );
    await chmod(file, 0o600);
    assert.equal((await readTokensFile(file))[0]?.name, "grafana");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
