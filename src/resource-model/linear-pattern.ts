import { setFlagsFromString } from "node:v8";

// A check's pattern is matched against whatever a server sends: with V8's default backtracking
// engine a pattern such as /(a+)+b/ and a reply of forty a's would stop the agent's event loop
// for hours. The linear-time engine (the `l` flag) never backtracks; it refuses what it cannot
// run that way (backreferences, lookaround), which is then refused with the document.
setFlagsFromString("--enable-experimental-regexp-engine");

/** The pattern compiled for V8's linear-time engine; throws a SyntaxError as RegExp does. */
export function linearPattern(source: string): RegExp {
  return new RegExp(source, "l");
}
