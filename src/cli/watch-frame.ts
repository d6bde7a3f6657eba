/** What one refresh of `vigil status --watch` shows, and how it reaches the screen. */
export interface WatchFrame {
  /** The status as `vigil status` prints it, or why it could not be had this time. */
  body: string;
  atMs: number;
  intervalMs: number;
  /** The last refresh failed: the body is the error, and the command keeps trying. */
  failed: boolean;
}

/** Cursor home; clear to the end of the line; clear everything below the cursor. */
const HOME = "\x1b[H";
const CLEAR_LINE_END = "\x1b[K";
const CLEAR_BELOW = "\x1b[J";

function header(frame: WatchFrame): string {
  const at = new Date(frame.atMs).toISOString();
  return frame.failed
    ? `${at}  no status (retrying every ${frame.intervalMs} ms)`
    : `${at}  every ${frame.intervalMs} ms`;
}

/**
 * A terminal: the frame over the last one, line by line, each line's old rest cleared, then
 * whatever the last frame had below it; no full-screen clear, so nothing flickers. It ends on
 * a new line, where the shell's prompt comes after Ctrl-C.
 */
export function terminalFrame(frame: WatchFrame): string {
  const lines = [`${header(frame)}  (Ctrl-C to stop)`, "", ...frame.body.split("\n")];
  return `${HOME}${lines.map((line) => `${line}${CLEAR_LINE_END}`).join("\n")}\n${CLEAR_BELOW}`;
}

/** A pipe or a file: each snapshot in full after a dated separator line, no escape codes. */
export function plainFrame(frame: WatchFrame): string {
  return `--- ${header(frame)}\n${frame.body}\n\n`;
}
