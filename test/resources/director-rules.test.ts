/**
 * The director's pure parts: which servers get new connections and by what share, the nft table
 * that says so, and the ipvsadm commands that would.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import type { VirtualService } from "../../src/resource-model/virtual-service.js";
import {
  directorRules,
  isHealthy,
  slotRanges,
  weightedSequence,
} from "../../src/resources/agents/director/director-rules.js";
import {
  ipvsCommands,
  ipvsDeleteCommand,
  ipvsService,
} from "../../src/resources/agents/director/ipvs-commands.js";
import {
  directorTableName,
  nftApplyScript,
  nftRemoveScript,
} from "../../src/resources/agents/director/nft-script.js";
import { WEB } from "./director-fixtures.js";

const allHealthy = () => true;
const failing =
  (...addresses: string[]) =>
  (server: { address: string }) =>
    !addresses.includes(server.address);

describe("the rules: who gets new connections", () => {
  test("every healthy server by its weight; rr gives each the same share", () => {
    assert.deepEqual(
      directorRules(WEB, allHealthy).targets.map((t) => `${t.address}*${t.weight}`),
      ["198.18.1.11*3", "198.18.1.12*2", "198.18.1.13*1"],
    );
    assert.deepEqual(
      directorRules({ ...WEB, scheduler: "rr" }, allHealthy).targets.map((t) => t.weight),
      [1, 1, 1],
    );
  });

  test("a failing server and a weight-0 server get none; with none left, the sorry server; without one, nobody", () => {
    const drained = {
      ...WEB,
      realServers: WEB.realServers.map((s, i) => (i === 2 ? { ...s, weight: 0 } : s)),
    };
    const rules = directorRules(drained, failing("198.18.1.11"));
    assert.deepEqual(
      rules.targets.map((t) => t.address),
      ["198.18.1.12"],
    );
    assert.equal(rules.sorry, false);
    const none = directorRules(WEB, () => false);
    assert.deepEqual(none.targets, [{ address: "198.18.1.19", port: 8080, weight: 1 }]);
    assert.equal(none.sorry, true);
    const { sorryServer: _, ...noSorry } = WEB;
    assert.deepEqual(directorRules(noSorry, () => false).targets, []);
  });

  test("healthy unless its check says failing: no check, or no verdict yet, counts as healthy", () => {
    const verdicts: Record<string, "unknown" | "passing" | "failing"> = {
      web1: "failing",
      web2: "unknown",
    };
    const healthy = WEB.realServers.map((s) => isHealthy(s, (c) => verdicts[c] ?? "passing"));
    assert.deepEqual(healthy, [false, true, true]);
  });
});

describe("weights expanded into slots", () => {
  test("weights 3, 2, 1 interleave: no server takes two slots in a row while another could", () => {
    assert.deepEqual(weightedSequence([3, 2, 1]), [0, 1, 0, 2, 1, 0]);
    assert.deepEqual(weightedSequence([3, 1]), [0, 0, 1, 0]);
  });

  test("property: every target has exactly its weight in slots, and the ranges cover 0..total-1 once", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 64 }),
        (weights) => {
          const sequence = weightedSequence(weights);
          const total = weights.reduce((a, b) => a + b, 0);
          assert.equal(sequence.length, total);
          const counts = weights.map(() => 0);
          for (const target of sequence) counts[target] = (counts[target] ?? 0) + 1;
          assert.deepEqual(counts, weights);
          const ranges = slotRanges(sequence);
          let next = 0;
          for (const range of ranges) {
            assert.equal(range.from, next, "ranges are contiguous and in order");
            assert.ok(range.to >= range.from);
            for (let slot = range.from; slot <= range.to; slot++)
              assert.equal(sequence[slot], range.target);
            next = range.to + 1;
          }
          assert.equal(next, total);
        },
      ),
    );
  });

  test("property: over any window of total slots, each target's count is within one of its share", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 10 }),
        (weights) => {
          const sequence = weightedSequence(weights);
          const total = sequence.length;
          // A prefix of k slots gives target i about k * w_i / total (smooth WRR's bound: < 1 off).
          for (let k = 1; k <= total; k++) {
            const counts = weights.map(() => 0);
            for (const target of sequence.slice(0, k)) counts[target] = (counts[target] ?? 0) + 1;
            weights.forEach((weight, i) => {
              assert.ok(Math.abs((counts[i] ?? 0) - (k * weight) / total) < weights.length);
            });
          }
        },
      ),
    );
  });
});

describe("the nft table", () => {
  const table = directorTableName("web-lvs");

  test("wrr: one table replaced whole, a numgen map over the weighted slots", () => {
    assert.equal(
      nftApplyScript(table, directorRules(WEB, allHealthy)),
      [
        "table ip vigil-lvs-web-lvs {}",
        "delete table ip vigil-lvs-web-lvs",
        "table ip vigil-lvs-web-lvs {",
        "\tchain prerouting {",
        "\t\ttype nat hook prerouting priority dstnat; policy accept;",
        "\t\tip daddr 198.18.0.100 tcp dport 80 dnat ip to numgen inc mod 6 map { 0 : 198.18.1.11 . 8080, 1 : 198.18.1.12 . 8080, 2 : 198.18.1.11 . 8080, 3 : 198.18.1.13 . 80, 4 : 198.18.1.12 . 8080, 5 : 198.18.1.11 . 8080 }",
        "\t}",
        "}",
        "",
      ].join("\n"),
    );
  });

  test("sh hashes the client's address; masquerade adds this service's SNAT; udp", () => {
    const script = nftApplyScript(
      table,
      directorRules(
        {
          ...WEB,
          scheduler: "sh",
          protocol: "udp",
          port: 53,
          masquerade: true,
          realServers: [
            { address: "198.18.1.11", port: 53, weight: 2 },
            { address: "198.18.1.12", port: 53, weight: 1 },
          ],
        },
        allHealthy,
      ),
    );
    assert.match(
      script,
      /\t\tip daddr 198\.18\.0\.100 udp dport 53 dnat ip to jhash ip saddr mod 3 map \{ 0 : 198\.18\.1\.11 \. 53, 1 : 198\.18\.1\.12 \. 53, 2 : 198\.18\.1\.11 \. 53 \}\n/,
    );
    assert.match(
      script,
      /\tchain postrouting \{\n\t\ttype nat hook postrouting priority srcnat; policy accept;\n\t\tmeta l4proto udp ct status dnat ct original ip daddr 198\.18\.0\.100 ct original proto-dst 53 masquerade\n\t\}\n\}\n$/,
    );
  });

  test("one target (the sorry server) is a plain dnat; no target, no rule", () => {
    const sorry = nftApplyScript(
      table,
      directorRules(WEB, () => false),
    );
    assert.match(
      sorry,
      /\t\tip daddr 198\.18\.0\.100 tcp dport 80 dnat ip to 198\.18\.1\.19:8080\n/,
    );
    const { sorryServer: _, ...noSorry } = WEB;
    const none = nftApplyScript(
      table,
      directorRules(noSorry, () => false),
    );
    assert.doesNotMatch(none, /dnat/);
    assert.match(
      none,
      /chain prerouting \{\n\t\ttype nat hook prerouting priority dstnat; policy accept;\n\t\}/,
    );
  });

  test("IPv6: ip6 family, bracketed single target", () => {
    const v6: VirtualService = {
      ...WEB,
      family: 6,
      address: "2001:db8::100",
      realServers: [{ address: "2001:db8::11", port: 80, weight: 1 }],
      sorryServer: { address: "2001:db8::19", port: 80 },
    };
    const script = nftApplyScript("t6", directorRules(v6, allHealthy));
    assert.match(script, /^table ip6 t6 \{\}\ndelete table ip6 t6\n/);
    assert.match(script, /ip6 daddr 2001:db8::100 tcp dport 80 dnat ip6 to \[2001:db8::11\]:80/);
  });

  test("removal succeeds whether or not the table is there; table names stay nft identifiers", () => {
    assert.equal(nftRemoveScript(table, 4), `table ip ${table} {}\ndelete table ip ${table}\n`);
    assert.equal(directorTableName("web.lvs:0"), "vigil-lvs-web_lvs_0");
  });
});

describe("ipvsadm commands", () => {
  const service = ipvsService(directorRules(WEB, allHealthy));

  test("from nothing: the service, then each real server masqueraded with its weight", () => {
    assert.deepEqual(ipvsCommands(null, service), [
      ["-A", "-t", "198.18.0.100:80", "-s", "wrr"],
      ["-a", "-t", "198.18.0.100:80", "-r", "198.18.1.11:8080", "-m", "-w", "3"],
      ["-a", "-t", "198.18.0.100:80", "-r", "198.18.1.12:8080", "-m", "-w", "2"],
      ["-a", "-t", "198.18.0.100:80", "-r", "198.18.1.13:80", "-m", "-w", "1"],
    ]);
    assert.deepEqual(ipvsDeleteCommand(service), ["-D", "-t", "198.18.0.100:80"]);
  });

  test("a server failing is deleted; all failing: the sorry server in, the last one out; the same again: nothing", () => {
    const without = ipvsService(directorRules(WEB, failing("198.18.1.12")));
    assert.deepEqual(ipvsCommands(service, without), [
      ["-d", "-t", "198.18.0.100:80", "-r", "198.18.1.12:8080"],
    ]);
    const sorry = ipvsService(directorRules(WEB, () => false));
    assert.deepEqual(ipvsCommands(without, sorry), [
      ["-a", "-t", "198.18.0.100:80", "-r", "198.18.1.19:8080", "-m", "-w", "1"],
      ["-d", "-t", "198.18.0.100:80", "-r", "198.18.1.11:8080"],
      ["-d", "-t", "198.18.0.100:80", "-r", "198.18.1.13:80"],
    ]);
    assert.deepEqual(ipvsCommands(sorry, sorry), []);
  });

  test("a new scheduler or weight is edited in place; udp and IPv6 spelled as ipvsadm wants", () => {
    const rr = ipvsService(directorRules({ ...WEB, scheduler: "rr" }, allHealthy));
    assert.deepEqual(ipvsCommands(service, rr), [
      ["-E", "-t", "198.18.0.100:80", "-s", "rr"],
      ["-e", "-t", "198.18.0.100:80", "-r", "198.18.1.11:8080", "-m", "-w", "1"],
      ["-e", "-t", "198.18.0.100:80", "-r", "198.18.1.12:8080", "-m", "-w", "1"],
    ]);
    const v6 = ipvsService(
      directorRules(
        {
          ...WEB,
          family: 6,
          protocol: "udp",
          address: "2001:db8::100",
          realServers: [{ address: "2001:db8::11", port: 53, weight: 1 }],
        },
        allHealthy,
      ),
    );
    assert.deepEqual(ipvsCommands(null, v6), [
      ["-A", "-u", "[2001:db8::100]:80", "-s", "wrr"],
      ["-a", "-u", "[2001:db8::100]:80", "-r", "[2001:db8::11]:53", "-m", "-w", "1"],
    ]);
  });

  test("property: applying the commands of any change to a model of IPVS gives exactly the next service", () => {
    const server = fc.record({
      address: fc.constantFrom("198.18.1.1", "198.18.1.2", "198.18.1.3", "198.18.1.4"),
      port: fc.constantFrom(80, 8080),
      weight: fc.integer({ min: 1, max: 5 }),
    });
    const state = fc.record({
      scheduler: fc.constantFrom("rr" as const, "wrr" as const, "sh" as const),
      servers: fc.uniqueArray(server, { selector: (s) => `${s.address}:${s.port}`, maxLength: 5 }),
    });
    fc.assert(
      fc.property(fc.option(state, { nil: null }), state, (before, after) => {
        const toService = (s: {
          scheduler: "rr" | "wrr" | "sh";
          servers: typeof after.servers;
        }) => ({
          protocol: "tcp" as const,
          service: "198.18.0.100:80",
          ...s,
        });
        const previous = before === null ? null : toService(before);
        const next = toService(after);
        const kernel: { scheduler: string | null; servers: Map<string, number> } = {
          scheduler: previous?.scheduler ?? null,
          servers: new Map(
            (previous?.servers ?? []).map((s) => [`${s.address}:${s.port}`, s.weight]),
          ),
        };
        for (const command of ipvsCommands(previous, next)) {
          const [op, , , , value, , , weight] = command;
          if (op === "-A") {
            assert.equal(kernel.scheduler, null);
            kernel.scheduler = value ?? null;
          } else if (op === "-E") kernel.scheduler = value ?? null;
          else if (op === "-a") {
            assert.ok(!kernel.servers.has(value!), `added twice: ${value}`);
            kernel.servers.set(value!, Number(weight));
          } else if (op === "-e") {
            assert.ok(kernel.servers.has(value!));
            kernel.servers.set(value!, Number(weight));
          } else if (op === "-d") assert.ok(kernel.servers.delete(value!));
        }
        assert.equal(kernel.scheduler, next.scheduler);
        assert.deepEqual(
          new Map(next.servers.map((s) => [`${s.address}:${s.port}`, s.weight])),
          kernel.servers,
        );
      }),
    );
  });
});
