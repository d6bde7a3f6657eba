import assert from "node:assert/strict";
import type { NetworkInterfaceInfo } from "node:os";
import { test } from "node:test";
import {
  broadcastAddress,
  type InterfaceTable,
  interfaceIpv4,
  interfaceWithAddress,
  isMulticastAddress,
} from "../../src/links/interfaces.js";

function ipv4(address: string, netmask: string): NetworkInterfaceInfo {
  return {
    address,
    netmask,
    family: "IPv4",
    mac: "02:00:00:00:00:01",
    internal: false,
    cidr: null,
  };
}

const table: InterfaceTable = {
  lo: [ipv4("127.0.0.1", "255.0.0.0")],
  eth1: [
    {
      address: "fe80::1",
      netmask: "ffff:ffff:ffff:ffff::",
      family: "IPv6",
      mac: "02:00:00:00:00:01",
      internal: false,
      cidr: null,
      scopeid: 2,
    },
    ipv4("198.18.1.7", "255.255.255.0"),
  ],
  eth2: [ipv4("198.18.2.130", "255.255.255.128")],
  v6only: [],
};

test("interfaceIpv4 finds the IPv4 address and derives the broadcast address", () => {
  assert.deepEqual(interfaceIpv4("eth1", table), {
    interfaceName: "eth1",
    address: "198.18.1.7",
    netmask: "255.255.255.0",
    broadcast: "198.18.1.255",
  });
  assert.equal(interfaceIpv4("eth2", table).broadcast, "198.18.2.255");
});

test("interfaceIpv4 names the missing interface and what the host has", () => {
  assert.throws(
    () => interfaceIpv4("eth9", table),
    /interface eth9 not found or not running \(interfaces up: eth1, eth2, lo, v6only\)/,
  );
  assert.throws(() => interfaceIpv4("v6only", table), /interface v6only has no IPv4 address/);
});

test("interfaceWithAddress finds the interface holding an address", () => {
  assert.equal(interfaceWithAddress("198.18.2.130", table)?.interfaceName, "eth2");
  assert.equal(interfaceWithAddress("198.18.9.9", table), undefined);
});

test("broadcastAddress covers short and long prefixes", () => {
  assert.equal(broadcastAddress("10.1.2.3", "255.0.0.0"), "10.255.255.255");
  assert.equal(broadcastAddress("198.18.0.5", "255.255.255.252"), "198.18.0.7");
  assert.equal(broadcastAddress("198.18.0.5", "255.255.255.255"), "198.18.0.5");
});

test("isMulticastAddress accepts 224/4 only", () => {
  assert.equal(isMulticastAddress("239.255.42.1"), true);
  assert.equal(isMulticastAddress("224.0.0.1"), true);
  assert.equal(isMulticastAddress("240.0.0.1"), false);
  assert.equal(isMulticastAddress("198.18.0.1"), false);
});
