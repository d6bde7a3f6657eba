/**
 * A unix socket's address holds at most 108 bytes on Linux (sun_path), the last one a NUL.
 * libuv cuts a longer path short without a word, so the agent would listen on a path other than
 * the one `vigil status` looks for: refused instead, in the configuration and at listen time.
 */
export const MAX_SOCKET_PATH_BYTES = 107;

export function socketPathTooLong(path: string): string | null {
  const bytes = Buffer.byteLength(path, "utf8");
  return bytes <= MAX_SOCKET_PATH_BYTES
    ? null
    : `a unix socket path holds at most ${MAX_SOCKET_PATH_BYTES} bytes; this one has ${bytes}: choose a shorter path`;
}
