import assert from "node:assert/strict";
import { test } from "node:test";
import { AGENT_OUTPUT_MAX_CHARS, cleanAgentOutput } from "../../src/fencing/agent-output.js";

// What Debian 12's fence_ipmilan writes on stderr when it is given no address (its ~8 lines).
const IPMILAN_NO_ADDRESS = `/usr/sbin/fence_ipmilan:5: DeprecationWarning: 'pipes' is deprecated and slated for removal in Python 3.13
  from pipes import quote
2026-12-06 08:38:38,113 ERROR: Failed: You have to enter fence address

2026-12-06 08:38:38,114 ERROR: Please use '-h' for usage

`;

test("fence_ipmilan's missing address: its error alone, without the warning, stamps or advice", () => {
  assert.equal(cleanAgentOutput(IPMILAN_NO_ADDRESS), "Failed: You have to enter fence address");
});

test("an agent that only warned said nothing", () => {
  const warningOnly = `/usr/sbin/fence_ilo:5: DeprecationWarning: 'pipes' is deprecated and slated for removal in Python 3.13
  from pipes import quote
`;
  assert.equal(cleanAgentOutput(warningOnly), "");
  assert.equal(cleanAgentOutput(""), "");
  assert.equal(cleanAgentOutput("\n\n  \n"), "");
});

test("repeated lines are shown once, the rest joined in order", () => {
  const text = [
    "2026-12-06 08:38:02,605 ERROR: Connection timed out",
    "",
    "2026-12-06 08:38:03,605 ERROR: Connection timed out",
    "2026-12-06 08:38:04,000 ERROR: Unable to obtain correct plug status or plug is not available",
  ].join("\n");
  assert.equal(
    cleanAgentOutput(text),
    "Connection timed out; Unable to obtain correct plug status or plug is not available",
  );
});

test("fence_kdump: its [error] prefix goes, its [debug] lines go", () => {
  const text = [
    "[debug]: options {        ",
    "[debug]:     nodename = db2",
    "[debug]: }                ",
    "[error]: unsupported action 'reboot'",
  ].join("\n");
  assert.equal(cleanAgentOutput(text), "unsupported action 'reboot'");
});

test("a Python traceback: the exception line, not the frames", () => {
  const text = [
    "Traceback (most recent call last):",
    '  File "/usr/sbin/fence_x", line 12, in <module>',
    "    main()",
    "ConnectionRefusedError: [Errno 111] Connection refused",
  ].join("\n");
  assert.equal(cleanAgentOutput(text), "ConnectionRefusedError: [Errno 111] Connection refused");
});

test("Python's logging warnings stay: they can be the reason", () => {
  assert.equal(
    cleanAgentOutput("WARNING:root:Parse error: Ignoring unknown option 'ipadr=10.0.0.1'\n\n"),
    "WARNING:root:Parse error: Ignoring unknown option 'ipadr=10.0.0.1'",
  );
});

test("long output is cut, and says so", () => {
  const cleaned = cleanAgentOutput(`${"x".repeat(1000)}\n`);
  assert.equal(cleaned.length, AGENT_OUTPUT_MAX_CHARS);
  assert.ok(cleaned.endsWith("…"));
});
