import assert from "node:assert/strict";
import { test } from "node:test";
import { parseRemovedAddress, removesVip } from "../../src/resources/agents/vip/address-events.js";

// Lines as `ip -o monitor address` (iproute2 6.x) printed them in a namespace.
const DELETED_V4 =
  "Deleted 3: v0    inet 198.18.5.6/24 scope global secondary v0\\       valid_lft forever preferred_lft forever";
const ADDED_V4 =
  "3: v0    inet 198.18.5.6/24 scope global secondary v0\\       valid_lft forever preferred_lft forever";
const DELETED_V6 =
  "Deleted 3: v0    inet6 2001:db8::5/64 scope global nodad \\       valid_lft forever preferred_lft forever";

test("a removed address is read from ip monitor's line; added ones and other lines are not", () => {
  assert.deepEqual(parseRemovedAddress(DELETED_V4), {
    device: "v0",
    family: 4,
    address: "198.18.5.6",
    value: (198n << 24n) | (18n << 16n) | (5n << 8n) | 6n,
  });
  assert.equal(parseRemovedAddress(DELETED_V6)?.address, "2001:db8::5");
  assert.equal(parseRemovedAddress(DELETED_V6)?.family, 6);
  assert.equal(
    parseRemovedAddress("Deleted 12: eth0@if13    inet 198.18.0.9/24 scope global eth0")?.device,
    "eth0",
  );
  for (const line of [
    ADDED_V4,
    "",
    "Deleted",
    "Deleted 3: v0    inet 999.1.1.1/24 x",
    "Deleted 3: v0 link/ether",
  ]) {
    assert.equal(parseRemovedAddress(line), null, line);
  }
});

test("a removed address matches a vip resource's address whatever the spelling, and its interface when one is named", () => {
  const removed = parseRemovedAddress(DELETED_V6);
  assert.ok(removed !== null);
  assert.equal(removesVip(removed, { address: "2001:db8:0::5/64" }), true);
  assert.equal(removesVip(removed, { address: "2001:db8::5/64", interface: "v0" }), true);
  assert.equal(removesVip(removed, { address: "2001:db8::5/64", interface: "eth1" }), false);
  assert.equal(removesVip(removed, { address: "2001:db8::6/64" }), false);
  const v4 = parseRemovedAddress(DELETED_V4);
  assert.ok(v4 !== null);
  assert.equal(removesVip(v4, { address: "198.18.5.6/24" }), true);
  // A resource whose parameters the agent could not use never matches (and never throws).
  assert.equal(removesVip(v4, {}), false);
  assert.equal(removesVip(v4, { address: "not an address" }), false);
});
