import { z } from "zod";

/** An http:// or https:// URL a node calls (a webhook, a health check), as `new URL` reads it. */
export function httpUrlSchema(example: string) {
  return z
    .string()
    .max(2048, "expected a URL of at most 2048 characters")
    .refine((text) => {
      try {
        const url = new URL(text);
        return url.protocol === "http:" || url.protocol === "https:";
      } catch {
        return false;
      }
    }, `expected an http:// or https:// URL, e.g. ${example}`);
}
