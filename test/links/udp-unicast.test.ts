import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { LinkConfig } from "../../src/config/schema.js";
import type { LinkNode } from "../../src/links/attachments.js";
import { createLink } from "../../src/links/create-link.js";
import type { Link } from "../../src/links/link.js";
import { UdpLink } from "../../src/links/udp-link.js";
import { freeUdpPorts, Inbox } from "./support.js";

const ring0: LinkConfig = { name: "ring0", type: "ucast", port: 694 };

function node(id: number, name: string, links: LinkNode["links"]): LinkNode {
  return { id, name, links };
}

const opened: Link[] = [];
after(async () => {
  await Promise.all(opened.map((link) => link.close()));
});

async function openLink(link: Link): Promise<Inbox> {
  opened.push(link);
  return new Inbox().open(link);
}

test("two ucast links on 127.0.0.1 exchange frames and count them", async () => {
  const [portA, portB] = (await freeUdpPorts(2)) as [number, number];
  const alpha = node(1, "alpha", { ring0: { address: "127.0.0.1", port: portA } });
  const beta = node(2, "beta", { ring0: { address: "127.0.0.1", port: portB } });
  // gamma is not on ring0: nothing may be sent its way.
  const gamma = node(3, "gamma", { ring1: { address: "127.0.0.1", port: 1 } });
  const linkA = createLink(ring0, alpha, [beta, gamma]);
  const linkB = createLink(ring0, beta, [alpha, gamma]);
  const inboxA = await openLink(linkA);
  const inboxB = await openLink(linkB);
  assert.equal(linkA.name, "ring0");
  assert.equal(linkA.kind, "ucast");

  linkA.broadcast(Buffer.from("from alpha"));
  linkB.broadcast(Buffer.from("from beta 1"));
  linkB.broadcast(Buffer.from("from beta 2"));

  const atB = await inboxB.waitForFrames(1, "beta to receive alpha's frame");
  const atA = await inboxA.waitForFrames(2, "alpha to receive beta's frames");
  assert.deepEqual(
    atB.map((frame) => [frame.bytes.toString(), frame.from]),
    [["from alpha", `127.0.0.1:${portA}`]],
  );
  assert.deepEqual(atA.map((frame) => [frame.bytes.toString(), frame.from]).sort(), [
    ["from beta 1", `127.0.0.1:${portB}`],
    ["from beta 2", `127.0.0.1:${portB}`],
  ]);
  assert.deepEqual(linkA.counters(), {
    framesSent: 1,
    framesReceived: 2,
    sendErrors: 0,
    framingErrors: 0,
  });
  assert.deepEqual(linkB.counters(), {
    framesSent: 2,
    framesReceived: 1,
    sendErrors: 0,
    framingErrors: 0,
  });
  assert.deepEqual([...inboxA.errors, ...inboxB.errors], []);
});

test("one datagram per attached peer; a peer without a port override uses the link's", async () => {
  const [portA, portB, portC] = (await freeUdpPorts(3)) as [number, number, number];
  const link: LinkConfig = { name: "ring0", type: "ucast", port: portC };
  const alpha = node(1, "alpha", { ring0: { address: "127.0.0.1", port: portA } });
  const beta = node(2, "beta", { ring0: { address: "127.0.0.1", port: portB } });
  const gamma = node(3, "gamma", { ring0: { address: "127.0.0.1" } });
  const linkA = createLink(link, alpha, [beta, gamma]);
  const inboxB = await openLink(createLink(link, beta, [alpha, gamma]));
  const inboxC = await openLink(createLink(link, gamma, [alpha, beta]));
  await openLink(linkA);

  linkA.broadcast(Buffer.from("hello both"));

  const [atB] = await inboxB.waitForFrames(1, "beta to receive");
  const [atC] = await inboxC.waitForFrames(1, "gamma to receive on the link port");
  assert.equal(atB?.bytes.toString(), "hello both");
  assert.equal(atC?.bytes.toString(), "hello both");
  assert.equal(linkA.counters().framesSent, 2);
});

test("a taken port rejects open() naming the link, address and port", async () => {
  const [port] = (await freeUdpPorts(1)) as [number];
  const alpha = node(1, "alpha", { ring0: { address: "127.0.0.1", port } });
  await openLink(createLink(ring0, alpha, []));
  const second = createLink(ring0, alpha, []);
  await assert.rejects(second.open(noFrame, noError), {
    name: "LinkError",
    message: `link ring0: cannot listen on 127.0.0.1:${port}: address already in use`,
  });
  // A failed link can still be closed, and sending on it is counted, not thrown.
  second.broadcast(Buffer.from("x"));
  assert.equal(second.counters().sendErrors, 1);
  await second.close();
});

test("send errors are counted and reported, never thrown", async () => {
  const [port] = (await freeUdpPorts(1)) as [number];
  const alpha = node(1, "alpha", { ring0: { address: "127.0.0.1", port } });
  // A socket bound to loopback cannot reach a non-loopback address: the kernel says EINVAL.
  const far = node(2, "far", { ring0: { address: "198.18.255.1", port: 9 } });
  const link = createLink(ring0, alpha, [far]);
  const inbox = await openLink(link);

  assert.doesNotThrow(() => link.broadcast(Buffer.from("lost")));

  const [error] = await inbox.waitForErrors(1, "the send error to be reported");
  assert.match(error?.message ?? "", /^link ring0: send to 198\.18\.255\.1:9 failed: /);
  assert.deepEqual(link.counters(), {
    framesSent: 0,
    framesReceived: 0,
    sendErrors: 1,
    framingErrors: 0,
  });
});

test("close() is idempotent; broadcast() after close counts an error and does not throw", async () => {
  const [port] = (await freeUdpPorts(1)) as [number];
  const alpha = node(1, "alpha", { ring0: { address: "127.0.0.1", port } });
  const link = createLink(ring0, alpha, []);
  const inbox = await openLink(link);
  await Promise.all([link.close(), link.close()]);
  await link.close();
  link.broadcast(Buffer.from("too late"));
  assert.equal(link.counters().sendErrors, 1);
  assert.match(inbox.errors[0]?.message ?? "", /^link ring0: cannot send: link is closed$/);
  // The port is free again.
  await openLink(createLink(ring0, alpha, []));
});

test("close() while open() is still binding leaves no socket behind", async () => {
  const [port] = (await freeUdpPorts(1)) as [number];
  const alpha = node(1, "alpha", { ring0: { address: "127.0.0.1", port } });
  const link = createLink(ring0, alpha, []);
  const opening = link.open(noFrame, noError);
  await link.close();
  await opening;
  await openLink(createLink(ring0, alpha, []));
});

test("a second open() is refused", async () => {
  const [port] = (await freeUdpPorts(1)) as [number];
  const link = createLink(ring0, node(1, "alpha", { ring0: { address: "127.0.0.1", port } }), []);
  await openLink(link);
  await assert.rejects(
    link.open(noFrame, noError),
    /^LinkError: link ring0: cannot open a link that is open$/,
  );
});

test("configuration that cannot work is refused by createLink, naming link and node", () => {
  assert.throws(() => createLink(ring0, node(1, "alpha", { ring0: {} }), []), {
    message: "link ring0: node alpha needs an address on ucast link ring0",
  });
  assert.throws(
    () =>
      createLink(ring0, node(1, "alpha", { ring0: { address: "127.0.0.1" } }), [
        node(2, "beta", { ring0: { port: 700 } }),
      ]),
    { message: "link ring0: peer beta needs an address on ucast link ring0" },
  );
  assert.throws(() => createLink(ring0, node(1, "alpha", {}), []), {
    message: "link ring0: node alpha is not attached to this link",
  });
});

function noFrame(): void {}
function noError(): void {}

test("a destination given as a host name is still resolved before sending", async () => {
  // Configured addresses are IPv4 literals and skip the resolver; anything else must not.
  const [portA, portB] = (await freeUdpPorts(2)) as [number, number];
  const sender = new UdpLink("ring0", "ucast", () => ({
    bind: { address: "127.0.0.1", port: portA },
    reuseAddr: false,
    destinations: [{ address: "localhost", port: portB, peerId: 2 }],
  }));
  const receiver = createLink(
    ring0,
    node(2, "beta", { ring0: { address: "127.0.0.1", port: portB } }),
    [],
  );
  await openLink(sender);
  const inbox = await openLink(receiver);
  sender.broadcast(Buffer.from("by name"));
  const [frame] = await inbox.waitForFrames(1, "the frame sent to localhost");
  assert.equal(frame?.bytes.toString(), "by name");
  assert.equal(sender.counters().framesSent, 1);
});
