import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { findProgram } from "../../src/resources/executor/program-path.js";

test("findProgram takes the first executable file on the path, in the path's order, as execvp does", async () => {
  const root = await mkdtemp(join(tmpdir(), "vigil-path-"));
  try {
    const dirs = ["plain", "folder", "first", "second", "empty"].map((name) => join(root, name));
    for (const dir of dirs) await mkdir(dir);
    const [plain, folder, first, second, empty] = dirs as [string, string, string, string, string];
    await writeFile(join(plain, "tool"), "#!/bin/sh\n", { mode: 0o644 }); // not executable
    await mkdir(join(folder, "tool")); // a directory of that name
    for (const dir of [first, second]) {
      await writeFile(join(dir, "tool"), "#!/bin/sh\n");
      await chmod(join(dir, "tool"), 0o755);
    }
    const path = [empty, plain, folder, second, first].join(":");
    assert.equal(await findProgram("tool", path), join(second, "tool"));
    assert.equal(await findProgram("tool", [first, second].join(":")), join(first, "tool"));
    assert.equal(await findProgram("missing", path), undefined);
    assert.equal(await findProgram("tool", [empty, plain, folder].join(":")), undefined);
    assert.equal(await findProgram("tool", ""), undefined);
    // A name with a slash is that file, wherever the path points.
    assert.equal(await findProgram(join(first, "tool"), empty), join(first, "tool"));
    assert.equal(await findProgram(join(plain, "tool"), first), undefined);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
