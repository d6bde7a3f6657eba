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
  assert.deepEqual(feed.hold(VIP, null, 1010), []);
  assert.deepEqual(feed.hold({ ...VIP, params: { ...VIP.params } }, null, 1020), []);
  const moved = { ...VIP, params: { address: "198.18.0.101/24" } };
  assert.deepEqual(feed.hold(moved, null, 1030), [{ kind: "hold", resource: moved }]);
  assert.deepEqual(feed.hold(VIP, null, 1040), [{ kind: "hold", resource: VIP }]);
});

test("a new hold carries the lease it starts under: an agent frozen before its next feed leaves the guard an end to stop it by", () => {
  const feed = new GuardFeed();
  assert.deepEqual(feed.hold(VIP, 400, 1000), [
    { kind: "hold", resource: VIP },
    { kind: "lease", untilMs: 1400 },
  ]);
  // Told already: nothing, not even the lease (the feeds renew it).
  assert.deepEqual(feed.hold(VIP, 300, 1100), []);
  // No lease binds the resources (no_quorum_policy freeze or ignore), or it has ended: the hold alone.
  const other = { ...VIP, key: "ip2" };
  assert.deepEqual(feed.hold(other, null, 1200), [{ kind: "hold", resource: other }]);
  const third = { ...VIP, key: "ip3" };
  assert.deepEqual(feed.hold(third, 0, 1300), [{ kind: "hold", resource: third }]);
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
