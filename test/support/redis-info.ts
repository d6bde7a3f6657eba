/** `redis-cli INFO <section>` output as field → value ("role" → "slave"). */
export function parseRedisInfo(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split("\n")
      .map((line) => line.trim().split(":"))
      .filter((pair) => pair.length === 2),
  ) as Record<string, string>;
}
