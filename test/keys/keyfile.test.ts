import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmod,
  chown,
  mkdir,
  mkdtemp,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { generateKey, KeyFileError, readKeyFile } from "../../src/keys/keyfile.js";
import { Keyring } from "../../src/wire/keyring.js";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "vigil-keyfile-test-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let fileCount = 0;
/** A fresh path in the test directory. */
function freshPath(): string {
  fileCount += 1;
  return join(dir, `authkeys-${fileCount}`);
}

async function writeKeyFile(text: string, mode = 0o600): Promise<string> {
  const path = freshPath();
  await writeFile(path, text, { mode });
  await chmod(path, mode); // writeFile's mode is filtered by the umask
  return path;
}

function secret(bytes = 32): string {
  return randomBytes(bytes).toString("base64");
}

async function keyFileErrorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof KeyFileError, `expected a KeyFileError, got ${String(error)}`);
    return error.message;
  }
  assert.fail("expected a KeyFileError");
}

test("generateKey creates a 0600 file (and a 0700 directory) holding key 1, which reads back", async () => {
  const path = join(dir, "new-dir", "authkeys");
  assert.deepEqual(await generateKey(path, {}), { id: 1, created: true });
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  assert.equal((await stat(join(dir, "new-dir"))).mode & 0o777, 0o700);
  const keys = await readKeyFile(path);
  assert.equal(keys.length, 1);
  assert.equal(keys[0]!.id, 1);
  assert.equal(keys[0]!.secret.length, 32);
});

test("generateKey on an existing file appends the next id and keeps the earlier keys", async () => {
  const path = freshPath();
  await generateKey(path, {});
  const [first] = await readKeyFile(path);
  assert.deepEqual(await generateKey(path, {}), { id: 2, created: false });
  const keys = await readKeyFile(path);
  assert.deepEqual(
    keys.map((key) => key.id),
    [1, 2],
  );
  assert.ok(keys[0]!.secret.equals(first!.secret), "key 1 is unchanged");
  assert.ok(!keys[1]!.secret.equals(first!.secret), "key 2 is a new secret");
  assert.equal(new Keyring(keys).signKeyId, 2, "agents sign with the newest key");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test("generateKey takes an explicit id and refuses one already present", async () => {
  const path = freshPath();
  await generateKey(path, {});
  assert.deepEqual(await generateKey(path, { id: 7 }), { id: 7, created: false });
  assert.deepEqual(await generateKey(path, {}), { id: 8, created: false });
  const message = await keyFileErrorOf(generateKey(path, { id: 7 }));
  assert.equal(
    message,
    `key file ${path} already holds key 7; pick another id (highest in use: 8)`,
  );
  assert.deepEqual(
    (await readKeyFile(path)).map((key) => key.id),
    [1, 7, 8],
  );
});

test("generateKey keeps comments and refuses ids past 255", async () => {
  const path = await writeKeyFile(`# rotated 2024\n255 ${secret()}`);
  const message = await keyFileErrorOf(generateKey(path, {}));
  assert.match(message, /already holds key 255, the highest id/);
  assert.deepEqual(await generateKey(path, { id: 3 }), { id: 3, created: false });
  const text = await readFile(path, "utf8");
  assert.ok(text.startsWith("# rotated 2024\n255 "));
  assert.deepEqual(
    (await readKeyFile(path)).map((key) => key.id),
    [255, 3],
  );
});

test("a key file readable by group or others is refused with the chmod to run", async () => {
  const path = await writeKeyFile(`1 ${secret()}\n`, 0o644);
  assert.equal(
    await keyFileErrorOf(readKeyFile(path)),
    `key file ${path} has mode 0644; it must not be readable by group or others: chmod 600 ${path}`,
  );
  const writable = await writeKeyFile(`1 ${secret()}\n`, 0o620);
  assert.match(
    await keyFileErrorOf(readKeyFile(writable)),
    /has mode 0620; it must not be writable or executable by group or others/,
  );
  // Rotation must not quietly accept (and keep) an exposed file either.
  assert.match(await keyFileErrorOf(generateKey(path, {})), /has mode 0644/);
});

test("a missing key file says how to create it", async () => {
  const path = join(dir, "absent");
  assert.equal(
    await keyFileErrorOf(readKeyFile(path)),
    `key file ${path} does not exist; create it with: vigil keygen --file ${path}, then copy it to every node`,
  );
});

test("comments and blank lines are ignored", async () => {
  const path = await writeKeyFile(
    `# cluster keys\n\n1 ${secret()}  # the first\n   \n2\t${secret(48)}\n`,
  );
  const keys = await readKeyFile(path);
  assert.deepEqual(
    keys.map((key) => [key.id, key.secret.length]),
    [
      [1, 32],
      [2, 48],
    ],
  );
});

test("an empty key file is refused, and keygen gives it key 1", async () => {
  const path = await writeKeyFile("# no keys yet\n\n");
  assert.equal(
    await keyFileErrorOf(readKeyFile(path)),
    `key file ${path} holds no keys; add one with: vigil keygen --file ${path}`,
  );
  assert.deepEqual(await generateKey(path, {}), { id: 1, created: false });
  assert.deepEqual(
    (await readKeyFile(path)).map((key) => key.id),
    [1],
  );
});

test("malformed lines are reported with their line number and without the secret", async () => {
  const oneField = await writeKeyFile(`# keys\n1 ${secret()}\n${secret()}\n`);
  assert.equal(
    await keyFileErrorOf(readKeyFile(oneField)),
    `key file ${oneField} line 3: expected "ID SECRET_BASE64" (a key id, a space, a base64 secret), got 1 field`,
  );
  const badBase64 = await writeKeyFile(`1 ${secret()}\n\n2 not*base64!!\n`);
  assert.equal(
    await keyFileErrorOf(readKeyFile(badBase64)),
    `key file ${badBase64} line 3: the secret of key 2 is not valid base64`,
  );
});

test("ids outside 1..255, duplicate ids and short secrets are refused", async () => {
  const zero = await writeKeyFile(`0 ${secret()}\n`);
  assert.equal(
    await keyFileErrorOf(readKeyFile(zero)),
    `key file ${zero} line 1: the key id must be a number from 1 to 255`,
  );
  const big = await writeKeyFile(`256 ${secret()}\n`);
  assert.match(
    await keyFileErrorOf(readKeyFile(big)),
    /line 1: the key id must be a number from 1 to 255/,
  );
  const duplicate = await writeKeyFile(`1 ${secret()}\n# again\n1 ${secret()}\n`);
  assert.equal(
    await keyFileErrorOf(readKeyFile(duplicate)),
    `key file ${duplicate} line 3: key id 1 is already used on line 1; each key needs its own id`,
  );
  const short = await writeKeyFile(`4 ${secret(16)}\n`);
  assert.equal(
    await keyFileErrorOf(readKeyFile(short)),
    `key file ${short} line 1: the secret of key 4 is 16 bytes; at least 32 random bytes are required (vigil keygen makes one)`,
  );
});

/** Tests that hand a file to another user need root (the suite runs as root in CI). */
const asRoot = { skip: process.geteuid?.() !== 0 ? "needs root to chown" : false };
const NOBODY = 65534;

test("a FIFO as the key file is refused at once instead of hanging the agent", {
  timeout: 5_000,
}, async () => {
  const path = freshPath();
  execFileSync("mkfifo", ["-m", "600", path]);
  assert.equal(
    await keyFileErrorOf(readKeyFile(path)),
    `key file ${path} is not a regular file (it is a FIFO)`,
  );
});

test("a symbolic link as the key file is refused, not followed", async () => {
  const target = await writeKeyFile(`1 ${secret()}\n`);
  const path = freshPath();
  await symlink(target, path);
  assert.equal(
    await keyFileErrorOf(readKeyFile(path)),
    `key file ${path} is a symbolic link; set keys.file to the file it points to`,
  );
});

test(
  "a key file owned by another user is refused: that user could replace the cluster key",
  asRoot,
  async () => {
    const path = await writeKeyFile(`1 ${secret()}\n`);
    await chown(path, NOBODY, NOBODY);
    assert.equal(
      await keyFileErrorOf(readKeyFile(path)),
      `key file ${path} is owned by uid ${NOBODY}; it must be owned by root or by the user running vigil (uid 0), or that user could replace the cluster key: chown root ${path}`,
    );
  },
);

test(
  "a key directory that group or others may write, or another user owns, is refused",
  asRoot,
  async () => {
    const directory = join(dir, "shared-dir");
    await mkdir(directory);
    const path = join(directory, "authkeys");
    await writeFile(path, `1 ${secret()}\n`, { mode: 0o600 });
    await chmod(directory, 0o1777);
    assert.equal(
      await keyFileErrorOf(readKeyFile(path)),
      `key directory ${directory} has mode 1777; it must not be writable by group or others, who could replace the key file: chmod go-w ${directory}`,
    );
    // keygen must not write a new key there either.
    assert.match(await keyFileErrorOf(generateKey(path, {})), /key directory .* has mode 1777/);
    assert.match(
      await keyFileErrorOf(generateKey(join(directory, "fresh"), {})),
      /key directory .* has mode 1777/,
    );
    await chmod(directory, 0o755);
    await chown(directory, NOBODY, NOBODY);
    assert.equal(
      await keyFileErrorOf(readKeyFile(path)),
      `key directory ${directory} is owned by uid ${NOBODY}; it must be owned by root or by the user running vigil (uid 0), or that user could replace the cluster key: chown root ${directory}`,
    );
    await chown(directory, 0, 0);
    assert.equal((await readKeyFile(path)).length, 1, "a root-owned 0755 directory is fine");
  },
);
