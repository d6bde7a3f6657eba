/**
 * Splits "host:port" at its last colon; "[::1]:80" gives host "::1". Null when the port is not
 * an integer in 1..65535 or the host is empty. The schema checks a tcp connectivity target with
 * it; the probe reads the target with it.
 */
export function parseHostPort(text: string): { host: string; port: number } | null {
  const colon = text.lastIndexOf(":");
  if (colon <= 0) return null;
  let host = text.slice(0, colon);
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText)) return null;
  const port = Number(portText);
  if (port < 1 || port > 65_535) return null;
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  return host === "" ? null : { host, port };
}
