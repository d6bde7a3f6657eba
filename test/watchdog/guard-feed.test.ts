import assert from "node:assert/strict";
import { test } from "node:test";
import { GuardFeed, type GuardFeedInput } from "../../src/watchdog/guard-feed.js";
import type { HeldResource } from "../../src/watchdog/guard-protocol.js";

const VIP: HeldResource = Object.freeze<HeldResource>({
  key: "ip",
  agent: { kind: "vip", name: "vip" },
  params: { address: "198.18.0.100/24" },
  timeoutMs: 2000,
});

function input(held: readonly HeldResource[]): GuardFeedInput {
  return { held, busy: () => false, running: held.length > 0, leaseRemainingMs: 400 };
}

test("a hold is told once: again the same object, or an equal one, says nothing; a change says it again", () => {
  const feed = new GuardFeed();
  assert.deepEqual(
    feed.feed(input([VIP]), 1000).map((message) => message.kind),
    ["hold", "lease"],
  );
  assert.deepEqual(feed.hold(VIP), []);
  assert.deepEqual(feed.hold({ ...VIP, params: { ...VIP.params } }), []);
  const moved = { ...VIP, params: { address: "198.18.0.101/24" } };
  assert.deepEqual(feed.hold(moved), [{ kind: "hold", resource: moved }]);
  assert.deepEqual(feed.hold(VIP), [{ kind: "hold", resource: VIP }]);
});

test("a drop forgets the hold: the same object held again is told again", () => {
  const feed = new GuardFeed();
  feed.feed(input([VIP]), 1000);
  assert.deepEqual(
    feed.feed(input([]), 1100).map((message) => message.kind),
    ["drop", "idle"],
  );
  assert.deepEqual(
    feed.feed(input([VIP]), 1200).map((message) => message.kind),
    ["hold", "lease"],
  );
});
