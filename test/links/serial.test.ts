import assert from "node:assert/strict";
import { closeSync, constants, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { LinkConfig } from "../../src/config/schema.js";
import type { LinkNode } from "../../src/links/attachments.js";
import { createLink } from "../../src/links/create-link.js";
import { SLIP_END, SLIP_ESC } from "../../src/links/slip.js";
import { hasSocat, startPtyPair } from "./pty-pair.js";
import { Inbox } from "./support.js";

const serial0: LinkConfig = { name: "serial0", type: "serial", baud: 115200 };

function node(id: number, name: string, device: string): LinkNode {
  return { id, name, links: { serial0: { device } } };
}

describe("serial links over a socat pty pair", {
  skip: hasSocat ? false : "socat not installed",
}, () => {
  test("frames cross both ways, including END and ESC bytes", async () => {
    const pty = await startPtyPair();
    const alpha = node(1, "alpha", pty.a);
    const beta = node(2, "beta", pty.b);
    const linkA = createLink(serial0, alpha, [beta]);
    const linkB = createLink(serial0, beta, [alpha]);
    try {
      const inboxA = await new Inbox().open(linkA);
      const inboxB = await new Inbox().open(linkB);
      assert.equal(linkA.kind, "serial");

      const tricky = Buffer.from([SLIP_END, 1, SLIP_ESC, SLIP_END, SLIP_ESC, 2, SLIP_END]);
      const large = Buffer.alloc(1400, SLIP_ESC);
      linkA.broadcast(tricky);
      linkA.broadcast(large);
      linkB.broadcast(Buffer.from("pong"));

      const atB = await inboxB.waitForFrames(2, "beta to receive alpha's two frames");
      const atA = await inboxA.waitForFrames(1, "alpha to receive beta's frame");
      assert.deepEqual(
        atB.map((frame) => [frame.bytes, frame.from]),
        [
          [tricky, pty.b],
          [large, pty.b],
        ],
      );
      assert.deepEqual(
        atA.map((frame) => [frame.bytes.toString(), frame.from]),
        [["pong", pty.a]],
      );
      const counters = (sent: number, received: number) => ({
        framesSent: sent,
        framesReceived: received,
        sendErrors: 0,
        framingErrors: 0,
      });
      assert.deepEqual(linkA.counters(), counters(2, 1));
      assert.deepEqual(linkB.counters(), counters(1, 2));
      assert.deepEqual([...inboxA.errors, ...inboxB.errors], []);

      await Promise.all([linkA.close(), linkB.close(), linkA.close()]);
      linkA.broadcast(Buffer.from("after close"));
      assert.equal(linkA.counters().sendErrors, 1);
    } finally {
      await Promise.all([linkA.close(), linkB.close()]);
      await pty.dispose();
    }
  });

  test("line noise is counted as framing errors and the next frame still arrives", async () => {
    const pty = await startPtyPair();
    const link = createLink(serial0, node(1, "alpha", pty.a), []);
    // The other end is a bare serial line written from here, like a noisy cable.
    const fd = openSync(pty.b, constants.O_RDWR | constants.O_NOCTTY);
    try {
      const inbox = await new Inbox().open(link);
      writeSync(fd, Buffer.from([SLIP_END, 1, SLIP_ESC, 0x42, 2, SLIP_END, SLIP_END, 7, SLIP_END]));
      const [frame] = await inbox.waitForFrames(1, "the good frame after the noise");
      assert.deepEqual(frame?.bytes, Buffer.from([7]));
      assert.equal(link.counters().framingErrors, 1);
      assert.equal(link.counters().framesReceived, 1);
    } finally {
      closeSync(fd);
      await link.close();
      await pty.dispose();
    }
  });

  test("a hangup (cable pulled) is reported; sending afterwards counts errors", async () => {
    const pty = await startPtyPair();
    const link = createLink(serial0, node(1, "alpha", pty.a), []);
    try {
      const inbox = await new Inbox().open(link);
      await pty.unplug();
      const [hangup] = await inbox.waitForErrors(1, "the hangup to be reported");
      assert.equal(hangup?.message, `link serial0: ${pty.a} was closed (hangup)`);
      assert.doesNotThrow(() => link.broadcast(Buffer.from("into the void")));
      assert.equal(link.counters().sendErrors, 1);
      assert.match(inbox.errors.at(-1)?.message ?? "", /^link serial0: write to .* failed: /);
    } finally {
      await link.close();
      await pty.dispose();
    }
  });

  test("a device that does not exist rejects open() naming link and device", async () => {
    const missing = join("/nonexistent-vigil-dir", "ttyX");
    const link = createLink(serial0, node(1, "alpha", missing), []);
    await assert.rejects(
      link.open(
        () => {},
        () => {},
      ),
      (error: Error) => {
        assert.equal(error.name, "LinkError");
        assert.ok(
          error.message.startsWith(`link serial0: cannot configure ${missing} at 115200 baud: `),
          error.message,
        );
        return true;
      },
    );
    await link.close();
  });
});

test("serial configuration errors name the link and the nodes", () => {
  assert.throws(() => createLink(serial0, { id: 1, name: "alpha", links: { serial0: {} } }, []), {
    message: "link serial0: node alpha needs a device on serial link serial0",
  });
  assert.throws(
    () =>
      createLink(serial0, node(1, "alpha", "/dev/ttyS0"), [
        node(2, "beta", "/dev/ttyS0"),
        node(3, "gamma", "/dev/ttyS1"),
      ]),
    {
      message:
        "link serial0: a serial link joins exactly two nodes, but alpha, beta, gamma are attached to it",
    },
  );
});
